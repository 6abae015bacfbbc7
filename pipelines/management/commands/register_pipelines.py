import io
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from rest_framework.exceptions import ValidationError

from pipelines.models import Pipeline
from pipelines.serializers import PipelineSerializer, read_pipeline_source
from pipelines.services.sourcefiles import create_pipeline_source_file

BUILTIN_PIPELINES = Path(settings.BASE_DIR) / "pipelines" / "builtin"


class Command(BaseCommand):
    help = (
        "Create the built-in pipelines (pipelines/builtin/*.yml, CUBE's pipeline source file "
        "format) that do not exist yet, owned by the superuser. A pipeline whose plugins are "
        "not registered is skipped with a warning."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="default: pipelines/builtin/*.yml")
        parser.add_argument("--owner", default="chris")

    def handle(self, *args, **options):
        owner = User.objects.filter(username=options["owner"]).first()
        if owner is None:
            # Start-up goes on without them; bootstrap creates the superuser.
            self.stderr.write(
                self.style.WARNING(
                    f"no user {options['owner']}: built-in pipelines not registered "
                    "(manage.py bootstrap creates the superuser)"
                )
            )
            return
        files = [Path(name) for name in options["files"]] or sorted(BUILTIN_PIPELINES.glob("*.yml"))
        for path in files:
            self.register(path, owner)

    def register(self, path: Path, owner: User) -> None:
        kind = "json" if path.suffix == ".json" else "yaml"
        upload = io.BytesIO(path.read_bytes())
        upload.name = path.name
        try:
            representation = read_pipeline_source(upload, kind)
            name = representation.get("name")
            if Pipeline.objects.filter(name=name).exists():
                self.stdout.write(f"pipeline {name!r} is registered")
                return
            serializer = PipelineSerializer(data=representation, context={})
            serializer.is_valid(raise_exception=True)
            fields = dict(serializer.validated_data)
            fields.pop("plugin_inst_id", None)
            create_pipeline_source_file(
                owner=owner, filename=path.name, stream=upload, type=kind, pipeline_fields=fields
            )
        except ValidationError as error:
            self.stderr.write(self.style.WARNING(f"{path.name}: not registered: {error.detail}"))
            return
        self.stdout.write(f"pipeline {name!r} registered from {path.name}")
