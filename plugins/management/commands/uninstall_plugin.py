from django.core.management.base import BaseCommand, CommandError

from plugins.installation import InstallError, uninstall_plugin


class Command(BaseCommand):
    help = (
        "Undo install_plugin: unregister the plugin from the compute resource, remove it "
        "from localcompute's catalogue and delete its virtualenv. Refused while instances "
        "of it are active."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("plugin_version", nargs="?", help="needed if several are installed")
        parser.add_argument("--compute-resource", default="host", dest="compute_resource")

    def handle(self, *args, **options):
        def progress(line: str) -> None:
            if options["verbosity"] > 0:
                self.stdout.write(line)

        try:
            kept = uninstall_plugin(
                options["name"],
                version=options["plugin_version"],
                compute_resource_name=options["compute_resource"],
                progress=progress,
            )
        except InstallError as error:
            raise CommandError(str(error)) from error
        note = " (kept in CUBE: other compute resources or past instances use it)" if kept else ""
        self.stdout.write(self.style.SUCCESS(f"uninstalled {options['name']}{note}"))
