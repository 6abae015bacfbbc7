"""Parsing of multipart bodies small enough to hold in memory, in a few passes over bytes."""

import io

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import QueryDict
from django.http.multipartparser import MultiPartParser
from django.utils.datastructures import MultiValueDict
from django.utils.encoding import force_str
from django.utils.http import parse_header_parameters

# Django reads a part's headers in one 1 KiB chunk, the CRLFs around them included.
MAX_HEADERS_SIZE = 1024 - 6
# Characters after which Django's sanitize_file_name would change a file name.
RENAMING = ("/", "\\", "&")


class SmallBodyUploadHandler(FileUploadHandler):
    """Parses a multipart body no larger than FILE_UPLOAD_MAX_MEMORY_SIZE at once.

    Django's parser streams every body through a chain of iterators and upload handlers,
    which costs a small upload more than the rest of its request. Files that small are held
    in memory anyway, so the body is read whole and split. A body in any shape Django would
    read differently from the usual one (a preamble, a part without a name or file name, a
    transfer encoding, more parts or field bytes than the limits, a delimiter not on its own
    line) goes through Django's parser instead, as do larger bodies, which it streams.
    """

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > settings.FILE_UPLOAD_MAX_MEMORY_SIZE:
            return None
        body = input_data.read(content_length)
        parsed = split_form(body, boundary, encoding or settings.DEFAULT_CHARSET)
        if parsed is not None:
            return parsed
        handlers = [handler for handler in self.request.upload_handlers if handler is not self]
        return MultiPartParser(META, io.BytesIO(body), handlers, encoding).parse()

    def receive_data_chunk(self, raw_data, start):
        return raw_data  # bodies this handler leaves to Django go to the next handlers

    def file_complete(self, file_size):
        return None


def split_form(
    body: bytes, boundary: bytes, encoding: str
) -> tuple[QueryDict, MultiValueDict] | None:
    """The fields and files of ``body`` as Django's parser gives them, or None to let it."""
    delimiter = b"--" + boundary
    sections = (b"\r\n" + body).split(b"\r\n" + delimiter)
    if sections[0] or sections[-1] not in (b"--", b"--\r\n") or len(sections) < 3:
        return None
    parts = sections[1:-1]
    # Django takes the delimiter wherever it is, not only at the start of a line.
    if body.count(delimiter) != len(parts) + 1:
        return None
    if len(parts) > min_limit(
        settings.DATA_UPLOAD_MAX_NUMBER_FIELDS, settings.DATA_UPLOAD_MAX_NUMBER_FILES
    ):
        return None
    fields = QueryDict(mutable=True)
    files = MultiValueDict()
    field_bytes = 0
    for part in parts:
        parsed = split_part(part)
        if parsed is None:
            return None
        name, file_name, content_type, data = parsed
        field_name = force_str(name, encoding, errors="replace")
        if file_name is None:
            field_bytes += len(data) + len(field_name) + 2
            fields.appendlist(field_name, force_str(data, encoding, errors="replace"))
            continue
        file_name = force_str(file_name, encoding, errors="replace")
        if any(character in file_name for character in RENAMING) or file_name in ("", ".", ".."):
            return None
        if not file_name.isprintable():
            return None
        content_type_value, content_type_extra = content_type
        files.appendlist(
            field_name,
            InMemoryUploadedFile(
                file=io.BytesIO(data),
                field_name=field_name,
                name=file_name,
                content_type=content_type_value,
                size=len(data),
                charset=content_type_extra.get("charset"),
                content_type_extra=content_type_extra,
            ),
        )
    memory_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if memory_limit is not None and field_bytes > memory_limit:
        return None
    fields._mutable = False
    return fields, files


def min_limit(*limits: int | None) -> float:
    return min((limit for limit in limits if limit is not None), default=float("inf"))


def split_part(part: bytes) -> tuple[bytes, bytes | None, tuple[str, dict], bytes] | None:
    """A part's name, file name, content type and data; None if it is not the usual shape."""
    if not part.startswith(b"\r\n"):
        return None
    header_end = part.find(b"\r\n\r\n", 2)
    if header_end == -1 or header_end > MAX_HEADERS_SIZE:
        return None
    headers = {}
    for line in part[2:header_end].split(b"\r\n"):
        try:
            main_value, params = parse_header_parameters(line.decode())
            name, value = main_value.split(":", 1)
        except ValueError:
            return None
        if name in headers or name not in ("content-disposition", "content-type"):
            return None
        headers[name] = value.strip(), {key: value.encode() for key, value in params.items()}
    disposition, disposition_params = headers.get("content-disposition", ("", {}))
    if disposition != "form-data" or "name" not in disposition_params:
        return None
    file_name = disposition_params.get("filename")
    if file_name is None and "content-type" in headers:
        return None
    data = part[header_end + 4 :]
    content_type = headers.get("content-type", ("", {}))
    return disposition_params["name"].strip(), file_name, content_type, data
