import time

from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import ValidationError

from plugins.services.registry import save_compute_resource


class Command(BaseCommand):
    help = "Create or update a compute resource (a pfcon-compatible service)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("url", help="the service's API URL, ending in /api/v1/")
        parser.add_argument("--user", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--description", default="")
        parser.add_argument("--max-job-exec-seconds", type=int, default=-1)
        parser.add_argument(
            "--wait", type=float, default=0, help="seconds to wait for the service to answer"
        )

    def handle(self, *args, **options):
        deadline = time.monotonic() + options["wait"]
        while True:
            try:
                resource = save_compute_resource(
                    name=options["name"],
                    compute_url=options["url"],
                    compute_user=options["user"],
                    compute_password=options["password"],
                    description=options["description"],
                    max_job_exec_seconds=options["max_job_exec_seconds"],
                )
                break
            except ValidationError as error:
                if time.monotonic() > deadline:
                    raise CommandError(str(error.detail)) from error
                time.sleep(0.5)
        self.stdout.write(
            f"compute resource {resource.name} ready (in-network: {resource.compute_innetwork})"
        )
