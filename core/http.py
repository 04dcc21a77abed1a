"""The HTTP layer every adapter talks through.

:class:`HttpClient` wraps an injected ``httpx.AsyncClient`` (or builds one over an injected
transport) and adds what each vendor would otherwise re-implement:

* a base URL and credential headers that are sent **only** to the base URL's origin — a
  pre-signed download link on another host, or a redirect to one, never sees the key;
* timeouts (seconds) and retries with tenacity: only for requests that are safe to repeat
  (GET, HEAD, OPTIONS, PUT, DELETE, or a request the adapter marks ``retry=True`` such as a
  chunk upload by sequence number; a request that never left the machine — a connect
  error — is always safe), only on retryable errors, honouring ``Retry-After`` up to a cap,
  otherwise jittered exponential backoff;
* the one status-code table (:mod:`convoport.errors`) plus a hook for the vendor's error
  envelope (:data:`ErrorParser`);
* streaming responses that never buffer the whole body;
* stdlib logging (logger ``convoport.http``) with secrets removed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import re
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import attrs
import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from convoport._version import __version__
from convoport.errors import (
    ConfigError,
    InvalidRequest,
    MalformedResponse,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    body_excerpt,
    error_class_for_status,
    is_retryable_status,
    parse_retry_after,
)
from convoport.multipart import FilePart, MultipartWriter, guess_content_type
from convoport.parsing import loads_json
from convoport.redact import Redactor

logger = logging.getLogger("convoport.http")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: a relative path (with a query) that joins the base URL by concatenation: no dot or empty
#: segments, scheme, authority or fragment (the others go through ``URL.join``)
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_~%-]+(/[A-Za-z0-9_~%-]+)*(\?[A-Za-z0-9_~%=&+.,:;-]+)?")
_MAX_REDIRECTS = 5
_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "cf-ray")
USER_AGENT = f"convoport/{__version__}"


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How a client repeats failed requests.

    ``attempts`` counts every try (1 = never retry). Backoff before the *n*-th retry (try
    *n* + 1) is a random time in ``[0, min(backoff_max, backoff_base * 2**(n-1))]`` seconds
    ("full jitter"). A ``Retry-After`` up to ``retry_after_cap`` seconds is waited exactly; a
    longer one is not waited at all: the ``RateLimited`` error is raised with its
    ``retry_after``.
    """

    attempts: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    backoff_base: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    backoff_max: float = attrs.field(default=20.0, validator=attrs.validators.ge(0))
    retry_after_cap: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))
    #: The random source of the jitter (None: the ``random`` module); tests pass a seeded one.
    rng: random.Random | None = attrs.field(default=None, eq=False, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1 = the first retry).

        This is the one backoff formula of convoport: the HTTP retries, the live reconnect
        loop (:class:`convoport.live.LiveSessionBase`) and Illocution's chunk retries all use
        it. A ``retry_after`` the vendor asked for (seconds) is waited exactly; otherwise a
        random time in ``[0, min(backoff_max, backoff_base * 2**(attempt-1))]``.
        """
        if retry_after is not None:
            return max(0.0, float(retry_after))
        exponent = min(max(attempt, 1) - 1, 64)  # 2**64 * base is past any cap: no overflow
        ceiling = min(self.backoff_max, self.backoff_base * 2**exponent)
        if ceiling <= 0:
            return 0.0
        return (self.rng or random).uniform(0, ceiling)

    def waits_for(self, retry_after: float | None) -> bool:
        """Whether a retry is allowed after the vendor asked for ``retry_after`` seconds
        (None: it did not ask): only up to ``retry_after_cap``."""
        return retry_after is None or retry_after <= self.retry_after_cap


NO_RETRY = RetryPolicy(attempts=1)


@attrs.frozen(kw_only=True)
class ErrorInfo:
    """What an adapter's error-envelope hook read from an error response.

    ``error_class`` overrides the status table for a documented vendor quirk (Gladia answers
    403 when a job is not deletable *yet*: that is a ``Conflict``); ``hint`` tells the user
    what to do.
    """

    message: str | None = None
    request_id: str | None = None
    code: str | None = None
    error_class: type[ProviderError] | None = None
    retryable: bool | None = None
    hint: str | None = None
    details: dict[str, Any] = attrs.field(factory=dict)


#: An adapter's error-envelope hook: (response, body bytes) -> what it could read, or None.
ErrorParser = Callable[[httpx.Response, bytes], ErrorInfo | None]


def default_error_parser(response: httpx.Response, body: bytes) -> ErrorInfo | None:
    """Reads the common envelopes: ``message``, FastAPI ``detail`` (string, list of
    ``{msg, loc}``, or object), ``error`` (string or object), ``errors[*].message``."""
    try:
        data = loads_json(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    message = error_message(data)
    request_id = data.get("request_id") or data.get("requestId")
    code = data.get("code")
    return ErrorInfo(
        message=message,
        request_id=str(request_id)[:200] if isinstance(request_id, (str, int)) else None,
        code=str(code)[:200] if isinstance(code, (str, int)) else None,
    )


def error_message(data: Mapping[str, Any]) -> str | None:
    """The human message of a JSON error body in the common envelopes (``message``, FastAPI
    ``detail`` as a string, a list of ``{loc, msg}`` or an object, ``error`` as a string or an
    object, ``errors[*].message``); None when there is none. Adapters' error hooks reuse it."""
    for key in ("message", "detail", "error", "errors", "msg", "title"):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            return value
        if isinstance(value, Mapping):
            inner = error_message(value)
            if inner:
                return inner
        if isinstance(value, list) and value:
            parts = []
            for item in value[:5]:
                if isinstance(item, str):
                    parts.append(item)
                elif isinstance(item, Mapping):
                    text = item.get("msg") or item.get("message")
                    loc = item.get("loc")
                    if text and isinstance(loc, list):
                        text = f"{'.'.join(str(x) for x in loc)}: {text}"
                    if text:
                        parts.append(str(text))
            if parts:
                return "; ".join(parts)
    return None


