import json
import sys

from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import ValidationError

from plugins.services.registry import register_plugin


class Command(BaseCommand):
    help = (
        "Register plugins from their JSON representations (files, or stdin with '-', "
        "e.g. piped from chris_plugin_info) on one or more compute resources."
    )

    def add_arguments(self, parser):
        parser.add_argument("descriptors", nargs="+", help="JSON files, or - for stdin")
        parser.add_argument(
            "--compute-resource", action="append", required=True, dest="compute_names"
        )

    def handle(self, *args, **options):
        for source in options["descriptors"]:
            try:
                if source == "-":
                    descriptor = json.load(sys.stdin)
                else:
                    with open(source) as descriptor_file:
                        descriptor = json.load(descriptor_file)
                plugin = register_plugin(descriptor, compute_names=options["compute_names"])
            except (OSError, ValueError) as error:
                raise CommandError(f"{source}: {error}") from error
            except ValidationError as error:
                raise CommandError(f"{source}: {error.detail}") from error
            self.stdout.write(f"registered {plugin.meta.name} {plugin.version} (id {plugin.pk})")
