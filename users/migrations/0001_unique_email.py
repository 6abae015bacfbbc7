"""One account per email: a unique index on auth_user.email (blank emails excepted).

Sign-up checks the email first, but two sign-ups at once both pass that check; only the
database can refuse the second. Installations that already hold duplicates keep working: the
index is left out, with a warning naming them, until they are resolved and this migration is
run again (``migrate users zero`` then ``migrate users``).
"""

import sys

from django.db import migrations
from django.db.models import Count

INDEX = "users_unique_email"


def create_index(apps, schema_editor):
    User = apps.get_model("auth", "User")
    duplicates = list(
        User.objects.exclude(email="")
        .values("email")
        .annotate(accounts=Count("id"))
        .filter(accounts__gt=1)
        .values_list("email", flat=True)
    )
    if duplicates:
        sys.stderr.write(
            f"warning: emails used by several accounts, so they are not made unique: "
            f"{', '.join(duplicates)}\n"
        )
        return
    schema_editor.execute(
        f"CREATE UNIQUE INDEX IF NOT EXISTS {INDEX} ON auth_user (email) WHERE email <> ''"
    )


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_index, drop_index)]
