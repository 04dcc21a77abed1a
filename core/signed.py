"""Pre-signed download links: fetched without credentials, refreshed when they expire, resumed
with ``Range`` where the storage host allows.

A vendor hands out a short-lived link to a file on a storage host (a recording, a chat or
transcript CSV). :class:`SignedDownload` streams it:

* **no credentials**: the request is built by hand (no default headers, no cookie jar, no
  client ``auth``) and sent through the adapter's injected ``httpx.AsyncClient`` (so an
  emulator or a cassette transport reaches it). Redirects are followed by hand, without
  credentials either. ``with_credentials=True`` adds the vendor's credential headers, and
  only to hops on the vendor's own API origin (:meth:`HttpClient.credential_headers`): for a
  vendor whose "link" is a token on its API host (Syllable's recording stream);
* **expiry**: a link whose ``expires_at`` is less than ``expiry_margin`` seconds away is
  refreshed before it is used; a 403 or 410 from the storage host (``expired_statuses``), also
  on a ranged request after the body ended early, means the link expired. The adapter's
  ``refresh()`` (an async callable returning a fresh ``(url, expires_at)``) is then asked,
  at most ``max_refreshes`` times in a row without a byte of progress; after that (or with no
  ``refresh``) the download fails with :class:`~convoport.errors.PermissionDenied`
  (``details["reason"] == "link_expired"``) naming what happened and what to do;
* **resume**: after a failure the next request asks ``Range: bytes=N-`` (``N`` bytes were
  delivered). A 206 whose ``Content-Range`` starts at ``N`` (or before it: the overlap is
  skipped) resumes; a 200 restarts from byte 0 and the ``N`` bytes already delivered are
  skipped, never delivered twice. A restarted body must have the length (and ``ETag``, when
  both carry one) of the first, else :class:`~convoport.errors.MalformedResponse` (the file
  changed);
* **transient failures** (5xx, 408, 429, connect and read errors, timeouts, a body shorter
  than its ``Content-Length``) are retried with the HTTP layer's backoff
  (:meth:`RetryPolicy.delay`), ``Retry-After`` honoured up to its cap, at most
  ``retry.attempts`` tries in a row without progress;
* **bounded**: memory is one chunk (the body is never buffered); every network wait has the
  ``timeout`` (seconds, or an ``httpx.Timeout``) and a refresh at most ``refresh_timeout``
  seconds;
* **secrets**: the link's query string (signature, token, credential) never appears in a log
  line, a repr or an exception: messages show the link as ``scheme://host/path`` and every
  query value is removed from body excerpts (with the adapter's :class:`Redactor` applied
  too) and from httpx's own log lines while the download runs.

Use it from ``_open_recording``::

    @asynccontextmanager
    async def _open(self, recording):
        download = SignedDownload(
            self.http, recording.url, expires_at=recording.expires_at,
            refresh=lambda: self._fresh_link(recording.id), what=f"recording {recording.id}",
        )
        yield SignedRecordingStream(recording, download)
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from convoport.adapter import RecordingStream
from convoport.errors import (
    MalformedResponse,
    PermissionDenied,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    body_excerpt,
    error_class_for_status,
    is_retryable_status,
    parse_retry_after,
)
from convoport.http import USER_AGENT, HttpClient, RetryPolicy
from convoport.model import Recording
from convoport.redact import SECRET_KEYS, Redactor

logger = logging.getLogger("convoport.signed")

#: A fresh link: ``(absolute url, expiry time or None)``.
FreshLink = tuple[str, datetime | None]
#: The adapter's way to get a fresh link (it calls the vendor's "give me a URL" endpoint).
Refresh = Callable[[], Awaitable[FreshLink]]

#: Statuses from the storage host that mean "this link expired" (S3/R2: 403, some CDNs: 410).
EXPIRED_STATUSES: Final = frozenset({403, 410})
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS: Final = 5
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_NO_AUTH: Final = httpx.Auth()
#: Query values this short are not treated as secrets (``3600``, ``GET``); secret-named keys'
#: values (``sig``, ``token``, ...) always are.
_MIN_SECRET_CHARS: Final = 8
_SECRETISH_KEY = re.compile(r"(?i)sig|token|key|cred|auth|policy|secret|pass|session")


# -- keeping the link out of logs ---------------------------------------------------------------

_ACTIVE: contextvars.ContextVar[Redactor | None] = contextvars.ContextVar(
    "convoport_signed_redactor", default=None
)


class _LinkFilter(logging.Filter):
    """Removes the running download's link secrets from httpx/httpcore records (httpx logs
    every request URL at INFO). Records are emitted in the task that sends the request, so
    the context variable names the right download."""

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = _ACTIVE.get()
        if redactor is not None:
            if record.args:
                record.msg = record.getMessage()
                record.args = None
            if isinstance(record.msg, str):
                record.msg = redactor.text(record.msg)
        return True


_LOGGERS: Final = ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2")


def _install_filters() -> None:
    for name in _LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, _LinkFilter) for f in target.filters):
            # First, so it sees the record before any filter that formats it.
            target.filters.insert(0, _LinkFilter())


def safe_url(url: str | httpx.URL) -> str:
    """A link as ``scheme://host[:port]/path`` (no user info, query or fragment), with
    ``?…`` appended when it had a query: what messages and reprs show."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "<unreadable url>"
    host = parts.netloc.rsplit("@", 1)[-1]
    shown = urlunsplit((parts.scheme, host, parts.path, "", ""))
    return shown + ("?…" if parts.query else "")


