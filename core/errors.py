"""The one error hierarchy, the HTTP status table and ``Retry-After`` parsing.

::

    ConvoportError
    ├── ConfigError                 bad or missing configuration; names what to set
    ├── UnsupportedOperation        the backend does not declare the capability (raised before I/O)
    ├── LiveSessionError            a live session could not continue (after its retries)
    ├── ArchiveError                the local archive refused a write or is inconsistent
    └── ProviderError               the vendor answered with an error, or did not answer
        ├── AuthenticationError     401
        ├── PermissionDenied        403
        ├── NotFound                404, 410
        ├── Conflict                409 (and vendor-specific "not in this state yet" answers)
        ├── InvalidRequest          400, 413, 422 and other 4xx
        ├── RateLimited             429 (``retry_after`` in seconds when the vendor said)
        ├── ProviderUnavailable     5xx, 408, connection errors, timeouts
        └── MalformedResponse       a body the adapter cannot read, or a 2xx that carries an error

Adapters never choose classes by status code themselves: :func:`error_class_for_status` is the
one table. An adapter's error-envelope hook only extracts the message, the request id and,
rarely, overrides the class for a documented vendor quirk.
"""

from __future__ import annotations

import email.utils
import math
from datetime import UTC, datetime
from typing import Any, ClassVar

from convoport.redact import DEFAULT_REDACTOR, Redactor

#: How many characters of a response body an error keeps (after redaction).
BODY_EXCERPT_CHARS = 300


class ConvoportWarning(UserWarning):
    """Base class of every warning convoport emits."""


class PluginWarning(ConvoportWarning):
    """A plugin could not be loaded and was skipped."""


class ConvoportError(Exception):
    """Base class of every error convoport raises.

    ``hint`` says what the person reading the message can do about it; it is appended to
    ``str(error)``.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class ConfigError(ConvoportError):
    """Configuration is missing or invalid: a provider name, a credential, an option."""


class UnsupportedOperation(ConvoportError):
    """The backend does not declare the capability the call needs.

    Raised before any I/O. ``capability`` is the capability's value (for example
    ``"catalog.delete"``) and ``provider`` the backend's name.
    """

    def __init__(self, capability: str, provider: str, *, detail: str | None = None) -> None:
        self.capability = capability
        self.provider = provider
        message = f"{provider} does not support {capability}"
        if detail:
            message += f": {detail}"
        super().__init__(message, hint=f"run 'convoport providers' to see what {provider} supports")


class LiveSessionError(ConvoportError):
    """A live session could not go on (reconnects exhausted, protocol violated, expired)."""

    def __init__(
        self, message: str, *, provider: str, session_id: str | None = None, hint: str | None = None
    ) -> None:
        self.provider = provider
        self.session_id = session_id
        super().__init__(message, hint=hint)


class ArchiveError(ConvoportError):
    """The local archive refused an operation or found itself inconsistent."""


class ProviderError(ConvoportError):
    """The vendor answered with an error, or could not be reached.

    Attributes:
        provider: the backend's name (``"gladia"``).
        status_code: the HTTP status, or ``None`` when no response arrived.
        request_id: the vendor's request id when it sent one.
        body_excerpt: at most ``BODY_EXCERPT_CHARS`` characters of the body, secrets removed.
        retryable: whether repeating the same request may succeed.
        method, url: the request (URL with credentials removed), when known.
    """

    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        request_id: str | None = None,
        body_excerpt: str | None = None,
        retryable: bool | None = None,
        method: str | None = None,
        url: str | None = None,
        hint: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.provider = provider
        self.status_code = status_code
        self.request_id = request_id
        self.body_excerpt = body_excerpt
        self.retryable = self.default_retryable if retryable is None else retryable
        self.method = method
        self.url = url
        self.details = details or {}
        super().__init__(message, hint=hint)

    def __str__(self) -> str:
        where = f"{self.provider}"
        if self.status_code is not None:
            where += f" {self.status_code}"
        if self.method and self.url:
            where += f" on {self.method} {self.url}"
        text = f"{where}: {self.message}"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(provider={self.provider!r}, status_code={self.status_code!r}, "
            f"request_id={self.request_id!r}, message={self.message!r})"
        )


class AuthenticationError(ProviderError):
    """401: the credential is missing, wrong or expired."""


class PermissionDenied(ProviderError):
    """403: the credential is valid but may not do this."""


class NotFound(ProviderError):
    """404/410: the session or artifact does not exist (or no longer does)."""


class Conflict(ProviderError):
    """409, or a vendor's "not in a state that allows this yet"."""