class _RedactingFilter(logging.Filter):
    """Removes credentials from records of loggers convoport does not own (httpx logs every
    request URL at INFO, and a WebSocket URL can carry a token)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        if isinstance(record.msg, str):
            record.msg = _LOG_REDACTOR.text(record.msg)
        return True


_LOG_REDACTOR = Redactor()
# Records of child loggers skip a parent's filters, so each one httpcore uses is listed.
_FILTERED_LOGGERS = (
    "httpx",
    "httpx_ws",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


def _install_log_filters() -> None:
    for name in _FILTERED_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, _RedactingFilter) for f in target.filters):
            target.addFilter(_RedactingFilter())


class StreamedResponse:
    """A response whose body is read in chunks. Transport failures while reading become
    ``ProviderUnavailable``; the body is never held in memory whole."""

    def __init__(self, response: httpx.Response, client: HttpClient) -> None:
        self.response = response
        self._client = client

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    @property
    def url(self) -> str:
        return str(self.response.url)

    async def aiter_bytes(self, chunk_size: int = 1 << 16) -> AsyncIterator[bytes]:
        """The body in chunks of at most ``chunk_size`` bytes, as they arrive (decoded, never
        gathered: a piece larger than ``chunk_size`` is split, smaller ones are passed on as
        they are, so no byte is copied to re-chunk the stream)."""
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        try:
            async for chunk in self.response.aiter_bytes():
                if len(chunk) <= chunk_size:
                    yield chunk
                    continue
                view = memoryview(chunk)
                for start in range(0, len(chunk), chunk_size):
                    yield bytes(view[start : start + chunk_size])
        except httpx.HTTPError as exc:
            raise self._client.transport_error(exc, self.response.request) from None


class HttpClient:
    """One vendor's HTTP access. Construct it in the adapter; close it with ``aclose()``.

    ``credentials`` are headers (``{"x-gladia-key": key}``) added only to requests whose
    origin (scheme, host, port) is the base URL's; surrounding whitespace is removed from
    their values (a key read from a file or a mounted secret often ends with a newline), and a
    value that still holds a character HTTP forbids in a header is a ``ConfigError`` naming
    the header, never the value. ``client`` is an injected ``httpx.AsyncClient`` (not closed
    here); otherwise one is built over ``transport``.

    ``timeout`` is seconds (or an ``httpx.Timeout``): each phase (connect, write, each read)
    is bounded by it. ``deadline`` bounds one whole attempt, in seconds: for a buffered
    request, from sending to the last byte of the body (a body trickling in slower than any
    read timeout still ends); for a streamed one, until the response headers arrive (the
    body is then bounded per read: a long download that keeps moving is not cut off). By
    default it is the sum of the connect, write and read timeouts (90 s for the default 30 s);
    None when the read timeout is None. Running out is ``ProviderUnavailable`` (retryable,
    like any timeout).
    """

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        credentials: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout = 30.0,
        retry: RetryPolicy | None = None,
        error_parser: ErrorParser | None = None,
        redactor: Redactor | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        deadline: float | None = None,
    ) -> None:
        self.provider = provider
        try:
            self.base_url = httpx.URL(base_url.strip().rstrip("/") + "/")
            # a base with a query or fragment joins by the RFC's rules only
            plain = not self.base_url.query and not self.base_url.fragment
            self._base_text = str(self.base_url) if plain else None
        except httpx.InvalidURL as exc:
            raise ConfigError(
                f"{provider}: the base URL {base_url!r} is not a valid URL ({exc})",
                hint="set base_url to an http(s) URL such as https://api.example.com",
            ) from None
        raw_credentials = dict(credentials or {})
        self.redactor = redactor or Redactor()
        self.redactor.add(*raw_credentials.values())
        _LOG_REDACTOR.add(*raw_credentials.values())
        self._credentials = _clean_credentials(provider, raw_credentials)
        _install_log_filters()
        self.retry = retry or RetryPolicy()
        self._error_parser = error_parser
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.deadline = deadline if deadline is not None else overall_deadline(self._timeout)
        self._headers = {"user-agent": USER_AGENT, **(headers or {})}
        self._sleep = sleep or asyncio.sleep
        if client is not None:
            self._client = client
            self._owns_client = False
        else:
            self._client = httpx.AsyncClient(transport=transport, timeout=self._timeout)
            self._owns_client = True
            if transport is None:
                from convoport._network import install  # httpcore is loaded by now

                install(self._client)

    def __repr__(self) -> str:
        return f"HttpClient(provider={self.provider!r}, base_url={str(self.base_url)!r})"

    @property
    def httpx_client(self) -> httpx.AsyncClient:
        """The underlying client (for protocols such as WebSockets and SSE)."""
        return self._client

    async def aclose(self) -> None:
        """Closes the connections (an injected client is left to its owner)."""
        if self._owns_client:
            await self._client.aclose()

    # -- URLs and credentials -------------------------------------------------------------

    def url(self, path_or_url: str) -> httpx.URL:
        """Joins a relative path to the base URL; an absolute URL is returned as is.

        A value that is not a usable http(s) URL (control characters, over 65,536 characters,
        another scheme such as ``javascript:``) is ``MalformedResponse``: such values come
        from the vendor (a ``next`` link, an endpoint in a start answer), ids in paths go
        through :func:`quote_segment` first."""
        if not isinstance(path_or_url, str):
            raise self._bad_url(path_or_url, "it is not a string")
        try:
            relative = path_or_url.lstrip("/")
            if self._base_text is not None and _PLAIN_PATH.fullmatch(relative):
                # what join() makes of a path without dot segments, a scheme or a fragment:
                # the base URL (it ends with "/") and the path, parsed once instead of thrice
                url = httpx.URL(self._base_text + relative)
            else:
                url = httpx.URL(path_or_url)
                if not url.is_absolute_url:
                    url = self.base_url.join(relative)
        except httpx.InvalidURL as exc:
            raise self._bad_url(path_or_url, str(exc)) from None
        if url.scheme not in ("http", "https", "ws", "wss") or not url.host:
            raise self._bad_url(path_or_url, f"the scheme {url.scheme!r} is not http(s)")
        return url

    def _bad_url(self, value: object, problem: str) -> MalformedResponse:
        shown = self.redactor.text(repr(value)[:120])
        return MalformedResponse(
            f"the vendor gave a URL that cannot be requested ({problem}): {shown}",
            provider=self.provider,
            retryable=False,
            hint="the vendor's API may have changed; please report this",
        )

    def same_origin(self, url: httpx.URL) -> bool:
        """Whether ``url`` is on the base URL's scheme, host and port."""
        base = self.base_url
        return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)

    def credential_headers(self, url: httpx.URL) -> dict[str, str]:
        """The credential headers for ``url`` (empty for any other origin)."""
        return dict(self._credentials) if self.same_origin(url) else {}

    # -- requests -------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        json: Any = None,
        content: bytes | AsyncIterable[bytes] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        retry: bool | None = None,
        timeout: float | httpx.Timeout | None = None,
        error_parser: ErrorParser | None = None,
    ) -> httpx.Response:
        """Sends a request and reads the body. Non-2xx raises the mapped ``ProviderError``.

        ``retry=None`` repeats only safe methods; ``True``/``False`` force it. ``files`` must
        be re-readable (bytes) when the request may be retried.
        """
        method = method.upper()
        may_retry = method in SAFE_METHODS if retry is None else retry

        async def attempt() -> httpx.Response:
            request = self._build(method, url, params, json, content, data, files, headers, timeout)
            response = await self._send(request, stream=False)
            if response.status_code >= 400:
                raise self.error_from_response(response, response.content, error_parser)
            return response

        return await self._with_retries(attempt, may_retry)

    async def json(
        self,
        method: str,
        url: str,
        **kwargs: Any,
    ) -> Any:
        """Like :meth:`request`, returning the parsed JSON body (``None`` for an empty one)."""
        response = await self.request(method, url, **kwargs)
        return self.parse_json(response)

    def parse_json(self, response: httpx.Response) -> Any:
        """Parses a response body as JSON; anything else is ``MalformedResponse``."""
        if not response.content.strip():
            return None
        try:
            return loads_json(response.content)
        except ValueError as exc:
            raise MalformedResponse(
                f"expected a JSON body ({self.redactor.text(str(exc))[:120]})",
                provider=self.provider,
                status_code=response.status_code,
                body_excerpt=body_excerpt(response.content, self.redactor),
                method=response.request.method,
                url=self.redactor.url(str(response.request.url)),
                request_id=self._request_id_header(response),
            ) from None

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        retry: bool | None = None,
        timeout: float | httpx.Timeout | None = None,
        error_parser: ErrorParser | None = None,
    ) -> AsyncIterator[StreamedResponse]:
        """Opens a streamed response. Retries cover getting the response headers; the body
        is then read by the caller through :meth:`StreamedResponse.aiter_bytes`."""
        method = method.upper()
        may_retry = method in SAFE_METHODS if retry is None else retry

        async def attempt() -> httpx.Response:
            request = self._build(method, url, params, None, None, None, None, headers, timeout)
            response = await self._send(request, stream=True)
            if response.status_code >= 400:
                try:
                    body = await response.aread()
                except httpx.HTTPError:
                    body = b""
                finally:
                    await response.aclose()
                raise self.error_from_response(response, body, error_parser)
            return response

        response = await self._with_retries(attempt, may_retry)
        try:
            yield StreamedResponse(response, self)
        finally:
            await response.aclose()

    def _build(
        self,
        method: str,
        url: str,
        params: Any,
        json: Any,
        content: bytes | AsyncIterable[bytes] | None,
        data: Mapping[str, Any] | None,
        files: Any,
        headers: Mapping[str, str] | None,
        timeout: float | httpx.Timeout | None,
    ) -> httpx.Request:
        target = self.url(url)
        extensions = {}
        if timeout is not None:
            t = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
            extensions["timeout"] = t.as_dict()
        if files is not None:
            # One multipart writer for the whole project (same bytes as httpx would send).
            body = multipart_body(data, files)
            content = body.to_bytes() if body.resendable else body.stream()
            headers = {**body.headers(), **(headers or {})}
            data = files = None
        return self._client.build_request(
            method,
            target,
            params=params,
            json=json,
            content=content,
            data=data,
            files=files,
            headers={**self._headers, **(headers or {})},
            extensions=extensions or None,
        )

    async def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        """Sends with credentials for the base origin only, following redirects by hand so
        that a redirect to another host never carries them."""
        for _ in range(_MAX_REDIRECTS + 1):
            for name, value in self.credential_headers(request.url).items():
                request.headers[name] = value
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.deadline):
                    response = await self._client.send(request, stream=True, follow_redirects=False)
            except TimeoutError:
                raise self._deadline_error(request, "the response headers") from None
            except httpx.InvalidURL as exc:
                # httpx reads a redirect's Location even when it does not follow it
                raise MalformedResponse(
                    f"the vendor answered with a URL that cannot be followed ({exc})",
                    provider=self.provider,
                    method=request.method,
                    url=self.redactor.url(str(request.url)),
                    retryable=False,
                ) from None
            except httpx.HTTPError as exc:
                logger.debug(
                    "%s %s failed: %s",
                    request.method,
                    self.redactor.url(str(request.url)),
                    type(exc).__name__,
                )
                raise self.transport_error(exc, request) from None
            logger.debug(
                "%s %s -> %d in %.3fs",
                request.method,
                self.redactor.url(str(request.url)),
                response.status_code,
                time.monotonic() - started,
            )
            if response.status_code in _REDIRECTS and "location" in response.headers:
                await response.aclose()
                request = self._redirect(request, response)
                continue
            if not stream:
                try:
                    left = (
                        None
                        if self.deadline is None
                        else self.deadline - (time.monotonic() - started)
                    )
                    async with asyncio.timeout(left):
                        await response.aread()
                except TimeoutError:
                    raise self._deadline_error(request, "the whole response body") from None
                except httpx.HTTPError as exc:
                    raise self.transport_error(exc, request) from None
                finally:
                    await response.aclose()
            return response
        raise ProviderUnavailable(
            f"more than {_MAX_REDIRECTS} redirects",
            provider=self.provider,
            method=request.method,
            url=self.redactor.url(str(request.url)),
            retryable=False,
        )

    def _deadline_error(self, request: httpx.Request, what: str) -> ProviderUnavailable:
        error = ProviderUnavailable(
            f"timed out: {what} did not arrive within {self.deadline:g}s (the request deadline)",
            provider=self.provider,
            method=request.method,
            url=self.redactor.url(str(request.url)),
            retryable=True,
            hint="the vendor answers too slowly; raise the timeout (connect(..., timeout=S): "
            "the deadline is connect + write + read timeouts) or try again later",
        )
        error.details["not_sent"] = False
        return error

    def _redirect(self, request: httpx.Request, response: httpx.Response) -> httpx.Request:
        raw_location = response.headers["location"]
        try:
            location = request.url.join(raw_location)
        except httpx.InvalidURL as exc:
            raise self._bad_redirect(request, response, raw_location, str(exc)) from None
        if location.scheme not in ("http", "https") or not location.host:
            raise self._bad_redirect(
                request, response, raw_location, f"the scheme {location.scheme!r} is not http(s)"
            )
        method = request.method
        keep_body = not (
            response.status_code == 303 or (response.status_code in (301, 302) and method == "POST")
        )
        dropped = {name.lower() for name in self._credentials} | {"host", "authorization", "cookie"}
        if not keep_body:
            method = "GET"
            dropped |= {"content-length", "content-type", "transfer-encoding"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in dropped}
        # The body is re-sent from its stream: a multipart upload is not buffered in
        # ``request.content`` by a network transport (its file fields are re-readable).
        return httpx.Request(
            method,
            location,
            headers=headers,
            stream=request.stream if keep_body else None,
            extensions=request.extensions,
        )

    def _bad_redirect(
        self, request: httpx.Request, response: httpx.Response, location: str, problem: str
    ) -> MalformedResponse:
        return MalformedResponse(
            f"the vendor redirected to a location that cannot be followed ({problem}): "
            f"{self.redactor.text(repr(location)[:120])}",
            provider=self.provider,
            status_code=response.status_code,
            method=request.method,
            url=self.redactor.url(str(request.url)),
            request_id=self._request_id_header(response),
            retryable=False,
        )

    # -- errors and retries ---------------------------------------------------------------

    def transport_error(self, exc: httpx.HTTPError, request: httpx.Request) -> ProviderError:
        """Maps an httpx transport failure to ``ProviderUnavailable`` (retryable), except a
        request httpx could not even put on the wire (``LocalProtocolError``: a header value
        or URL with characters HTTP forbids), which is a final ``InvalidRequest`` (its text,
        which may quote a header value, is never shown)."""
        if isinstance(exc, (httpx.LocalProtocolError, httpx.UnsupportedProtocol)):
            invalid = InvalidRequest(
                "the request could not be sent: a header value or the URL holds characters "
                f"HTTP does not allow ({type(exc).__name__})",
                provider=self.provider,
                method=request.method,
                url=self.redactor.url(str(request.url)),
                retryable=False,
                hint="check the configured credentials and options for stray whitespace, "
                "newlines or control characters",
            )
            invalid.details["not_sent"] = False
            return invalid
        if isinstance(exc, httpx.TimeoutException):
            message = f"timed out ({type(exc).__name__})"
        elif isinstance(exc, httpx.ConnectError):
            message = "could not connect"
        else:
            message = f"connection failed ({type(exc).__name__})"
        error = ProviderUnavailable(
            message,
            provider=self.provider,
            method=request.method,
            url=self.redactor.url(str(request.url)),
            retryable=True,
            hint="check the network or the vendor's status page; convoport retries this",
        )
        # A request that never left the machine may be repeated whatever its method.
        error.details["not_sent"] = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
        return error

    def error_from_response(
        self,
        response: httpx.Response,
        body: bytes,
        error_parser: ErrorParser | None = None,
    ) -> ProviderError:
        """Builds the typed error for a non-2xx response (status table + envelope hook)."""
        parser = error_parser or self._error_parser
        info: ErrorInfo | None = None
        if parser is not None:
            try:
                info = parser(response, body)
            except Exception as exc:  # a broken hook must not hide the vendor's error
                # No traceback: the hook's exception text may quote the body (and a key in it).
                logger.debug(
                    "error parser of %s failed: %s",
                    self.provider,
                    self.redactor.text(f"{type(exc).__name__}: {exc}"),
                )
        if info is None:
            info = default_error_parser(response, body) or ErrorInfo()
        status = response.status_code
        cls = info.error_class or error_class_for_status(status)
        retryable = is_retryable_status(status) if info.retryable is None else info.retryable
        message = info.message or response.reason_phrase or f"HTTP {status}"
        request_id = info.request_id or self._request_id_header(response)
        kwargs: dict[str, Any] = dict(
            provider=self.provider,
            status_code=status,
            request_id=self.redactor.text(request_id)[:200] if request_id else None,
            body_excerpt=body_excerpt(body, self.redactor),
            retryable=retryable,
            method=response.request.method,
            url=self.redactor.url(str(response.request.url)),
            hint=self.redactor.text(info.hint) if info.hint else None,
            details=dict(info.details, **({"code": info.code} if info.code else {})),
        )
        message = self.redactor.text(message)
        if issubclass(cls, (RateLimited, ProviderUnavailable)):
            return cls(message, retry_after=self._retry_after(response), **kwargs)
        return cls(message, **kwargs)

    @staticmethod
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

    def _request_id_header(self, response: httpx.Response) -> str | None:
        """The vendor's request id header (redacted: a vendor may echo anything)."""
        for name in _REQUEST_ID_HEADERS:
            if name in response.headers:
                return self.redactor.text(response.headers[name])[:200]
        return None

    def _should_retry(self, exc: BaseException, may_retry: bool) -> bool:
        if not isinstance(exc, ProviderError) or not exc.retryable:
            return False
        if not may_retry and not exc.details.get("not_sent"):
            return False
        return self.retry.waits_for(getattr(exc, "retry_after", None))

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return self.retry.delay(state.attempt_number, getattr(exc, "retry_after", None))

    async def _with_retries(
        self, attempt: Callable[[], Awaitable[httpx.Response]], may_retry: bool
    ) -> httpx.Response:
        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            logger.warning(
                "%s: retrying the request after %s (request attempt %d of %d, waiting %.2fs)",
                self.provider,
                exc,
                state.attempt_number,
                self.retry.attempts,
                state.upcoming_sleep,
            )

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda e: self._should_retry(e, may_retry)),
            reraise=True,
            sleep=self._sleep,
            before_sleep=before_sleep,
        )
        result: httpx.Response = await retrying(attempt)
        return result


