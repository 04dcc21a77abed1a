"""The archive's media store: recordings as files under a media root, through fsspec.

The media root is any fsspec URL (a local folder by default, ``memory://``, ``s3://``...).
Every method here is blocking; the adapter runs them in worker threads.

Paths are derived, never taken raw. A recording of session ``provider:id`` lives at::

    <provider>/<sha256(id)[:2]>/<encode(id)>/<encode(recording id)>

:func:`encode_component` keeps ``[a-z0-9_-]`` (and ``.`` inside a name) and writes every other
UTF-8 byte as ``%xx`` (lower-case hex), so ``/``, ``\\``, NUL, ``..`` and absolute paths cannot
survive it. A name that would still be risky — longer than 120 bytes, containing upper-case
letters (two ids differing only in case must not meet on a case-insensitive disk), empty, or a
Windows device name (``con``, ``nul``...) — becomes ``<prefix>~<sha256 hex[:40]>``. ``~`` appears
only there, so the encoding stays one-to-one, and every component stays under 200 bytes.

Bytes are written to ``<final>~part`` and renamed to the final name once complete; a crash
leaves at most a ``~part`` file, which ``verify`` lists as an orphan and a rerun overwrites.
"""

from __future__ import annotations

import contextlib
import hashlib
import posixpath
from collections.abc import Iterator
from typing import IO, Any

import fsspec.core  # type: ignore[import-untyped]

from convoport.errors import ArchiveError, ConvoportError
from convoport.model import SessionRef

#: Bytes per read when streaming media out of the store.
CHUNK_SIZE = 1 << 16
#: Longest component kept readable; longer ones are shortened and hashed.
MAX_PLAIN = 120
#: The hard limit on any path component, in bytes.
MAX_COMPONENT = 200
#: Suffix of a file being written.
PART_SUFFIX = "~part"

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)
_HINT = "check the media root is reachable and writable, then run 'convoport verify'"


def encode_component(text: str) -> str:
    """One safe, reversible-by-lookup path component for an arbitrary string (see module)."""
    raw = text.encode("utf-8", "surrogatepass")
    out: list[str] = []
    last = len(raw) - 1
    for i, byte in enumerate(raw):
        ch = chr(byte)
        if ch in _SAFE or (ch == "." and 0 < i < last):
            out.append(ch)
        else:
            out.append(f"%{byte:02x}")
    plain = "".join(out)
    risky = (
        not plain
        or len(plain) > MAX_PLAIN
        or plain != plain.lower()
        or plain.split(".", 1)[0].lower() in _WINDOWS_DEVICES
    )
    if not risky:
        return plain
    prefix = plain[:80]
    cut = prefix.rfind("%", len(prefix) - 2)
    if cut != -1:  # never cut an escape in half
        prefix = prefix[:cut]
    return f"{prefix}~{hashlib.sha256(raw).hexdigest()[:40]}"


def session_dir(source: SessionRef) -> str:
    """The folder (relative to the media root) holding one session's recordings."""
    raw = source.id.encode("utf-8", "surrogatepass")
    fan = hashlib.sha256(raw).hexdigest()[:2]
    return f"{encode_component(source.provider)}/{fan}/{encode_component(source.id)}"


def media_path(source: SessionRef, recording_id: str) -> str:
    """The path (relative to the media root) of one recording of ``source``."""
    return f"{session_dir(source)}/{encode_component(recording_id)}"


def check_relative(path: str) -> str:
    """Refuses a relative media path that could leave the media root (stored rows are checked
    before any file operation)."""
    parts = path.split("/")
    if (
        not path
        or "\\" in path
        or "\x00" in path
        or ":" in path
        or any(p in ("", ".", "..") or len(p.encode()) > MAX_COMPONENT + 8 for p in parts)
    ):
        raise ArchiveError(
            f"refusing the media path {path!r}: it is not a path this archive writes",
            hint="the catalog may have been edited by hand; run 'convoport verify'",
        )
    return path


def media_error(what: str, where: str, exc: BaseException) -> ArchiveError:
    """An ``ArchiveError`` for a failed media operation, naming the path."""
    return ArchiveError(f"could not {what} {where}: {type(exc).__name__}: {exc}", hint=_HINT)


