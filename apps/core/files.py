"""Private files: uploads, reports and return files live outside the web root under generated
names and are only ever handed out by a view that checked who is asking."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from apps.core.errors import UploadRefused


def private_dir(area: str) -> Path:
    path = Path(settings.PRIVATE_FILES_DIR) / area
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def private_path(area: str, name: str) -> Path:
    # Names are ours (uuid hex, optionally with a suffix); refuse anything that could walk out.
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"not a private file name: {name!r}")
    return private_dir(area) / name


def upload_too_large(size: int) -> UploadRefused:
    limit_mb = settings.UPLOAD_MAX_BYTES / (1024 * 1024)
    return UploadRefused(
        "upload_too_large",
        f"文件超过 {limit_mb:.0f} MB 上限，未被接收。请分批制作文件后重新提交。",
        f"The file is larger than the {limit_mb:.0f} MB limit and was not accepted. Split it and submit again.",
    )


def private_file_save(*, upload: UploadedFile, area: str) -> tuple[str, int]:
    """Copy an upload into private storage under a generated name; return (name, size)."""
    if upload.size is not None and upload.size > settings.UPLOAD_MAX_BYTES:
        raise upload_too_large(upload.size)
    if not upload.size:
        raise UploadRefused("upload_empty", "文件为空，请重新选择文件。", "The file is empty; choose the file again.")
    name = uuid.uuid4().hex
    path = private_path(area, name)
    size = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in upload.chunks():
                size += len(chunk)
                if size > settings.UPLOAD_MAX_BYTES:
                    raise upload_too_large(size)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return name, size


def private_file_write(*, area: str, name: str, data: bytes | Iterable[bytes]) -> Path:
    """Write a private file whole or not at all: into a temporary file of a unique name beside it
    (two runs writing the same file never share one), then renamed over it. ``data`` may be an
    iterable of chunks, so a large file is written without being held whole in memory."""
    path = private_path(area, name)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:  # mkstemp creates it 0600
            if isinstance(data, bytes | bytearray | memoryview):
                out.write(data)
            else:
                for chunk in data:
                    out.write(chunk)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


class MaxSizeUploadHandler(FileUploadHandler):
    """Stops reading a request as soon as it declares or sends more than UPLOAD_MAX_BYTES, so an
    oversized upload is refused before it is read whole. Install it first in request.upload_handlers."""

    too_large = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.UPLOAD_MAX_BYTES:
            self.too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None
