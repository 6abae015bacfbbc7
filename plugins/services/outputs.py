"""Moving data between CUBE's storage and a job: input zips, outputs, and registration."""

import json
import logging
import posixpath
import re
import tempfile
import time
import zipfile
from typing import BinaryIO

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from cube.storage import get_storage
from pfcon_client import PfconClient, PfconError
from plugins.models import ParameterType, PluginInstance, PluginInstanceFile, PluginType
from plugins.regexes import UnsafeRegex, check_regex
from plugins.status import ErrorCode
from storage import StorageError
from storage.keys import is_link_name

logger = logging.getLogger(__name__)

# In-network listings may name objects the storage does not show yet.
LISTING_WAIT_SECONDS = 10


class RegistrationError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def safe_member_name(name: str) -> bool:
    segments = name.split("/")
    return not name.startswith("/") and ".." not in segments and "" not in segments[:-1]


def zip_inputs(dirs: list[str], destination: BinaryIO) -> None:
    """Zip every object under each input path, named relative to that path."""
    storage = get_storage()
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for directory in dirs:
            for key in storage.ls(directory):
                arcname = key[len(directory) + 1 :] or posixpath.basename(key)
                with archive.open(arcname, "w", force_zip64=True) as member:
                    for chunk in storage.open(key):
                        member.write(chunk)


def fetch_outputs(instance: PluginInstance, client: PfconClient, jid: str) -> None:
    """Bring the job's outputs into storage (zip mode) or check they are there (in-network)."""
    storage = get_storage()
    if not instance.compute_resource.compute_innetwork:
        with tempfile.TemporaryFile() as zipped:
            try:
                client.download_plugin_job_zip(jid, zipped)
            except PfconError as error:
                raise RegistrationError(
                    ErrorCode.OUTPUTS_NOT_FETCHED, f"Fetching the outputs failed: {error}"
                ) from error
            zipped.seek(0)
            if not zipfile.is_zipfile(zipped):
                raise RegistrationError(
                    ErrorCode.OUTPUT_ZIP_INVALID, "The job's output zip is not a valid zip file."
                )
            zipped.seek(0)
            try:
                with zipfile.ZipFile(zipped) as archive:
                    for info in archive.infolist():
                        name = info.filename
                        if info.is_dir() or is_link_name(name):
                            continue
                        if not safe_member_name(name):
                            raise RegistrationError(
                                ErrorCode.OUTPUT_ZIP_INVALID, f"Unsafe name in output zip: {name}"
                            )
                        with archive.open(info) as member:
                            storage.put(f"{instance.output_path}/{name}", member)
            except (zipfile.BadZipFile, StorageError) as error:
                raise RegistrationError(
                    ErrorCode.STORAGE_FAILED, f"Storing the outputs failed: {error}"
                ) from error
        return
    try:
        listing = client.get_plugin_job_json(jid, instance.output_path)
    except PfconError as error:
        raise RegistrationError(
            ErrorCode.OUTPUTS_NOT_FETCHED, f"Fetching the output listing failed: {error}"
        ) from error
    if listing.get("job_output_path", "").strip("/") != instance.output_path:
        raise RegistrationError(
            ErrorCode.OUTPUT_PATH_MISMATCH, "The job's output path is not the instance's."
        )
    wanted = {f"{instance.output_path}/{rel}" for rel in listing.get("rel_file_paths", [])}
    deadline = time.monotonic() + LISTING_WAIT_SECONDS
    while True:
        try:
            missing = wanted - set(storage.ls(instance.output_path))
        except StorageError as error:
            raise RegistrationError(
                ErrorCode.OUTPUTS_NOT_LISTED_REMOTELY, f"Listing the outputs failed: {error}"
            ) from error
        if not missing:
            return
        if time.monotonic() > deadline:
            raise RegistrationError(
                ErrorCode.OUTPUTS_MISSING, f"{len(missing)} listed output files are missing."
            )
        time.sleep(0.5)


def parameter_value(instance: PluginInstance, name: str):
    return (
        instance.parameter_values.filter(plugin_param__name=name)
        .values_list("value", flat=True)
        .first()
    )