def link_secrets(url: str | httpx.URL) -> list[str]:
    """The values of ``url`` that must never be shown: every query value of at least
    ``_MIN_SECRET_CHARS`` characters, any value of a secret-named key, and the user info."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return []
    found: list[str] = []
    if "@" in parts.netloc:
        found.append(parts.netloc.rsplit("@", 1)[0])
    for raw in parts.query.split("&"):
        key, _, value = raw.partition("=")
        decoded = dict(parse_qsl(raw, keep_blank_values=True)).get(key, value) if raw else ""
        for candidate in {value, decoded}:
            if not candidate:
                continue
            if (
                len(candidate) >= _MIN_SECRET_CHARS
                or key.lower() in SECRET_KEYS
                or _SECRETISH_KEY.search(key)
            ):
                found.append(candidate)
    return found


# -- the download -------------------------------------------------------------------------------


class SignedDownload:
    """One file behind a pre-signed link, streamed by :meth:`aiter_bytes` (see the module
    docstring for the rules). Iterate it once.

    ``what`` names the file in messages (``"recording r1"``). After (or during) the download:
    ``bytes_read`` is the bytes delivered, ``size`` the file's size in bytes when the host
    said, ``content_type`` its media type, ``refreshes`` how many fresh links were asked for.
    """

    def __init__(
        self,
        http: HttpClient,
        url: str,
        *,
        expires_at: datetime | None = None,
        refresh: Refresh | None = None,
        what: str = "file",
        max_refreshes: int = 3,
        expiry_margin: float = 30.0,
        expired_statuses: Collection[int] = EXPIRED_STATUSES,
        timeout: float | httpx.Timeout = 30.0,
        refresh_timeout: float = 120.0,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        with_credentials: bool = False,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        if max_refreshes < 0:
            raise ValueError("max_refreshes must be >= 0")
        if not httpx.URL(url).is_absolute_url:
            raise ValueError(f"a signed link must be an absolute URL, got {safe_url(url)!r}")
        self.http = http
        self.what = what
        self.max_refreshes = max_refreshes
        self.expiry_margin = expiry_margin
        self.expired_statuses = frozenset(expired_statuses)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.refresh_timeout = refresh_timeout
        self.retry = retry or http.retry
        self.with_credentials = with_credentials
        self.bytes_read = 0
        self.size: int | None = None
        self.content_type: str | None = None
        self.etag: str | None = None
        self.refreshes = 0
        self._refresh = refresh
        self._headers = {
            "user-agent": USER_AGENT,
            "accept": "*/*",
            "accept-encoding": "identity",
            **{k.lower(): v for k, v in (headers or {}).items()},
        }
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sleep = sleep or asyncio.sleep
        self._redactor = Redactor()
        self._url = url
        self._expires_at = _aware(expires_at)
        self._remember(url)
        self._started = False
        self._broken = False
        self._failures = 0
        self._no_progress_refreshes = 0
        _install_filters()

    def __repr__(self) -> str:
        return (
            f"SignedDownload({self.what!r}, {safe_url(self._url)!r}, "
            f"bytes_read={self.bytes_read}, refreshes={self.refreshes})"
        )

    @property
    def url(self) -> str:
        """The link now in use, as messages show it (no query string)."""
        return safe_url(self._url)

    def _remember(self, url: str | httpx.URL) -> None:
        self._redactor.add(*link_secrets(url))

    def redact(self, text: str) -> str:
        """``text`` with the link's secrets and the adapter's credentials removed."""
        return self._redactor.text(self.http.redactor.text(text))

    # -- errors ---------------------------------------------------------------------------

    def _error(
        self,
        cls: type[ProviderError],
        message: str,
        *,
        status_code: int | None = None,
        body: bytes | None = None,
        hint: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        details: dict[str, object] | None = None,
        url: str | httpx.URL | None = None,
    ) -> ProviderError:
        excerpt = None
        if body:
            excerpt = body_excerpt(self.redact(body.decode("utf-8", errors="replace")))
        kwargs: dict[str, Any] = dict(
            provider=self.http.provider,
            status_code=status_code,
            body_excerpt=excerpt,
            method="GET",
            url=safe_url(url or self._url),
            hint=hint,
            retryable=retryable,
            details={"what": self.what, "bytes_read": self.bytes_read, **(details or {})},
        )
        text = self.redact(message)
        if issubclass(cls, (RateLimited, ProviderUnavailable)):
            return cls(text, retry_after=retry_after, **kwargs)
        return cls(text, **kwargs)

    def _expired_error(self, reason: str, status_code: int | None, body: bytes | None) -> Exception:
        if self._refresh is None:
            hint = "list the recording again to get a fresh link, then download it at once"
            message = f"the download link of {self.what} {reason}"
        else:
            hint = (
                "the vendor keeps handing out links that do not work; try again later, or "
                "check that the file still exists (vendors keep files for a limited time)"
            )
            message = (
                f"the download link of {self.what} {reason}, after {self.refreshes} fresh link(s)"
            )
        return self._error(
            PermissionDenied,
            message,
            status_code=status_code,
            body=body,
            hint=hint,
            retryable=False,
            details={"reason": "link_expired", "refreshes": self.refreshes},
        )

    # -- refresh --------------------------------------------------------------------------

    def _expiring(self) -> bool:
        if self._expires_at is None:
            return False
        return self._clock() + timedelta(seconds=self.expiry_margin) >= self._expires_at

    async def _renew(self, reason: str, status_code: int | None, body: bytes | None) -> None:
        """Gets a fresh link, or raises the expiry error."""
        if self._refresh is None or self._no_progress_refreshes >= self.max_refreshes:
            raise self._expired_error(reason, status_code, body)
        self._no_progress_refreshes += 1
        self.refreshes += 1
        logger.info(
            "%s: the link of %s %s; asking for a fresh one", self.http.provider, self.what, reason
        )
        try:
            async with asyncio.timeout(self.refresh_timeout):
                url, expires_at = await self._refresh()
        except TimeoutError:
            raise self._error(
                ProviderUnavailable,
                f"asking for a fresh link of {self.what} took more than {self.refresh_timeout:g}s",
                retryable=True,
            ) from None
        if not isinstance(url, str) or not httpx.URL(url).is_absolute_url:
            raise self._error(
                MalformedResponse,
                f"the fresh link of {self.what} is not an absolute URL",
            )
        self._remember(url)
        self._url = url
        self._expires_at = _aware(expires_at)

    # -- transient failures ----------------------------------------------------------------

    async def _transient(self, error: ProviderError, retry_after: float | None = None) -> None:
        """Waits before the next try, or raises ``error`` when the tries are used up."""
        self._failures += 1
        if self._failures >= self.retry.attempts or not self.retry.waits_for(retry_after):
            raise error
        wait = self.retry.delay(self._failures, retry_after)
        logger.warning(
            "%s: %s; retrying in %.2fs (try %d of %d)",
            self.http.provider,
            error,
            wait,
            self._failures + 1,
            self.retry.attempts,
        )
        await self._sleep(wait)

    # -- sending --------------------------------------------------------------------------

    def _request(self, url: httpx.URL) -> httpx.Request:
        headers = dict(self._headers)
        if self.bytes_read:
            headers["range"] = f"bytes={self.bytes_read}-"
        if self.with_credentials:
            headers.update(self.http.credential_headers(url))
        return httpx.Request(
            "GET", url, headers=headers, extensions={"timeout": self.timeout.as_dict()}
        )

    async def _open(self) -> httpx.Response:
        """Sends the GET and follows redirects by hand (never with credentials to another
        origin). Transport failures become ``ProviderUnavailable``."""
        url = httpx.URL(self._url)
        client = self.http.httpx_client
        for _ in range(_MAX_REDIRECTS + 1):
            try:
                response = await client.send(
                    self._request(url), stream=True, follow_redirects=False, auth=_NO_AUTH
                )
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, url) from None
            if response.status_code in _REDIRECTS and "location" in response.headers:
                await response.aclose()
                try:
                    url = url.join(response.headers["location"])
                except httpx.InvalidURL:
                    raise self._error(
                        MalformedResponse,
                        f"the storage host redirected {self.what} to an unreadable location",
                        status_code=response.status_code,
                        url=url,
                    ) from None
                self._remember(url)
                continue
            return response
        raise self._error(
            ProviderUnavailable,
            f"more than {_MAX_REDIRECTS} redirects for {self.what}",
            retryable=False,
            url=url,
        )

    def _transport_error(self, exc: httpx.HTTPError, url: httpx.URL) -> ProviderError:
        if isinstance(exc, httpx.TimeoutException):
            message = f"timed out downloading {self.what} ({type(exc).__name__})"
        elif isinstance(exc, httpx.ConnectError):
            message = f"could not connect to the storage host of {self.what}"
        else:
            message = f"the download of {self.what} broke off ({type(exc).__name__})"
        return self._error(
            ProviderUnavailable,
            message,
            retryable=True,
            url=url,
            hint="check the network; convoport resumes the download",
        )

    # -- the body ---------------------------------------------------------------------------

    def _start_offset(self, response: httpx.Response) -> int:
        """Where the body of a 200/206 starts in the file, checking it against what is known."""
        headers = response.headers
        encoded = headers.get("content-encoding", "identity").strip().lower() not in (
            "",
            "identity",
        )
        if response.status_code == 206:
            match = _CONTENT_RANGE.match(headers.get("content-range", ""))
            if match is None:
                raise self._error(
                    MalformedResponse,
                    f"the storage host answered 206 for {self.what} without a readable "
                    "Content-Range",
                    status_code=206,
                )
            start, end, total = int(match.group(1)), int(match.group(2)), match.group(3)
            if start > self.bytes_read or end < start:
                raise self._error(
                    MalformedResponse,
                    f"the storage host sent bytes {start}-{end} of {self.what} when bytes "
                    f"from {self.bytes_read} were asked for",
                    status_code=206,
                )
            if total != "*":
                self._check_size(int(total))
            return start
        if not encoded and "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                length = -1
            if length >= 0:
                self._check_size(length)
        return 0

    def _whole(self, response: httpx.Response) -> bool:
        """Whether a 416 says the range asked for starts at the end of the file."""
        match = re.match(r"^\s*bytes\s+\*/(\d+)\s*$", response.headers.get("content-range", ""))
        size = int(match.group(1)) if match else self.size
        return size is not None and size == self.bytes_read

    def _check_size(self, size: int) -> None:
        if self.size is None:
            self.size = size
        elif size != self.size:
            raise self._error(
                MalformedResponse,
                f"{self.what} changed while it was downloaded: it was {self.size} bytes, "
                f"now {size}",
                hint="download it again from the start",
            )

    def _check_etag(self, response: httpx.Response) -> None:
        etag = response.headers.get("etag")
        if etag is None or etag.startswith("W/"):
            return
        if self.etag is None:
            self.etag = etag
        elif etag != self.etag:
            raise self._error(
                MalformedResponse,
                f"{self.what} changed while it was downloaded (its ETag changed)",
                hint="download it again from the start",
            )

    async def _error_body(self, response: httpx.Response) -> bytes:
        try:
            if response.is_stream_consumed:  # a transport that handed over a read body
                return response.content[: 16 * 1024]
            body = b""
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > 16 * 1024:
                    break
            return body
        except httpx.HTTPError:
            return b""
        finally:
            await response.aclose()

    async def aiter_bytes(self, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]:
        """The file's bytes, each exactly once, in chunks of at most ``chunk_size`` bytes."""
        if self._started:
            raise RuntimeError("a SignedDownload is read once")
        self._started = True
        self._failures = 0
        self._no_progress_refreshes = 0
        token = _ACTIVE.set(self._redactor)
        try:
            while True:
                if self._expiring():
                    await self._renew("expired before it was used", None, None)
                    continue
                try:
                    response = await self._open()
                except ProviderError as exc:
                    if not exc.retryable:
                        raise
                    await self._transient(exc)
                    continue
                status = response.status_code
                if status in self.expired_statuses:
                    body = await self._error_body(response)
                    await self._renew(f"was refused ({status})", status, body)
                    continue
                if status == 416 and self.bytes_read and self._whole(response):
                    await response.aclose()
                    return
                if status not in (200, 206):
                    body = await self._error_body(response)
                    retry_after = _retry_after(response)
                    cls = error_class_for_status(status) if status >= 400 else MalformedResponse
                    error = self._error(
                        cls,
                        f"the storage host answered {status} for {self.what}",
                        status_code=status,
                        body=body,
                        retryable=status >= 400 and is_retryable_status(status),
                        retry_after=retry_after,
                    )
                    if error.retryable:
                        await self._transient(error, retry_after)
                        continue
                    raise error
                self._broken = False
                try:
                    async for chunk in self._body(response, chunk_size):
                        yield chunk
                finally:
                    await response.aclose()
                if self._broken:
                    continue  # a read failure, already waited for: resume
                if self.size is None or self.bytes_read >= self.size:
                    return
                # The body ended early: a dropped connection or a link that expired mid-way.
                await self._transient(
                    self._error(
                        ProviderUnavailable,
                        f"the body of {self.what} ended after {self.bytes_read} of "
                        f"{self.size} bytes",
                        retryable=True,
                    )
                )
        finally:
            _ACTIVE.reset(token)

    async def _body(self, response: httpx.Response, chunk_size: int) -> AsyncIterator[bytes]:
        """Streams one response's body, skipping what was already delivered. A read failure
        is a transient failure: it waits and returns, and the caller resumes."""
        start = self._start_offset(response)
        self._check_etag(response)
        if self.content_type is None:
            self.content_type = response.headers.get("content-type")
        skip = self.bytes_read - start
        if skip:
            logger.info(
                "%s: %s restarts at byte %d; skipping %d bytes already delivered",
                self.http.provider,
                self.what,
                start,
                skip,
            )
        encoded = response.headers.get("content-encoding", "identity").strip().lower() not in (
            "",
            "identity",
        )
        # Network reads are passed on as they arrive (split to ``chunk_size``): a read that
        # arrived before a failure is delivered, not lost in a chunking buffer.
        reader: AsyncIterator[bytes]
        if response.is_stream_consumed:  # a transport that handed over a body already read
            reader = _once(response.content)
        else:
            reader = response.aiter_bytes() if encoded else response.aiter_raw()
        try:
            async for read in reader:
                for at in range(0, len(read), chunk_size):
                    chunk = read[at : at + chunk_size]
                    if skip:
                        if len(chunk) <= skip:
                            skip -= len(chunk)
                            continue
                        chunk, skip = chunk[skip:], 0
                    if self.size is not None and self.bytes_read + len(chunk) > self.size:
                        raise self._error(
                            MalformedResponse,
                            f"the storage host sent more than the {self.size} bytes of {self.what}",
                        )
                    self.bytes_read += len(chunk)
                    self._failures = 0
                    self._no_progress_refreshes = 0
                    yield chunk
        except httpx.HTTPError as exc:
            self._broken = True
            await self._transient(self._transport_error(exc, response.request.url))
            return
        if skip:
            # A restart that ended before reaching what was already delivered: truncated.
            self._broken = True
            await self._transient(
                self._error(
                    ProviderUnavailable,
                    f"a restarted download of {self.what} ended before byte {self.bytes_read}",
                    retryable=True,
                )
            )