def overall_deadline(timeout: httpx.Timeout) -> float | None:
    """The default deadline of one request attempt for ``timeout``, in seconds: connect +
    write + read (a phase without a timeout adds nothing); None when the read timeout is None
    (a stream that may stay silent on purpose, such as an event stream)."""
    if timeout.read is None:
        return None
    return sum(t for t in (timeout.connect, timeout.write, timeout.read) if t is not None)


_HEADER_VALUE = re.compile(r"[\x21-\x7e\x80-\xff]([\x20-\x7e\x80-\xff\t]*[\x21-\x7e\x80-\xff])?")


def _clean_credentials(provider: str, credentials: Mapping[str, str]) -> dict[str, str]:
    """Credential header values without surrounding whitespace; a value that is empty or
    still holds a character HTTP forbids in a header (a newline inside, a control character,
    non-Latin-1 text) is a ``ConfigError`` that names the header, never the value."""
    cleaned: dict[str, str] = {}
    for name, value in credentials.items():
        text = value.strip() if isinstance(value, str) else value
        if not isinstance(text, str) or not _HEADER_VALUE.fullmatch(text):
            problem = (
                "is empty"
                if isinstance(text, str) and not text
                else (
                    "holds a character an HTTP header cannot carry (a newline, a control "
                    "character or non-Latin-1 text)"
                )
            )
            raise ConfigError(
                f"{provider}: the credential sent as the {name} header {problem}",
                hint="check the key: copy it again without extra characters",
            )
        cleaned[name] = text
    return cleaned