def copy_linked_inputs(instance: PluginInstance) -> None:
    """Copy ``unextpath`` data and, for ts plugins, the parents' filtered outputs."""
    storage = get_storage()
    output = instance.output_path
    pairs = []
    for value in instance.parameter_values.filter(plugin_param__type=ParameterType.UNEXTPATH):
        for item in str(value.value).split(","):
            folder = f"{output}/{item.replace('/', '_')}"
            for key in storage.ls(item):
                rest = key.split("/", 2)[2] if key.count("/") >= 2 else posixpath.basename(key)
                pairs.append((key, f"{folder}/{rest}"))
    if instance.plugin.meta.type == PluginType.TS:
        pairs.extend(topological_pairs(instance))
    existing = set(storage.ls(output))
    # Links are not copied: one in the output would let the next job stage whatever it
    # points at, though the user was only checked for access to the folder holding it.
    wanted = (
        (source, target)
        for source, target in pairs
        if target not in existing and not is_link_name(source)
    )
    try:
        storage.copy_many(wanted)
    except StorageError as error:
        raise RegistrationError(
            ErrorCode.LINKED_INPUTS_NOT_COPIED, f"Copying linked inputs failed: {error}"
        ) from error


def topological_pairs(instance: PluginInstance) -> list[tuple[str, str]]:
    ids = [
        int(item)
        for item in str(parameter_value(instance, "plugininstances") or "").split(",")
        if item
    ]
    filters = str(parameter_value(instance, "filter") or "").split(",")
    group = bool(parameter_value(instance, "groupByInstance"))
    storage = get_storage()
    pairs = []
    for index, parent_id in enumerate(ids):
        parent = PluginInstance.objects.filter(pk=parent_id).first()
        if parent is None:
            raise RegistrationError(
                ErrorCode.PARENT_MISSING, f"Parent plugin instance {parent_id} is missing."
            )
        pattern = None
        if index < len(filters) and filters[index]:
            # Checked when posted; a row written before that check, or by hand, may not be.
            try:
                check_regex(filters[index])
            except UnsafeRegex as error:
                raise RegistrationError(ErrorCode.LINKED_INPUTS_NOT_COPIED, str(error)) from None
            pattern = re.compile(filters[index])
        target = f"{instance.output_path}/{parent_id}" if group else instance.output_path
        for key in storage.ls(parent.output_path):
            relative = key[len(parent.output_path) + 1 :]
            if pattern is None or pattern.search(relative):
                pairs.append((key, f"{target}/{relative}"))
    return pairs


def register_output_files(instance: PluginInstance) -> int:
    """Register every object under the output path in one listing and one INSERT."""
    try:
        listing = get_storage().ls_with_sizes(instance.output_path)
    except StorageError as error:
        raise RegistrationError(
            ErrorCode.OUTPUTS_NOT_LISTED, f"Listing the outputs failed: {error}"
        ) from error
    files = [(key, size) for key, size in listing if not is_link_name(key)]
    insert_files(files, plugin_inst_id=instance.pk, feed_id=instance.feed_id)
    return sum(size for _key, size in files)


def insert_files(files: list[tuple[str, int]], *, plugin_inst_id: int, feed_id: int) -> None:
    """Insert file rows in a single statement, skipping keys already registered, and add
    those inserted to the instance's ``files_count``.

    bulk_create would split the rows into batches (on SQLite, ~200 rows per 999 parameters),
    so the query count would grow with the number of files. Passing the rows as one JSON
    parameter keeps it at one INSERT for any number of files.
    """
    if not files:
        return
    table = connection.ops.quote_name(PluginInstanceFile._meta.db_table)
    columns = "fname, fsize, plugin_inst_id, feed_id, creation_date"
    rows = json.dumps([{"fname": key, "fsize": size} for key, size in files])
    if connection.vendor == "sqlite":
        # WHERE true: SQLite needs it to parse an upsert clause after INSERT ... SELECT.
        source = (
            "SELECT json_extract(value, '$.fname'), json_extract(value, '$.fsize'), %s, %s, %s "
            "FROM json_each(%s) WHERE true"
        )
    else:  # PostgreSQL, the only other database the settings accept
        source = (
            "SELECT f.fname, f.fsize, %s, %s, %s "
            "FROM json_to_recordset(%s::json) AS f(fname text, fsize bigint)"
        )
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) {source} ON CONFLICT DO NOTHING",
            [plugin_inst_id, feed_id, created, rows],
        )
        PluginInstance.objects.filter(pk=plugin_inst_id).update(
            files_count=F("files_count") + cursor.rowcount
        )
