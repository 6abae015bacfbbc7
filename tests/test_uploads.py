"""Multipart bodies split at once by cube.uploads: held to what Django's parser gives."""

import io

import pytest
import requests
from django.core.exceptions import TooManyFieldsSent
from django.core.files.uploadedfile import InMemoryUploadedFile, TemporaryUploadedFile
from django.test import RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from requests_toolbelt import MultipartEncoder
from urllib3 import encode_multipart_formdata

from cube import uploads

DEFAULT_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DICOM = bytes(range(256)) * 64


def with_boundary(parts: list[bytes], boundary: str = "b0und") -> tuple[bytes, str]:
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def part(headers: str, data: bytes, boundary: str = "b0und") -> bytes:
    return f"--{boundary}\r\n{headers}\r\n\r\n".encode() + data + b"\r\n"


END = b"--b0und--\r\n"
UPLOAD_PATH = part('Content-Disposition: form-data; name="upload_path"', b"alice/uploads/x")


def form_file(disposition_tail: str, data: bytes = b"data", extra: str = "") -> bytes:
    headers = f'Content-Disposition: form-data; name="fname"{disposition_tail}{extra}'
    return part(f"{headers}\r\nContent-Type: application/octet-stream", data)


def requests_body(fields: dict, files: dict) -> tuple[bytes, str]:
    prepared = requests.Request("POST", "http://x/", data=fields, files=files).prepare()
    return prepared.body, prepared.headers["Content-Type"]


BODIES = {
    "urllib3": encode_multipart_formdata(
        [("upload_path", "alice/uploads/ünï.dcm"), ("fname", ("a.dcm", DICOM, "application/dicom"))]
    ),
    "requests": requests_body({"upload_path": "alice/uploads/x"}, {"fname": ("x.dcm", DICOM)}),
    "toolbelt": (lambda encoder: (encoder.to_string(), encoder.content_type))(
        MultipartEncoder({"upload_path": "a/b", "fname": ("b.dcm", io.BytesIO(DICOM), "x/y")})
    ),
    "django client": (
        encode_multipart(BOUNDARY, {"upload_path": "a", "fname": io.BytesIO(b"x")}),
        MULTIPART_CONTENT,
    ),
    "empty file": with_boundary([UPLOAD_PATH, form_file('; filename="e.txt"', b""), END]),
    "charset": with_boundary(
        [
            part(
                'Content-Disposition: form-data; name="f"; filename="c.txt"\r\n'
                "Content-Type: text/plain; charset=latin-1",
                b"caf\xe9",
            ),
            END,
        ]
    ),  # fmt: skip
    "no file name": with_boundary([UPLOAD_PATH, form_file(""), END]),
    "empty file name": with_boundary([UPLOAD_PATH, form_file('; filename=""'), END]),
    "path in file name": with_boundary([form_file('; filename="../../etc/passwd"'), END]),
    "backslash in file name": with_boundary([form_file('; filename="C:\\\\x\\\\y.txt"'), END]),
    "entity in file name": with_boundary([form_file('; filename="a&amp;b.txt"'), END]),
    "dot file name": with_boundary([form_file('; filename=".."'), END]),
    "encoded file name": with_boundary([form_file("; filename*=UTF-8''%C3%BC.txt"), END]),
    "control in file name": with_boundary([form_file('; filename="a\tb.txt"'), END]),
    "preamble": with_boundary([b"preamble\r\n", UPLOAD_PATH, END]),
    "epilogue": with_boundary([UPLOAD_PATH, END, b"epilogue"]),
    "no closing delimiter": with_boundary([UPLOAD_PATH]),
    "delimiter inside data": with_boundary(
        [form_file('; filename="d.bin"', b"x--b0und--y\r\n--b0undz"), END]
    ),
    "delimiter mid-line": with_boundary([form_file('; filename="d.bin"', b"x--b0und y"), END]),
    "base64": with_boundary(
        [
            part(
                'Content-Disposition: form-data; name="t"\r\nContent-Transfer-Encoding: base64',
                b"aGVsbG8=",
            ),
            END,
        ]
    ),  # fmt: skip
    "no disposition": with_boundary([part("Content-Type: text/plain", b"x"), UPLOAD_PATH, END]),
    "no name": with_boundary([part("Content-Disposition: form-data", b"x"), UPLOAD_PATH, END]),
    "attachment": with_boundary([part('Content-Disposition: attachment; name="a"', b"x"), END]),
    "typed field": with_boundary(
        [part('Content-Disposition: form-data; name="a"\r\nContent-Type: text/plain', b"x"), END]
    ),
    "repeated fields": with_boundary([UPLOAD_PATH, UPLOAD_PATH, END]),
    "no headers": with_boundary([b"--b0und\r\n\r\nx\r\n", UPLOAD_PATH, END]),
    "long header": with_boundary([form_file(f'; filename="{"n" * 1100}.txt"'), END]),
    "bad utf-8": with_boundary(
        [
            part('Content-Disposition: form-data; name="a"', b"\xff\xfe"),
            form_file('; filename="\xe9.txt"'),
            END,
        ]
    ),  # fmt: skip
    "LF only": (UPLOAD_PATH.replace(b"\r\n", b"\n") + END, "multipart/form-data; boundary=b0und"),
}