def _aware(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _retry_after(response: httpx.Response) -> float | None:
    millis = response.headers.get("retry-after-ms")
    if millis is not None:
        try:
            seconds = float(millis) / 1000
        except ValueError:
            pass
        else:
            if math.isfinite(seconds) and seconds >= 0:
                return seconds
    return parse_retry_after(response.headers.get("retry-after"))


def open_signed(http: HttpClient, url: str, **options: Any) -> SignedDownload:
    """Shorthand for :class:`SignedDownload` (same keyword options)."""
    return SignedDownload(http, url, **options)


class SignedRecordingStream(RecordingStream):
    """A :class:`~convoport.adapter.RecordingStream` over a :class:`SignedDownload`: what an
    adapter's ``_open_recording`` yields for a recording behind a pre-signed link."""

    def __init__(self, recording: Recording, download: SignedDownload) -> None:
        self.recording = recording
        self.download = download

    def __repr__(self) -> str:
        return f"SignedRecordingStream({self.recording.id!r}, {self.download!r})"

    async def aiter_bytes(self, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]:
        async for chunk in self.download.aiter_bytes(chunk_size):
            yield chunk


async def _once(data: bytes) -> AsyncIterator[bytes]:
    """``data`` as a one-chunk stream (empty data: no chunk)."""
    if data:
        yield data


__all__ = [
    "EXPIRED_STATUSES",
    "FreshLink",
    "Refresh",
    "SignedDownload",
    "SignedRecordingStream",
    "link_secrets",
    "open_signed",
    "safe_url",
]
