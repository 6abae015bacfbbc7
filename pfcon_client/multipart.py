"""A multipart/form-data request body that streams its file part from a file object."""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterator, Sequence
from typing import BinaryIO

_CHUNK_SIZE = 64 * 1024


def _quote(value: str) -> str:
    # Header parameters cannot carry raw quotes or line breaks; browsers percent-encode them.
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def guess_filename(fileobj: BinaryIO, default: str) -> str:
    """The base name of the file behind `fileobj`, or `default` for in-memory buffers."""
    name = getattr(fileobj, "name", None)
    if isinstance(name, str) and name and not name.startswith("<"):
        return os.path.basename(name)
    return default


class MultipartBody:
    """Form fields followed by one file part, read lazily so large zips never sit in memory.

    `requests` treats it as a streamed body: with a known `len` it sends a Content-Length,
    otherwise (non-seekable file) it falls back to chunked transfer encoding.
    """

    def __init__(
        self,
        fields: Sequence[tuple[str, str]],
        *,
        file_field: str,
        fileobj: BinaryIO,
        filename: str,
        file_content_type: str = "application/octet-stream",
    ) -> None:
        self.boundary = secrets.token_hex(16)
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        self._fileobj = fileobj
        head = io.BytesIO()
        for name, value in fields:
            head.write(
                f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"'
                "\r\n\r\n".encode()
            )
            head.write(value.encode())
            head.write(b"\r\n")
        head.write(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quote(file_field)}"; '
            f'filename="{_quote(filename)}"\r\nContent-Type: {file_content_type}\r\n\r\n'.encode()
        )
        self._head = head.getvalue()
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._file_start = self._tell(fileobj)
        if self._file_start is not None:
            file_size = fileobj.seek(0, os.SEEK_END) - self._file_start
            fileobj.seek(self._file_start)
            # `requests` looks for a `len` attribute when sizing a streamed body.
            self.len = len(self._head) + file_size + len(self._tail)
        self._file_touched = False
        self._segments: list[BinaryIO] = []
        self.rewind()

    @staticmethod
    def _tell(fileobj: BinaryIO) -> int | None:
        try:
            if not fileobj.seekable():
                return None
            return fileobj.tell()
        except (AttributeError, OSError, ValueError):
            return None

    def rewind(self) -> bool:
        """Prepare to send the body from the start; False if file bytes already went out."""
        if self._file_start is not None:
            self._fileobj.seek(self._file_start)
        elif self._file_touched:
            return False
        self._segments = [io.BytesIO(self._head), self._fileobj, io.BytesIO(self._tail)]
        return True

    def read(self, size: int = -1) -> bytes:
        chunks: list[bytes] = []
        wanted = size if size is not None and size >= 0 else None
        while self._segments and (wanted is None or wanted > 0):
            data = self._segments[0].read(_CHUNK_SIZE if wanted is None else wanted)
            if not data:
                self._segments.pop(0)
                continue
            if self._segments[0] is self._fileobj:
                self._file_touched = True
            chunks.append(data)
            if wanted is not None:
                wanted -= len(data)
        return b"".join(chunks)

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(_CHUNK_SIZE):
            yield chunk
