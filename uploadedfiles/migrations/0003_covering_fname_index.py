from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("uploadedfiles", "0002_owner_fname_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="uploadedfile",
            index=models.Index(fields=["owner", "-fname", "id"], name="upload_owner_fname_id"),
        ),
        migrations.RemoveIndex(model_name="uploadedfile", name="upload_owner_fname"),
    ]