def parse(body: bytes, content_type: str):
    request = RequestFactory().generic("POST", "/", body, content_type=content_type)
    return request.POST, request.FILES


def described(parsed) -> tuple:
    fields, files = parsed
    return (
        {name: fields.getlist(name) for name in fields},
        {
            name: [
                (type(upload), upload.name, upload.field_name, upload.content_type, upload.size,
                 upload.charset, upload.content_type_extra, upload.read())
                for upload in files.getlist(name)
            ]
            for name in files
        },
    )  # fmt: skip


@pytest.mark.parametrize("name", BODIES)
def test_small_bodies_parse_as_django_parses_them(settings, name):
    body, content_type = BODIES[name]
    settings.FILE_UPLOAD_HANDLERS = DEFAULT_HANDLERS
    try:
        expected = ("ok", described(parse(body, content_type)))
    except Exception as error:  # the same error is expected
        expected = ("error", type(error), str(error))
    settings.FILE_UPLOAD_HANDLERS = ["cube.uploads.SmallBodyUploadHandler", *DEFAULT_HANDLERS]
    try:
        actual = ("ok", described(parse(body, content_type)))
    except Exception as error:
        actual = ("error", type(error), str(error))
    assert actual == expected


@pytest.mark.parametrize(
    "name", ["urllib3", "requests", "toolbelt", "django client", "empty file", "charset"]
)
def test_usual_bodies_are_split_without_django_parser(name):
    body, content_type = BODIES[name]
    boundary = content_type.partition("boundary=")[2].strip('"').encode()
    assert uploads.split_form(body, boundary, "utf-8") is not None


def test_too_many_fields_are_left_to_django(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 2
    body, content_type = with_boundary([UPLOAD_PATH] * 3 + [END])
    assert uploads.split_form(body, b"b0und", "utf-8") is None
    with pytest.raises(TooManyFieldsSent):
        parse(body, content_type)


def test_big_bodies_stream_to_a_spool_file(settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    content = b"z" * (settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1)
    body, content_type = encode_multipart_formdata([("fname", ("big.bin", content))])
    request = RequestFactory().generic("POST", "/", body, content_type=content_type)
    stream = request._stream
    reads = []
    read = stream.read

    def recorded_read(size=-1):
        reads.append(size)
        return read(size)

    stream.read = recorded_read
    upload = request.FILES["fname"]
    assert isinstance(upload, TemporaryUploadedFile)
    assert upload.size == len(content)
    assert max(size for size in reads if size is not None) < len(body)
    assert upload.read() == content


def test_a_small_upload_is_held_in_memory():
    body, content_type = BODIES["urllib3"]
    upload = parse(body, content_type)[1]["fname"]
    assert isinstance(upload, InMemoryUploadedFile)
    assert upload.read() == DICOM
