from django.core.management.base import BaseCommand, CommandError

from plugins.installation import InstallError, install_plugin


class Command(BaseCommand):
    help = (
        "Install a ChRIS plugin (chris_plugin or chrisapp) in a virtualenv of its own, add it "
        "to localcompute's catalogue and register it on a compute resource. SPEC is a pip "
        "requirement (pkg==1.2), a local folder or wheel, or a Git URL pip accepts."
    )

    def add_arguments(self, parser):
        parser.add_argument("spec")
        parser.add_argument("--compute-resource", default="host", dest="compute_resource")
        parser.add_argument(
            "--image",
            help="the image name CUBE registers and localcompute answers to "
            "(default: local/<package>:<version>)",
        )
        parser.add_argument(
            "--name", help="the plugin's name in CUBE (default: from the description or image)"
        )

    def handle(self, *args, **options):
        def progress(line: str) -> None:
            if options["verbosity"] > 0:
                self.stdout.write(line)
                self.stdout.flush()

        try:
            installation = install_plugin(
                options["spec"],
                compute_resource_name=options["compute_resource"],
                image=options["image"],
                name=options["name"],
                progress=progress,
            )
        except InstallError as error:
            raise CommandError(str(error)) from error
        plugin = installation.plugin
        verb = "installed" if installation.created else "already installed:"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {plugin.meta.name} {plugin.version} (id {plugin.pk}, image "
                f"{plugin.dock_image}) on {options['compute_resource']}"
            )
        )
