from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Register or update the compute resource 'host' (COMPUTE_RESOURCE_URL, COMPUTE_USER, "
        "COMPUTE_PASSWORD), the built-in plugins' JSON representations found in "
        "CUBE_PLUGINS_DIR and the built-in pipelines."
    )

    def add_arguments(self, parser):
        parser.add_argument("--wait", type=float, default=0)

    def handle(self, *args, **options):
        if not (settings.COMPUTE_USER and settings.COMPUTE_PASSWORD):
            raise CommandError(
                "COMPUTE_USER and COMPUTE_PASSWORD must be set (the launchers take them from "
                "$CUBE_VAR_DIR/localcompute.env)"
            )
        # An existing "host" is updated, so credentials regenerated for a kept var dir apply.
        # "--option=value": call_command passes required options as two arguments, and
        # argparse would take a password starting with "-" for an option.
        call_command(
            "add_compute_resource",
            "host",
            settings.COMPUTE_RESOURCE_URL,
            f"--user={settings.COMPUTE_USER}",
            f"--password={settings.COMPUTE_PASSWORD}",
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
        # The built-in pipelines need the built-in plugins.
        call_command("register_pipelines")