class MediaWriter:
    """An open ``~part`` file: :meth:`write` chunks (hashed as they pass), then :meth:`finish`
    renames it to the final name, or :meth:`abort` removes it."""

    def __init__(self, store: MediaStore, path: str) -> None:
        self.store = store
        self.path = path
        self.final = store.full(path)
        self.partial = self.final + PART_SUFFIX
        self.size = 0
        self._hash = hashlib.sha256()
        try:
            store.fs.makedirs(posixpath.dirname(self.final), exist_ok=True)
            self._fh: IO[bytes] = store.fs.open(self.partial, "wb")
        except ConvoportError:
            raise
        except Exception as exc:
            raise media_error("create", store.display(path + PART_SUFFIX), exc) from exc

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def write(self, chunk: bytes | bytearray) -> None:
        try:
            self._fh.write(chunk)
        except Exception as exc:
            raise media_error("write", self.store.display(self.path + PART_SUFFIX), exc) from exc
        self._hash.update(chunk)
        self.size += len(chunk)

    def finish(self) -> None:
        try:
            self._fh.close()
            self.store.fs.mv(self.partial, self.final)
        except Exception as exc:
            raise media_error("finish", self.store.display(self.path), exc) from exc

    def abort(self) -> None:
        # best effort: a leftover ~part is an orphan that verify reports
        with contextlib.suppress(Exception):
            self._fh.close()
        with contextlib.suppress(Exception):
            if self.store.fs.exists(self.partial):
                self.store.fs.rm(self.partial)


class MediaStore:
    """Files under one fsspec media root. ``url`` is the root as configured."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            fs, root = fsspec.core.url_to_fs(url)
        except Exception as exc:
            raise ArchiveError(
                f"cannot open the media root {url}: {type(exc).__name__}: {exc}",
                hint="give media_root as a folder or an fsspec URL whose package is installed",
            ) from exc
        self.fs: Any = fs
        self.root: str = root.rstrip("/") or "/"

    def full(self, path: str) -> str:
        """The fsspec path of a relative media path (checked first)."""
        check_relative(path)
        return f"{self.root.rstrip('/')}/{path}"

    def display(self, path: str) -> str:
        """A path as users should read it in messages (the root URL joined with ``path``)."""
        return f"{self.url.rstrip('/')}/{path}"

    def relative(self, full: str) -> str | None:
        """The relative path of an fsspec path under the root, else None."""
        prefix = self.root.rstrip("/") + "/"
        return full[len(prefix) :] if full.startswith(prefix) else None

    def writer(self, path: str) -> MediaWriter:
        return MediaWriter(self, path)

    def open_read(self, path: str) -> IO[bytes]:
        """Opens a stored file for reading; a missing one is an ``ArchiveError``."""
        full = self.full(path)
        try:
            fh: IO[bytes] = self.fs.open(full, "rb")
        except FileNotFoundError as exc:
            raise ArchiveError(
                f"the media file {self.display(path)} is missing",
                hint="run 'convoport verify' to list what the archive lost",
            ) from exc
        except Exception as exc:
            raise media_error("open", self.display(path), exc) from exc
        return fh

    def size(self, path: str) -> int | None:
        """The file's size in bytes, or None when it does not exist."""
        full = self.full(path)
        try:
            if not self.fs.exists(full):
                return None
            return int(self.fs.size(full))
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise media_error("stat", self.display(path), exc) from exc

    def hash(self, path: str, chunk_size: int = 1 << 20) -> tuple[int, str]:
        """(size, sha256 hex) of a stored file, read in chunks."""
        digest = hashlib.sha256()
        size = 0
        with self.open_read(path) as fh:
            while True:
                try:
                    chunk = fh.read(chunk_size)
                except Exception as exc:
                    raise media_error("read", self.display(path), exc) from exc
                if not chunk:
                    break
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()

    def remove(self, path: str) -> None:
        """Removes a file (and a leftover ``~part`` beside it); a missing one is fine."""
        full = self.full(path)
        for target in (full, full + PART_SUFFIX):
            try:
                if self.fs.exists(target):
                    self.fs.rm(target)
            except FileNotFoundError:
                pass
            except Exception as exc:
                raise media_error("remove", self.display(path), exc) from exc

    def remove_tree(self, path: str) -> None:
        """Removes a session's folder with everything in it; a missing one is fine."""
        full = self.full(path)
        try:
            if self.fs.exists(full):
                self.fs.rm(full, recursive=True)
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise media_error("remove", self.display(path), exc) from exc

    def walk(self, under: str | None = None) -> Iterator[str]:
        """Every file under the root (or under the relative folder ``under``), as relative
        paths."""
        top = self.root if under is None else self.full(under)
        try:
            if not self.fs.exists(top):
                return
            for folder, _dirs, files in self.fs.walk(top):
                for name in files:
                    rel = self.relative(f"{folder.rstrip('/')}/{name}")
                    if rel is not None:
                        yield rel
        except Exception as exc:
            raise media_error("list", self.url, exc) from exc


__all__ = [
    "CHUNK_SIZE",
    "PART_SUFFIX",
    "MediaStore",
    "MediaWriter",
    "check_relative",
    "encode_component",
    "media_path",
    "session_dir",
]
