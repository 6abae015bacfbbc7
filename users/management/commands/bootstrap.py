from django.conf import settings
from django.core.management.base import BaseCommand

from users.services import ensure_superuser


class Command(BaseCommand):
    help = "Create the superuser chris (password from CHRIS_SUPERUSER_PASSWORD) if missing."

    def handle(self, *args, **options):
        user = ensure_superuser(
            username="chris",
            password=settings.CHRIS_SUPERUSER_PASSWORD,
            email="chris@babymri.org",
        )
        self.stdout.write(f"superuser {user.username} ready (id {user.pk})")
