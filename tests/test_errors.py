"""The error hierarchy, the status table, ``Retry-After`` parsing and body excerpts."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convoport.errors import (
    BODY_EXCERPT_CHARS,
    ArchiveError,
    AuthenticationError,
    ConfigError,
    Conflict,
    ConvoportError,
    InvalidRequest,
    LiveSessionError,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    UnsupportedOperation,
    body_excerpt,
    error_class_for_status,
    is_retryable_status,
    parse_retry_after,
)
from convoport.redact import Redactor

NOW = datetime(2026, 10, 21, 7, 27, 0, tzinfo=UTC)

# -- the status table ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequest),
        (401, AuthenticationError),
        (403, PermissionDenied),
        (404, NotFound),
        (408, ProviderUnavailable),
        (409, Conflict),
        (410, NotFound),
        (413, InvalidRequest),
        (422, InvalidRequest),
        (429, RateLimited),
        (402, InvalidRequest),
        (405, InvalidRequest),
        (418, InvalidRequest),
        (499, InvalidRequest),
        (500, ProviderUnavailable),
        (501, ProviderUnavailable),
        (503, ProviderUnavailable),
        (599, ProviderUnavailable),
        (200, MalformedResponse),
        (302, MalformedResponse),
    ],
)
def test_error_class_for_status(status: int, cls: type[ProviderError]) -> None:
    assert error_class_for_status(status) is cls


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (408, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (529, True),
        (400, False),
        (401, False),
        (404, False),
        (409, False),
        (422, False),
        (501, False),
        (505, False),
        (200, False),
    ],
)
def test_is_retryable_status(status: int, retryable: bool) -> None:
    assert is_retryable_status(status) is retryable


def test_hierarchy() -> None:
    for cls in (
        AuthenticationError,
        PermissionDenied,
        NotFound,
        Conflict,
        InvalidRequest,
        RateLimited,
        ProviderUnavailable,
        MalformedResponse,
    ):
        assert issubclass(cls, ProviderError)
    for other in (ConfigError, UnsupportedOperation, LiveSessionError, ArchiveError, ProviderError):
        assert issubclass(other, ConvoportError)


@pytest.mark.parametrize(
    ("cls", "retryable"),
    [
        (ProviderUnavailable, True),
        (RateLimited, True),
        (NotFound, False),
        (InvalidRequest, False),
        (MalformedResponse, False),
    ],
)
def test_default_retryable(cls: type[ProviderError], retryable: bool) -> None:
    assert cls("m", provider="p").retryable is retryable
    assert cls("m", provider="p", retryable=not retryable).retryable is (not retryable)


def test_provider_error_str_and_repr() -> None:
    error = NotFound(
        "no such session",
        provider="gladia",
        status_code=404,
        request_id="req-1",
        method="GET",
        url="https://api.gladia.io/v2/live/s1",
        hint="list sessions to find its id",
        body_excerpt='{"message": "no such session"}',
    )
    assert str(error) == (
        "gladia 404 on GET https://api.gladia.io/v2/live/s1: no such session "
        "[request id req-1] (list sessions to find its id)"
    )
    assert repr(error) == (
        "NotFound(provider='gladia', status_code=404, request_id='req-1', "
        "message='no such session')"
    )
    assert error.details == {}


def test_provider_error_str_without_response() -> None:
    assert str(ProviderUnavailable("could not connect", provider="p")) == "p: could not connect"


def test_rate_limited_keeps_retry_after() -> None:
    error = RateLimited("slow down", provider="p", status_code=429, retry_after=2.5)
    assert error.retry_after == 2.5
    assert error.status_code == 429


def test_convoport_error_str_with_hint() -> None:
    assert str(ConfigError("missing key", hint="set CONVOPORT_KEY")) == (
        "missing key (set CONVOPORT_KEY)"
    )
    assert str(ConfigError("missing key")) == "missing key"


def test_unsupported_operation_message() -> None:
    error = UnsupportedOperation("catalog.delete", "gladia", detail="jobs are kept 30 days")
    assert error.message == "gladia does not support catalog.delete: jobs are kept 30 days"
    assert "convoport providers" in str(error)
    assert (error.capability, error.provider) == ("catalog.delete", "gladia")


# -- Retry-After --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2", 2.0),
        ("0", 0.0),
        ("120", 120.0),
        ("1.5", 1.5),
        ("  3 ", 3.0),
        ("0.001", 0.001),
    ],
)
def test_parse_retry_after_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value) == seconds


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", "-1", "-0.5", "nan", "NaN", "inf", "-inf", "Infinity", "soon", "1s", "12abc"],
)
def test_parse_retry_after_unreadable_is_none(value: str | None) -> None:
    assert parse_retry_after(value) is None


def test_parse_retry_after_http_date_in_the_future() -> None:
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now=NOW) == 60.0
    assert parse_retry_after("Wed, 21 Oct 2026 08:27:00 +0000", now=NOW) == 3600.0


def test_parse_retry_after_http_date_in_the_past_is_zero() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=NOW) == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_parse_retry_after_http_date_without_zone_is_utc() -> None:
    # RFC 2822 "-0000" means "UTC, zone unknown": the parser returns a naive datetime.
    assert parse_retry_after("Wed, 21 Oct 2026 07:27:30 -0000", now=NOW) == 30.0


def test_parse_retry_after_uses_the_clock_by_default() -> None:
    header = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    seconds = parse_retry_after(header)
    assert seconds is not None
    assert 87.0 < seconds <= 90.0


@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_parse_retry_after_round_trips_non_negative_floats(value: float) -> None:
    assert parse_retry_after(str(value)) == value
    assert parse_retry_after(repr(value)) == value


@given(st.integers(min_value=0, max_value=10**9))
def test_parse_retry_after_round_trips_integers(value: int) -> None:
    assert parse_retry_after(str(value)) == float(value)


@given(st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False))
def test_parse_retry_after_refuses_negative_floats(value: float) -> None:
    assert parse_retry_after(str(value)) is None


@given(st.integers(min_value=0, max_value=10**7))
def test_parse_retry_after_http_dates(seconds: int) -> None:
    header = email.utils.format_datetime(NOW + timedelta(seconds=seconds), usegmt=True)
    assert parse_retry_after(header, now=NOW) == float(seconds)
    past = email.utils.format_datetime(NOW - timedelta(seconds=seconds), usegmt=True)
    assert parse_retry_after(past, now=NOW) == 0.0


# -- body excerpts ------------------------------------------------------------------------

KEY = "sk-live-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def test_body_excerpt_empty_and_none() -> None:
    assert body_excerpt(None) is None
    assert body_excerpt(b"") is None
    assert body_excerpt(b" \n\t ") is None
    assert body_excerpt("") is None


def test_body_excerpt_collapses_whitespace() -> None:
    assert body_excerpt(b'{\n  "message":\t"bad"\n}\n') == '{ "message": "bad" }'
    assert body_excerpt("a\r\n\r\nb") == "a b"


def test_body_excerpt_is_capped() -> None:
    excerpt = body_excerpt(b"x" * 10_000)
    assert excerpt is not None
    assert len(excerpt) == BODY_EXCERPT_CHARS
    assert excerpt == "x" * (BODY_EXCERPT_CHARS - 1) + "…"
    assert body_excerpt("y" * BODY_EXCERPT_CHARS) == "y" * BODY_EXCERPT_CHARS
    capped = body_excerpt("z" * (BODY_EXCERPT_CHARS + 1))
    assert capped is not None
    assert len(capped) == BODY_EXCERPT_CHARS


def test_body_excerpt_replaces_invalid_utf8() -> None:
    assert body_excerpt(b"caf\xc3\xa9 \xff!") == "café \ufffd!"


def test_body_excerpt_removes_known_secrets_and_credential_patterns() -> None:
    body = f'{{"message": "bad key {KEY}", "token": "t-123456"}} url?api_key=abc123'
    excerpt = body_excerpt(body.encode(), Redactor([KEY]))
    assert excerpt is not None
    assert KEY not in excerpt
    assert "t-123456" not in excerpt
    assert "abc123" not in excerpt
    assert excerpt.count("[REDACTED]") == 3
    # Without an exact secret, the credential-shaped parts are still removed.
    default = body_excerpt(body.encode())
    assert default is not None
    assert "t-123456" not in default
    assert "abc123" not in default


def test_body_excerpt_never_shows_part_of_a_key_cut_at_the_window() -> None:
    # Much whitespace, then the echoed key: collapsing whitespace brings the key near the start.
    body = b"x" + b" " * (BODY_EXCERPT_CHARS * 4 - 10) + KEY.encode()
    excerpt = body_excerpt(body, Redactor([KEY]))
    assert excerpt is not None
    assert KEY[:6] not in excerpt


@given(
    before=st.text(alphabet=' \n\tab{}:"', max_size=400),
    padding=st.integers(min_value=0, max_value=3000),
    after=st.text(alphabet=' \n\tab{}:"', max_size=50),
)
def test_body_excerpt_never_shows_a_key_fragment(before: str, padding: int, after: str) -> None:
    body = before + " " * padding + KEY + after
    excerpt = body_excerpt(body.encode(), Redactor([KEY]))
    assert excerpt is not None
    assert len(excerpt) <= BODY_EXCERPT_CHARS
    for start in range(len(KEY) - 6):
        assert KEY[start : start + 6] not in excerpt