def multipart_body(data: Mapping[str, Any] | None, files: Any) -> MultipartWriter:
    """The ``multipart/form-data`` body for httpx-style ``data=`` + ``files=`` arguments.

    ``data`` values are strings or primitives (``True`` -> ``"true"``, ``None`` -> ``""``) or
    lists of them (one part each). ``files`` is a mapping or a list of ``(name, file)`` pairs,
    or a list of :class:`~convoport.multipart.FilePart`; a file is ``bytes``/``str``
    (sent as filename ``upload``), ``(filename, content)``, ``(filename, content,
    content_type)`` or a ``FilePart`` (whose content may be async chunks). A missing content
    type is guessed from the filename, as httpx does. Fields come first, then files.
    """
    fields: list[tuple[str, str]] = []
    for name, value in (data or {}).items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            fields.append((str(name), _form_value(item)))
    items = files.items() if isinstance(files, Mapping) else files
    parts: list[FilePart] = []
    for item in items:
        if isinstance(item, FilePart):
            parts.append(item)
            continue
        name, value = item
        if isinstance(value, FilePart):
            parts.append(attrs.evolve(value, name=name))
            continue
        filename: str | None
        content_type: str | None = None
        if isinstance(value, tuple):
            filename, content = value[0], value[1]
            if len(value) > 2:
                content_type = value[2]
        else:
            filename, content = "upload", value
        if isinstance(content, str):
            content = content.encode()
        if not isinstance(content, bytes):
            raise TypeError(f"multipart file {name!r}: content must be bytes or a FilePart")
        parts.append(
            FilePart(
                name=str(name),
                filename=filename or None,
                content=content,
                content_type=content_type or guess_content_type(filename),
            )
        )
    return MultipartWriter.from_fields(fields, parts)


