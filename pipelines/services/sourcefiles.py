"""Pipeline source files: the pipeline they describe and the stored file."""

import logging
from typing import BinaryIO

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from cube.storage import get_storage
from pipelines.models import (
    PipelineSourceFile,
)
from pipelines.services.trees import create_pipeline

logger = logging.getLogger(__name__)


def source_file_exists(fname: str) -> ValidationError:
    return ValidationError({"fname": [f"A file already exists at '{fname}'."]})


def create_pipeline_source_file(
    *, owner: User, filename: str, stream: BinaryIO, type: str, pipeline_fields: dict
) -> PipelineSourceFile:
    """Create the pipeline a source file describes and store the file under PIPELINES/."""
    fname = f"PIPELINES/{owner.username}/{filename}"
    storage = get_storage()
    if storage.exists(fname) or PipelineSourceFile.objects.filter(fname=fname).exists():
        raise source_file_exists(fname)
    try:
        with transaction.atomic():
            pipeline = create_pipeline(owner=owner, **pipeline_fields)
            source_file = PipelineSourceFile.objects.create(
                fname=fname, type=type, pipeline=pipeline, owner=owner
            )
            stream.seek(0)
            source_file.fsize = storage.put(fname, stream)
            source_file.save(update_fields=["fsize"])
    except IntegrityError as error:
        raise source_file_exists(fname) from error
    except ValidationError:
        raise
    except BaseException:
        storage.delete(fname)
        raise
    return source_file
