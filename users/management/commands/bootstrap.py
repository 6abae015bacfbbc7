from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chrisinstance.services import InstallationMismatch, bind_storage
from users.services import ensure_superuser


class Command(BaseCommand):
    help = (
        "Create the superuser chris (password from CHRIS_SUPERUSER_PASSWORD) and the row "
        "describing this installation, if missing, and check that the storage is this "
        "installation's."
    )

    def handle(self, *args, **options):
        user = ensure_superuser(
            username="chris",
            password=settings.CHRIS_SUPERUSER_PASSWORD,
            email="chris@babymri.org",
        )
        self.stdout.write(f"superuser {user.username} ready (id {user.pk})")
        # Made here rather than on first use so the installation's job-id prefix is fixed
        # before any job runs, and shows in the start-up log; and checked against the
        # storage, so a database never runs with another installation's storage.
        try:
            instance = bind_storage()
        except InstallationMismatch as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"installation {instance.uuid} uses job-id prefix {instance.job_id_prefix}"
        )