def _form_value(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


def quote_segment(value: str, *, provider: str, what: str = "id") -> str:
    """``value`` as ONE percent-encoded URL path segment, for every id an adapter puts in a
    path (``f"/v2/live/{quote_segment(session_id, provider=self.name)}"``).

    Everything but RFC 3986 unreserved characters is encoded (``/`` as ``%2F``, ``%`` as
    ``%25``, spaces, ``?``, ``#``, non-ASCII as UTF-8), so the id can neither leave the
    collection path nor add a query. ``""``, ``"."`` and ``".."`` cannot be one segment (URL
    normalisation, in httpx and on the way, removes dot segments even when percent-encoded):
    they raise :class:`~convoport.errors.InvalidRequest` before any I/O.
    """
    from urllib.parse import quote

    from convoport.errors import InvalidRequest

    if not isinstance(value, str) or value in ("", ".", ".."):
        raise InvalidRequest(
            f"{value!r} is not a valid {what}: it cannot be sent as a URL path segment",
            provider=provider,
            hint=f"pass the {what} the vendor gave (see 'convoport sessions list')",
        )
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        raise InvalidRequest(
            f"{value.encode('utf-8', 'backslashreplace').decode('ascii', 'replace')!r} is not a "
            f"valid {what}: it is not valid Unicode text (a lone surrogate)",
            provider=provider,
            hint=f"pass the {what} the vendor gave (see 'convoport sessions list')",
        ) from None


__all__ = [
    "NO_RETRY",
    "SAFE_METHODS",
    "ErrorInfo",
    "ErrorParser",
    "HttpClient",
    "RetryPolicy",
    "StreamedResponse",
    "default_error_parser",
    "error_message",
    "multipart_body",
    "overall_deadline",
    "quote_segment",
]
