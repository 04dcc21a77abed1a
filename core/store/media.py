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

**Object stores** (``s3://``, ``gs://``, ``az://``...: no real directories, and ``mv`` is a
server-side copy) are handled differently, chosen from the filesystem (:attr:`MediaStore.
object_store`). A writer streams straight to the final key through one multipart upload: the
object only appears when the upload completes, so there is no ``~part`` object and no copy.
Parts are :attr:`MediaStore.part_size` bytes (:data:`DEFAULT_PART_SIZE`, 8 MiB; S3 needs at
least 5 MiB, and allows 10,000 parts, so 8 MiB parts take recordings up to about 78 GiB): the
writer holds about two parts at a time, whatever the recording's size. ``abort()`` aborts the
upload. On S3 (s3fs), an upload a killed process never completed is still listed by
:meth:`MediaStore.walk` as ``<key>~part`` — the same orphan name a local disk shows — and
:meth:`MediaStore.remove` of ``<key>~part`` (or of ``<key>``) aborts it. No placeholder
"directory" objects are made. Each object-store media root gets its own filesystem instance
with no listing cache, so listings always show what the server holds now. Errors from the
store are :class:`~convoport.errors.ArchiveError` naming the URL, with a hint saying what to
check, and never contain a credential. The endpoint of an S3-compatible server comes from the
environment (``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL`` or ``FSSPEC_S3_ENDPOINT_URL``; see
``docs/object-storage.md``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
from collections.abc import Iterable, Iterator
from typing import IO, Any

import fsspec  # type: ignore[import-untyped]
import fsspec.core  # type: ignore[import-untyped]

from convoport.errors import ArchiveError, ConfigError, ConvoportError
from convoport.model import SessionRef
from convoport.redact import Redactor

#: Bytes per read when streaming media out of the store.
CHUNK_SIZE = 1 << 16
#: Longest component kept readable; longer ones are shortened and hashed.
MAX_PLAIN = 120
#: The hard limit on any path component, in bytes.
MAX_COMPONENT = 200
#: Suffix of a file being written.
PART_SUFFIX = "~part"
#: Bytes per multipart-upload part on an object store (the writer's memory is about two
#: parts); :envvar:`CONVOPORT_MEDIA_PART_MIB` or ``MediaStore(part_size=...)`` changes it.
DEFAULT_PART_SIZE = 8 << 20
#: The smallest part S3 accepts (every part but the last), in bytes.
MIN_PART_SIZE = 5 << 20
#: The environment variable that sets the part size, in MiB (an integer, at least 5).
PART_SIZE_ENV = "CONVOPORT_MEDIA_PART_MIB"
#: fsspec protocols that are object stores: no real directories, ``mv`` is a copy.
OBJECT_STORE_PROTOCOLS = frozenset(
    {"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "adl", "oss", "oci", "cos", "r2"}
)

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)
_HINT = "check the media root is reachable and writable, then run 'convoport verify'"
_OBJECT_HINT = (
    "check the bucket exists and the credentials may read and write it (AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE); for an S3-compatible server set "
    "AWS_ENDPOINT_URL_S3; then run 'convoport verify'"
)
_BUCKET_HINT = (
    "create the bucket, or correct the media root (s3://BUCKET/PREFIX); for an S3-compatible "
    "server check AWS_ENDPOINT_URL_S3 names the right one"
)
_CONNECT_HINT = (
    "check the object store is running and reachable; an S3-compatible server's address is "
    "AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL, FSSPEC_S3_ENDPOINT_URL)"
)
_ACCESS_HINT = (
    "check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) and "
    "that they may read, write and list the bucket"
)
#: Exception class names (anywhere in the cause chain) that mean the store was not reached.
_CONNECTION_ERRORS = frozenset(
    {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
        "ClientConnectorError",
        "ServerDisconnectedError",
        "ConnectionRefusedError",
    }
)
#: Storage options and environment variables whose values are credentials.
_SECRET_OPTIONS = ("secret", "password", "token", "session_token", "account_key", "sas_token")
_SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


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


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _error_code(exc: BaseException) -> str | None:
    """The S3 error code (``NoSuchBucket``...) of a botocore ``ClientError`` in the chain."""
    for link in _chain(exc):
        response = getattr(link, "response", None)
        if isinstance(response, dict):
            code = (response.get("Error") or {}).get("Code")
            if code:
                return str(code)
    return None


def _is_missing_bucket(exc: BaseException) -> bool:
    return _error_code(exc) == "NoSuchBucket" or any(
        "bucket does not exist" in str(link) for link in _chain(exc)
    )


def _is_unreachable(exc: BaseException) -> bool:
    return any(
        klass.__name__ in _CONNECTION_ERRORS for link in _chain(exc) for klass in type(link).__mro__
    )


def _part_size(value: int | None) -> int:
    """The multipart part size in bytes: ``value``, else :data:`PART_SIZE_ENV` (MiB), else
    :data:`DEFAULT_PART_SIZE`."""
    if value is None:
        text = os.environ.get(PART_SIZE_ENV, "").strip()
        if not text:
            return DEFAULT_PART_SIZE
        try:
            value = int(text) << 20
        except ValueError:
            raise ConfigError(
                f"{PART_SIZE_ENV}={text!r} is not a whole number of MiB",
                hint=f"set {PART_SIZE_ENV} to an integer of at least 5 (MiB), or unset it",
            ) from None
    if value < MIN_PART_SIZE:
        raise ConfigError(
            f"the media part size is {value} bytes; object stores need parts of at least "
            f"{MIN_PART_SIZE >> 20} MiB",
            hint=f"set {PART_SIZE_ENV} to 5 or more (MiB), or unset it for 8",
        )
    return value


def _protocols(value: Any) -> set[str]:
    return {value} if isinstance(value, str) else {str(p) for p in value or ()}


def _object_store_class(url: str) -> bool:
    """Whether ``url``'s filesystem class is an object store (decided before building it)."""
    protocol = fsspec.core.split_protocol(url)[0]
    if not protocol or "::" in url:
        return False
    try:
        cls = fsspec.get_filesystem_class(protocol)
    except Exception:  # unknown or not installed: url_to_fs reports it
        return False
    return bool(_protocols(cls.protocol) & OBJECT_STORE_PROTOCOLS)


class MediaWriter:
    """An open ``~part`` file: :meth:`write` chunks (hashed as they pass), then :meth:`finish`
    renames it to the final name, or :meth:`abort` removes it.

    On an object store (see the module) it is one streamed multipart upload straight to the
    final key instead: :meth:`finish` completes it, :meth:`abort` aborts it."""

    def __init__(self, store: MediaStore, path: str) -> None:
        self.store = store
        self.path = path
        self.final = store.full(path)
        self.object_store = store.object_store
        #: where the bytes go until finish(): the final key itself on an object store
        self.partial = self.final if self.object_store else self.final + PART_SUFFIX
        self.size = 0
        self._hash = hashlib.sha256()
        self._done = False
        try:
            if self.object_store:
                # no makedirs (it would make placeholder objects, or a bucket); no I/O until
                # the first part is full (s3fs starts the multipart upload then)
                self._fh: IO[bytes] = store.fs.open(self.final, "wb", block_size=store.part_size)
            else:
                store.fs.makedirs(posixpath.dirname(self.final), exist_ok=True)
                self._fh = store.fs.open(self.partial, "wb")
        except ConvoportError:
            raise
        except Exception as exc:
            raise store.error("create", self._shown, exc) from exc

    @property
    def _shown(self) -> str:
        return self.path if self.object_store else self.path + PART_SUFFIX

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def write(self, chunk: bytes | bytearray) -> None:
        try:
            self._fh.write(chunk)
        except Exception as exc:
            raise self.store.error("write", self._shown, exc) from exc
        self._hash.update(chunk)
        self.size += len(chunk)

    def finish(self) -> None:
        self._done = True
        try:
            self._fh.close()
            if not self.object_store:
                self.store.fs.mv(self.partial, self.final)
        except Exception as exc:
            raise self.store.error("finish", self.path, exc) from exc

    def abort(self) -> None:
        self._done = True
        if self.object_store:
            # best effort: an upload that cannot be aborted now stays pending, and walk() lists
            # it as <key>~part for verify and repair
            with contextlib.suppress(Exception):
                discard = getattr(self._fh, "discard", None)
                if callable(discard):
                    discard()  # s3fs: abort_multipart_upload, and the buffer goes
            # never let close() (or the garbage collector's) complete what was written
            with contextlib.suppress(Exception):
                self._fh.closed = True  # type: ignore[misc]
            return
        # best effort: a leftover ~part is an orphan that verify reports
        with contextlib.suppress(Exception):
            self._fh.close()
        with contextlib.suppress(Exception):
            if self.store.fs.exists(self.partial):
                self.store.fs.rm(self.partial)

    def __del__(self) -> None:
        # An object-store file left open completes its upload when it is collected (fsspec
        # closes it): a writer dropped without finish() must abort instead, or a truncated
        # object would appear under the final name.
        if self.object_store and not getattr(self, "_done", True):
            self.abort()


class MediaStore:
    """Files under one fsspec media root. ``url`` is the root as configured.

    ``part_size`` (bytes) is the multipart part size on an object store (default
    :data:`PART_SIZE_ENV` in MiB, else :data:`DEFAULT_PART_SIZE`); it is ignored elsewhere."""

    def __init__(self, url: str, *, part_size: int | None = None) -> None:
        self.url = url
        options: dict[str, Any] = {}
        if _object_store_class(url):
            # its own client (the endpoint and credentials of the environment now, not of the
            # first s3:// opened in this process) and no listing cache (listings show what
            # the server holds, also what another process wrote since)
            options = {"skip_instance_cache": True, "use_listings_cache": False}
        try:
            fs, root = fsspec.core.url_to_fs(url, **options)
        except Exception as exc:
            raise ArchiveError(
                f"cannot open the media root {self._redacted(url)}: {type(exc).__name__}: "
                f"{self._redact_text(str(exc))}",
                hint="give media_root as a folder or an fsspec URL whose package is installed",
            ) from exc
        self.fs: Any = fs
        self.root: str = root.rstrip("/") or "/"
        #: an object store (see the module): writers upload to the final key, no directories
        self.object_store = bool(_protocols(getattr(fs, "protocol", ())) & OBJECT_STORE_PROTOCOLS)
        #: multipart part size in bytes (object stores only)
        self.part_size = _part_size(part_size) if self.object_store else DEFAULT_PART_SIZE
        #: S3's multipart API is reachable (s3fs): pending uploads are listed and aborted
        self.multipart = self.object_store and callable(getattr(fs, "call_s3", None))
        self._shown_url = self._redacted(url) if self.object_store else url

    # -- naming and errors ----------------------------------------------------------------

    def full(self, path: str) -> str:
        """The fsspec path of a relative media path (checked first)."""
        check_relative(path)
        return f"{self.root.rstrip('/')}/{path}"

    def display(self, path: str) -> str:
        """A path as users should read it in messages (the root URL joined with ``path``)."""
        return f"{self._shown_url.rstrip('/')}/{path}"

    def relative(self, full: str) -> str | None:
        """The relative path of an fsspec path under the root, else None."""
        prefix = self.root.rstrip("/") + "/"
        return full[len(prefix) :] if full.startswith(prefix) else None

    def _redactor(self) -> Redactor:
        """Knows the credentials this store may have touched (its options, the environment)."""
        fs = getattr(self, "fs", None)
        values: list[str | None] = [os.environ.get(name) for name in _SECRET_ENV]
        options = getattr(fs, "storage_options", None) or {}
        values += [str(v) for k, v in options.items() if k in _SECRET_OPTIONS and v]
        values += [str(getattr(fs, k)) for k in ("secret", "token") if getattr(fs, k, None)]
        return Redactor(values)

    def _redact_text(self, text: str) -> str:
        return self._redactor().text(text)

    def _redacted(self, url: str) -> str:
        return self._redactor().url(url)

    def _endpoint(self) -> str | None:
        """The S3 endpoint the client talks to, when known (for messages)."""
        client = getattr(self.fs, "_s3", None)
        endpoint = getattr(getattr(client, "meta", None), "endpoint_url", None)
        return str(endpoint) if endpoint else getattr(self.fs, "endpoint_url", None)

    def error(self, what: str, path: str | None, exc: BaseException) -> ArchiveError:
        """An ``ArchiveError`` for a failed media operation on ``path`` (relative; None: the
        root), naming it; on an object store the hint says what to check, and no credential
        reaches the text."""
        where = self._shown_url if path is None else self.display(path)
        if not self.object_store:
            return media_error(what, where, exc)
        detail = self._redact_text(f"{type(exc).__name__}: {exc}")
        endpoint = self._endpoint()
        at = f" at {self._redacted(endpoint)}" if endpoint else ""
        if _is_missing_bucket(exc):
            bucket = self.root.split("/", 1)[0]
            message = f"could not {what} {where}: the bucket {bucket!r} does not exist{at}"
            return ArchiveError(message, hint=_BUCKET_HINT)
        if _is_unreachable(exc):
            message = f"could not {what} {where}: the object store{at} cannot be reached ({detail})"
            return ArchiveError(message, hint=_CONNECT_HINT)
        if isinstance(exc, PermissionError) or _error_code(exc) in (
            "AccessDenied",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "ExpiredToken",
        ):
            message = f"could not {what} {where}: access denied{at} ({detail})"
            return ArchiveError(message, hint=_ACCESS_HINT)
        return ArchiveError(f"could not {what} {where}{at}: {detail}", hint=_OBJECT_HINT)

    # -- files ----------------------------------------------------------------------------

    def writer(self, path: str) -> MediaWriter:
        return MediaWriter(self, path)

    def open_read(self, path: str) -> IO[bytes]:
        """Opens a stored file for reading; a missing one is an ``ArchiveError``. On an object
        store, reads are ranged requests of about :attr:`part_size` bytes (read ahead)."""
        full = self.full(path)
        options = {"block_size": self.part_size} if self.object_store else {}
        try:
            fh: IO[bytes] = self.fs.open(full, "rb", **options)
        except FileNotFoundError as exc:
            if self.object_store and _is_missing_bucket(exc):
                raise self.error("open", path, exc) from exc
            raise ArchiveError(
                f"the media file {self.display(path)} is missing",
                hint="run 'convoport verify' to list what the archive lost",
            ) from exc
        except Exception as exc:
            raise self.error("open", path, exc) from exc
        return fh

    def size(self, path: str) -> int | None:
        """The file's size in bytes, or None when it does not exist."""
        full = self.full(path)
        if self.object_store:
            try:  # one HEAD request
                info = self.fs.info(full)
            except FileNotFoundError as exc:
                if _is_missing_bucket(exc):
                    raise self.error("stat", path, exc) from exc
                return None
            except Exception as exc:
                raise self.error("stat", path, exc) from exc
            if info.get("type") == "directory":
                return None
            return int(info["size"])
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
                    raise self.error("read", path, exc) from exc
                if not chunk:
                    break
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()

    def remove(self, path: str) -> None:
        """Removes a file (and a leftover ``~part`` beside it); a missing one is fine.

        On S3, removing ``<key>`` or ``<key>~part`` also aborts the uploads of ``<key>`` that
        never completed (``<key>~part`` never removes ``<key>`` itself)."""
        full = self.full(path)
        if self.object_store:
            if path.endswith(PART_SUFFIX):
                key, targets = full[: -len(PART_SUFFIX)], [full]
            else:
                key, targets = full, [full, full + PART_SUFFIX]
            try:
                for target in targets:
                    with contextlib.suppress(FileNotFoundError):
                        if self.fs.exists(target):
                            self.fs.rm_file(target)
                for found, upload_id in self._pending(key):
                    if found == key:
                        self._abort(found, upload_id)
            except ConvoportError:
                raise
            except Exception as exc:
                raise self.error("remove", path, exc) from exc
            return
        for target in (full, full + PART_SUFFIX):
            try:
                if self.fs.exists(target):
                    self.fs.rm(target)
            except FileNotFoundError:
                pass
            except Exception as exc:
                raise media_error("remove", self.display(path), exc) from exc

    def remove_tree(self, path: str) -> None:
        """Removes a session's folder with everything in it; a missing one is fine (on S3,
        with the uploads under it that never completed)."""
        full = self.full(path)
        try:
            if self.fs.exists(full):
                self.fs.rm(full, recursive=True)
            if self.multipart:
                for found, upload_id in self._pending(full + "/"):
                    self._abort(found, upload_id)
        except FileNotFoundError:
            pass
        except ConvoportError:
            raise
        except Exception as exc:
            raise self.error("remove", path, exc) from exc

    def walk(self, under: str | None = None) -> Iterator[str]:
        """Every file under the root (or under the relative folder ``under``), as relative
        paths. On S3, an upload that never completed is listed as ``<key>~part``."""
        if self.object_store:
            yield from self._walk_objects(under)
            return
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

    # -- object stores --------------------------------------------------------------------

    def _walk_objects(self, under: str | None) -> Iterator[str]:
        top = self.root if under is None else self.full(under)
        try:
            found: list[str] = list(self.fs.find(top))  # one paged listing, no directories
            pending = [path for path, _ in self._pending(top.rstrip("/") + "/")]
        except FileNotFoundError as exc:
            if _is_missing_bucket(exc):
                raise self.error("list", under, exc) from exc
            return
        except ConvoportError:
            raise
        except Exception as exc:
            raise self.error("list", under, exc) from exc
        seen: set[str] = set()
        for full in [*found, *(path + PART_SUFFIX for path in pending)]:
            rel = self.relative(full)
            if rel is not None and rel not in seen:
                seen.add(rel)
                yield rel

    def _pending(self, prefix: str) -> Iterable[tuple[str, str]]:
        """(fsspec path, upload id) of every multipart upload under ``prefix`` (an fsspec
        path: ``bucket/key-prefix``) that was started and neither completed nor aborted."""
        if not self.multipart:
            return []
        bucket, key, _ = self.fs.split_path(prefix)
        request: dict[str, Any] = {"Bucket": bucket, "Prefix": key}
        out: list[tuple[str, str]] = []
        while True:
            page = self.fs.call_s3("list_multipart_uploads", **request)
            for upload in page.get("Uploads") or ():
                out.append((f"{bucket}/{upload['Key']}", str(upload["UploadId"])))
            if not page.get("IsTruncated"):
                return out
            request["KeyMarker"] = page.get("NextKeyMarker", "")
            request["UploadIdMarker"] = page.get("NextUploadIdMarker", "")

    def _abort(self, full: str, upload_id: str) -> None:
        bucket, key, _ = self.fs.split_path(full)
        with contextlib.suppress(FileNotFoundError):  # already completed or aborted
            self.fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id)


__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_PART_SIZE",
    "MIN_PART_SIZE",
    "OBJECT_STORE_PROTOCOLS",
    "PART_SIZE_ENV",
    "PART_SUFFIX",
    "MediaStore",
    "MediaWriter",
    "check_relative",
    "encode_component",
    "media_error",
    "media_path",
    "session_dir",
]
