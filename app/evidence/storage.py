"""Where evidence bytes live: a small interface (save, open, verify; never delete).

The local folder ``EVIDENCE_DIR`` is the only backend. A file arrives as an
``IncomingFile`` (a temporary name under ``EVIDENCE_DIR/.incoming``, hashed while it
is written), and ``save`` fsyncs it and renames it into place under a generated key.
Nothing here removes a recorded file: the only files ever unlinked are temporary
ones and files saved inside a ``saving()`` block that raised before its commit,
which therefore never became a record.
"""

import hashlib
import os
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from flask import current_app

INCOMING = ".incoming"
CHUNK = 1024 * 1024
#: A temporary upload file older than this belongs to no running request (an upload takes minutes
#: at most): its server was killed mid-upload. Stored files without a record are left this long too,
#: since a file is renamed into place just before its row is committed.
STALE_SECONDS = 3600


class IncomingFile:
    """A writable, readable temporary file that counts and hashes what is written to it.

    Werkzeug's form parser writes each uploaded file into one of these as the request
    body streams in, so an upload is never held whole in memory.
    """

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{secrets.token_hex(16)}.part"
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "w+b")
        self._hash = hashlib.sha256()
        self.size = 0
        self.saved = False

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self.size += len(data)
        return self._file.write(data)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def head(self, n: int = 8192) -> bytes:
        position = self._file.tell()
        self._file.seek(0)
        data = self._file.read(n)
        self._file.seek(position)
        return data

    def chunks(self) -> Iterator[bytes]:
        self._file.flush()
        with open(self.path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def discard(self) -> None:
        """Remove the temporary file unless it was saved (called when the request ends)."""
        if not self._file.closed:
            self._file.close()
        if not self.saved:
            self.path.unlink(missing_ok=True)

    # What werkzeug's FileStorage needs of its stream.
    def read(self, *args):
        return self._file.read(*args)

    def readline(self, *args):
        return self._file.readline(*args)

    def seek(self, *args):
        return self._file.seek(*args)

    def tell(self):
        return self._file.tell()

    def flush(self):
        return self._file.flush()

    def close(self):
        self._file.close()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True


@dataclass(frozen=True)
class StoredFile:
    key: str
    sha256: str
    size: int


class LocalStorage:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def incoming(self) -> IncomingFile:
        return IncomingFile(self.root / INCOMING)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    def save(self, incoming: IncomingFile) -> StoredFile:
        """Make the file durable and move it into place under a new key."""
        key = secrets.token_hex(20)
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        incoming._file.flush()
        os.fsync(incoming._file.fileno())
        incoming._file.close()
        os.rename(incoming.path, target)
        incoming.saved = True
        _fsync_dir(target.parent)
        return StoredFile(key=key, sha256=incoming.sha256, size=incoming.size)

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def verify(self, key: str, sha256: str) -> str:
        """``"ok"``, ``"missing"`` or ``"altered"``."""
        digest = hashlib.sha256()
        try:
            with self.open(key) as f:
                while chunk := f.read(CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            return "missing"
        return "ok" if digest.hexdigest() == sha256 else "altered"

    def keys(self) -> Iterator[str]:
        """Every stored key (temporary files excluded)."""
        if not self.root.is_dir():
            return
        for sub in sorted(self.root.iterdir()):
            if sub.is_dir() and not sub.name.startswith("."):
                for path in sorted(sub.iterdir()):
                    yield path.name

    def partial_files(self) -> list[tuple[str, float]]:
        """(name, age in seconds) of every temporary upload file, oldest first."""
        directory = self.root / INCOMING
        if not directory.is_dir():
            return []
        now = time.time()
        found = []
        for path in directory.iterdir():
            try:
                found.append((path.name, now - path.stat().st_mtime))
            except FileNotFoundError:
                continue  # its upload just ended
        return sorted(found, key=lambda item: -item[1])

    def remove_partial(self, name: str) -> None:
        if "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"not a temporary file name: {name!r}")
        (self.root / INCOMING / name).unlink(missing_ok=True)

    def age(self, key: str) -> float:
        """Seconds since the stored file was written."""
        return time.time() - self._path(key).stat().st_mtime

    def remove_unrecorded(self, key: str) -> None:
        """Unlink a stored file that the caller found to belong to no record (never a recorded one)."""
        self._path(key).unlink(missing_ok=True)

    @contextmanager
    def saving(self) -> Iterator["Batch"]:
        """Files saved through the batch are unlinked again if the block raises.

        The block ends with the database commit: a file whose row was never committed
        is not evidence, and leaving it would be a stray file.
        """
        batch = Batch(self)
        try:
            yield batch
        except BaseException:
            for stored in batch.saved:
                self._path(stored.key).unlink(missing_ok=True)
            raise


class Batch:
    def __init__(self, storage: LocalStorage):
        self.storage = storage
        self.saved: list[StoredFile] = []

    def save(self, incoming: IncomingFile) -> StoredFile:
        stored = self.storage.save(incoming)
        self.saved.append(stored)
        return stored


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def get_storage() -> LocalStorage:
    return LocalStorage(current_app.config["EVIDENCE_DIR"])
