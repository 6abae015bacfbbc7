from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Register the compute resource 'host' (COMPUTE_RESOURCE_URL) and the built-in "
        "plugins' JSON representations found in CUBE_PLUGINS_DIR."
    )

    def add_arguments(self, parser):
        parser.add_argument("--wait", type=float, default=0)

    def handle(self, *args, **options):
        call_command(
            "add_compute_resource",
            "host",
            settings.COMPUTE_RESOURCE_URL,
            user=settings.COMPUTE_USER,
            password=settings.COMPUTE_PASSWORD,
            description="Local compute on this machine",
            wait=options["wait"],
        )
        descriptors = sorted(
            str(path)
            for path in Path(settings.CUBE_PLUGINS_DIR).glob("*.json")
            if path.name != "catalogue.json"
        )
        if descriptors:
            call_command("register_plugin", *descriptors, compute_names=["host"])