class InvalidRequest(ProviderError):
    """400, 413, 422 and other 4xx: the request itself is wrong; repeating it will not help."""


class RateLimited(ProviderError):
    """429. ``retry_after`` is the vendor's ``Retry-After`` in seconds, when it sent one."""

    default_retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ProviderUnavailable(ProviderError):
    """5xx, 408, connection errors and timeouts: the vendor could not answer now.
    ``retry_after`` is the vendor's ``Retry-After`` in seconds when a 503 carried one."""

    default_retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class MalformedResponse(ProviderError):
    """The vendor's answer could not be read: wrong JSON, missing fields, a naive timestamp, or
    a success status that carries an error."""


_STATUS_TABLE: dict[int, type[ProviderError]] = {
    400: InvalidRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    408: ProviderUnavailable,
    409: Conflict,
    410: NotFound,
    413: InvalidRequest,
    422: InvalidRequest,
    429: RateLimited,
}

#: 5xx statuses worth repeating. 501 (not implemented) and 505 are final.
_RETRYABLE_5XX = frozenset({500, 502, 503, 504, 507, 520, 521, 522, 523, 524, 529})


def error_class_for_status(status_code: int) -> type[ProviderError]:
    """The error class for an HTTP status: the one table every adapter shares."""
    if status_code in _STATUS_TABLE:
        return _STATUS_TABLE[status_code]
    if status_code >= 500:
        return ProviderUnavailable
    if status_code >= 400:
        return InvalidRequest
    return MalformedResponse


def is_retryable_status(status_code: int) -> bool:
    """Whether a response with this status may succeed if the same request is repeated."""
    return status_code in (408, 429) or status_code in _RETRYABLE_5XX


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parses a ``Retry-After`` header into seconds from ``now``.

    Accepts delta-seconds (``"120"``, also fractional ``"1.5"`` as some vendors send) and an
    HTTP-date (``"Wed, 21 Oct 2026 07:28:00 GMT"``). A date in the past gives ``0.0``.
    Anything unreadable gives ``None`` (the caller falls back to its own backoff).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
            return None
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def redact_error(error: ConvoportError, redactor: Redactor) -> ConvoportError:
    """Removes ``redactor``'s secrets from everything ``error`` shows (its message, hint,
    request id, body excerpt, URL and text details), in place; returns it.

    Adapters build errors from what the vendor sent (a request id, a value quoted in a
    ``MalformedResponse``); the client passes every error through here before it reaches
    the caller, so a configured secret echoed back never leaves in an error."""
    for name in ("message", "hint", "request_id", "body_excerpt"):
        value = getattr(error, name, None)
        if isinstance(value, str):
            setattr(error, name, redactor.text(value))
    url = getattr(error, "url", None)
    if isinstance(url, str):
        error.url = redactor.url(url)  # type: ignore[attr-defined]
    details = getattr(error, "details", None)
    if isinstance(details, dict):
        for key, value in list(details.items()):
            if isinstance(value, str):
                details[key] = redactor.text(value)
    error.args = tuple(redactor.text(a) if isinstance(a, str) else a for a in error.args)
    return error


def body_excerpt(body: bytes | str | None, redactor: Redactor | None = None) -> str | None:
    """A short, redacted, single-line excerpt of a response body for error messages."""
    if body is None:
        return None
    # The whole body is redacted before it is cut: cutting first could split an echoed key,
    # leaving a prefix the redactor no longer recognises (and collapsing whitespace could then
    # pull that prefix into the excerpt). The body is already in memory on every error path.
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    text = (redactor or DEFAULT_REDACTOR).text(" ".join(text.split()))
    if len(text) > BODY_EXCERPT_CHARS:
        text = text[: BODY_EXCERPT_CHARS - 1] + "…"
    return text or None


__all__ = [
    "ArchiveError",
    "AuthenticationError",
    "ConfigError",
    "Conflict",
    "ConvoportError",
    "ConvoportWarning",
    "InvalidRequest",
    "LiveSessionError",
    "MalformedResponse",
    "NotFound",
    "PermissionDenied",
    "PluginWarning",
    "ProviderError",
    "ProviderUnavailable",
    "RateLimited",
    "UnsupportedOperation",
    "body_excerpt",
    "error_class_for_status",
    "is_retryable_status",
    "parse_retry_after",
    "redact_error",
]
