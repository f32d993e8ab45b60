"""Files every room writes and reads: atomic writes, JSON, checksums.

Every file is written under a temporary name and renamed, so a reader never sees half a file,
and a write that fails (disk full, file size limit, no permission) leaves the old file as it was,
no temporary file, and a `WriteFailed` that names the file in one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from . import config
from .errors import StudyError

_UMASK = os.umask(0)
os.umask(_UMASK)


class CorruptArtifact(StudyError, RuntimeError):
    """A file exists but cannot be read, or no longer matches its recorded checksum."""


class WriteFailed(StudyError, OSError):
    """A file could not be written: `cannot write reports/...: [Errno 28] No space left on device`."""

    def __str__(self):
        why = f"[Errno {self.errno}] {self.strerror}" if self.errno is not None else self.strerror
        return f"cannot write {self.filename}: {why}"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    path, tmp = Path(path), None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file normal permissions
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if isinstance(exc, OSError) and not isinstance(exc, WriteFailed):
            raise WriteFailed(exc.errno, exc.strerror or str(exc), config.relative(path)) from exc
        raise
    return path


def write_json(path, obj) -> Path:
    return atomic_write_bytes(
        path, (json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n").encode()
    )


def _jsonable(o):
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def read_json(path, kind: type = dict):
    """The JSON value of `path`, a `kind` (an object unless said); CorruptArtifact naming the file
    when it cannot be read or holds JSON of another shape (a list where a record's object belongs)."""
    path = Path(path)
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CorruptArtifact(f"{path}: cannot read JSON ({exc})") from None
    if not isinstance(value, kind):
        words = {dict: "a JSON object", list: "a JSON list"}.get(kind, kind.__name__)
        raise CorruptArtifact(f"{path}: not {words} (a {type(value).__name__})")
    return value


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_json(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=_jsonable).encode()).hexdigest()
