"""Behaviour of the HTTP layer: retries, error mapping, credentials, redirects, streaming, logs."""

from __future__ import annotations

import email.utils
import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convoport.errors import (
    BODY_EXCERPT_CHARS,
    AuthenticationError,
    Conflict,
    InvalidRequest,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from convoport.http import (
    NO_RETRY,
    USER_AGENT,
    ErrorInfo,
    HttpClient,
    RetryPolicy,
    default_error_parser,
)

BASE = "https://api.vendor.test/v2"
KEY = "sk-live-0123456789abcdefSECRETKEY"
CREDENTIALS = {"x-vendor-key": KEY}

#: One scripted answer: a status code, a response factory, or a transport exception to raise.
Answer = int | Callable[[httpx.Request], httpx.Response] | Exception


class FakeSleep:
    """Records every wait instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class Script:
    """A MockTransport handler answering requests in order (the last answer repeats) and
    recording every request it receives."""

    def __init__(self, *answers: Answer) -> None:
        assert answers
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, int):
            return httpx.Response(answer)
        return answer(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def reply(
    status: int,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    text: str | None = None,
) -> Callable[[httpx.Request], httpx.Response]:
    """A response factory (a fresh ``httpx.Response`` per request)."""

    def make(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        if body is None:
            return httpx.Response(status, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return make


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


def make_client(script: Script, sleep: FakeSleep, **kwargs: Any) -> HttpClient:
    return HttpClient(
        provider="vendor",
        base_url=BASE,
        credentials=CREDENTIALS,
        transport=script.transport,
        sleep=sleep,
        **kwargs,
    )


# -- retries ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_get_succeeds_after_two_503s(sleep: FakeSleep) -> None:
    script = Script(503, 503, reply(200, {"ok": True}))
    client = make_client(script, sleep)
    assert await client.json("GET", "sessions") == {"ok": True}
    assert len(script.requests) == 3
    assert len(sleep.calls) == 2


@pytest.mark.anyio
async def test_attempts_cap_is_respected(sleep: FakeSleep) -> None:
    script = Script(503)
    client = make_client(script, sleep, retry=RetryPolicy(attempts=2))
    with pytest.raises(ProviderUnavailable) as caught:
        await client.request("GET", "sessions")
    assert caught.value.status_code == 503
    assert caught.value.retryable
    assert len(script.requests) == 2
    assert len(sleep.calls) == 1


@pytest.mark.anyio
async def test_no_retry_policy_sends_once(sleep: FakeSleep) -> None:
    script = Script(503)
    client = make_client(script, sleep, retry=NO_RETRY)
    with pytest.raises(ProviderUnavailable):
        await client.request("GET", "sessions")
    assert len(script.requests) == 1
    assert sleep.calls == []


def test_retry_policy_validates() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="backoff_base"):
        RetryPolicy(backoff_base=-1)


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "get"])
async def test_safe_methods_are_retried(sleep: FakeSleep, method: str) -> None:
    script = Script(503, 200)
    client = make_client(script, sleep)
    response = await client.request(method, "sessions/1")
    assert response.status_code == 200
    assert len(script.requests) == 2
    assert script.requests[0].method == method.upper()


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_unsafe_method_503_is_not_retried(sleep: FakeSleep, method: str) -> None:
    script = Script(503, 200)
    client = make_client(script, sleep)
    with pytest.raises(ProviderUnavailable) as caught:
        await client.request(method, "sessions", json={"a": 1})
    assert caught.value.retryable  # retryable in itself, but not safe to repeat
    assert len(script.requests) == 1
    assert sleep.calls == []


@pytest.mark.anyio
async def test_post_marked_retry_is_retried(sleep: FakeSleep) -> None:
    script = Script(503, 503, reply(201, {"id": "s1"}))
    client = make_client(script, sleep)
    body = await client.json("POST", "uploads/chunks/3", content=b"chunk", retry=True)
    assert body == {"id": "s1"}
    assert len(script.requests) == 3
    assert [r.content for r in script.requests] == [b"chunk"] * 3


@pytest.mark.anyio
async def test_get_marked_no_retry_is_not_retried(sleep: FakeSleep) -> None:
    script = Script(503, 200)
    client = make_client(script, sleep)
    with pytest.raises(ProviderUnavailable):
        await client.request("GET", "sessions", retry=False)
    assert len(script.requests) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("connection refused"), httpx.ConnectTimeout("connect timed out")],
)
async def test_connect_failure_on_post_is_retried(sleep: FakeSleep, exc: Exception) -> None:
    script = Script(exc, reply(201, {"id": "s1"}))
    client = make_client(script, sleep)
    assert await client.json("POST", "sessions", json={"x": 1}) == {"id": "s1"}
    assert len(script.requests) == 2
    assert len(sleep.calls) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout("read timed out"), httpx.RemoteProtocolError("peer closed")]
)
async def test_failure_after_sending_a_post_is_not_retried(
    sleep: FakeSleep, exc: Exception
) -> None:
    script = Script(exc, 201)
    client = make_client(script, sleep)
    with pytest.raises(ProviderUnavailable) as caught:
        await client.request("POST", "sessions", json={"x": 1})
    assert caught.value.status_code is None
    assert caught.value.details["not_sent"] is False
    assert len(script.requests) == 1


@pytest.mark.anyio
async def test_read_timeout_on_get_is_retried_then_reported(sleep: FakeSleep) -> None:
    script = Script(httpx.ReadTimeout("read timed out"))
    client = make_client(script, sleep, retry=RetryPolicy(attempts=3))
    with pytest.raises(ProviderUnavailable) as caught:
        await client.request("GET", "sessions")
    assert "timed out" in caught.value.message
    assert caught.value.method == "GET"
    assert caught.value.url == f"{BASE}/sessions"
    assert len(script.requests) == 3


@pytest.mark.anyio
async def test_connect_error_message(sleep: FakeSleep) -> None:
    script = Script(httpx.ConnectError("refused"))
    client = make_client(script, sleep, retry=NO_RETRY)
    with pytest.raises(ProviderUnavailable, match="could not connect") as caught:
        await client.request("GET", "sessions")
    assert caught.value.details["not_sent"] is True


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequest),
        (401, AuthenticationError),
        (403, PermissionDenied),
        (404, NotFound),
        (409, Conflict),
        (422, InvalidRequest),
    ],
)
async def test_4xx_is_never_retried(
    sleep: FakeSleep, status: int, cls: type[ProviderError]
) -> None:
    script = Script(status, 200)
    client = make_client(script, sleep)
    with pytest.raises(cls) as caught:
        await client.request("GET", "sessions")
    assert not caught.value.retryable
    assert len(script.requests) == 1
    assert sleep.calls == []


@pytest.mark.anyio
@pytest.mark.parametrize("status", [501, 505])
async def test_final_5xx_is_not_retried(sleep: FakeSleep, status: int) -> None:
    script = Script(status, 200)
    client = make_client(script, sleep)
    with pytest.raises(ProviderUnavailable) as caught:
        await client.request("GET", "sessions")
    assert not caught.value.retryable
    assert len(script.requests) == 1


@pytest.mark.anyio
async def test_408_is_retried(sleep: FakeSleep) -> None:
    script = Script(408, 200)
    client = make_client(script, sleep)
    assert (await client.request("GET", "sessions")).status_code == 200
    assert len(script.requests) == 2


@pytest.mark.anyio
async def test_429_retry_after_seconds_is_waited_exactly(sleep: FakeSleep) -> None:
    script = Script(reply(429, headers={"Retry-After": "2"}), 200)
    client = make_client(script, sleep)
    assert (await client.request("GET", "sessions")).status_code == 200
    assert sleep.calls == [2.0]
    assert len(script.requests) == 2


@pytest.mark.anyio
async def test_503_retry_after_is_waited_exactly(sleep: FakeSleep) -> None:
    script = Script(reply(503, headers={"Retry-After": "3"}), 200)
    client = make_client(script, sleep)
    assert (await client.request("GET", "sessions")).status_code == 200
    assert sleep.calls == [3.0]


@pytest.mark.anyio
async def test_429_retry_after_is_honoured_on_post_too_only_when_marked(sleep: FakeSleep) -> None:
    script = Script(reply(429, headers={"Retry-After": "1"}), 200)
    client = make_client(script, sleep)
    with pytest.raises(RateLimited):
        await client.request("POST", "sessions")
    assert len(script.requests) == 1
    script = Script(reply(429, headers={"Retry-After": "1"}), 200)
    client = make_client(script, sleep)
    assert (await client.request("POST", "sessions", retry=True)).status_code == 200
    assert sleep.calls == [1.0]


@pytest.mark.anyio
async def test_429_retry_after_http_date(sleep: FakeSleep) -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    header = email.utils.format_datetime(when, usegmt=True)
    script = Script(reply(429, headers={"Retry-After": header}), 200)
    client = make_client(script, sleep)
    assert (await client.request("GET", "sessions")).status_code == 200
    assert len(sleep.calls) == 1
    # The date has whole seconds; a little time passes between building it and parsing it.
    assert 27.0 < sleep.calls[0] <= 30.0


@pytest.mark.anyio
async def test_429_retry_after_http_date_in_the_past_waits_zero(sleep: FakeSleep) -> None:
    script = Script(reply(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), 200)
    client = make_client(script, sleep)
    assert (await client.request("GET", "sessions")).status_code == 200
    assert sleep.calls == [0.0]


@pytest.mark.anyio
async def test_retry_after_ms_wins_over_retry_after(sleep: FakeSleep) -> None:
    headers = {"retry-after-ms": "1500", "Retry-After": "7"}
    script = Script(reply(429, headers=headers), 200)
    client = make_client(script, sleep)
    assert (await client.request("GET", "sessions")).status_code == 200
    assert sleep.calls == [1.5]


@pytest.mark.anyio
async def test_unreadable_retry_after_ms_falls_back_to_retry_after(sleep: FakeSleep) -> None:
    headers = {"retry-after-ms": "soon", "Retry-After": "3"}
    script = Script(reply(429, headers=headers), 200)
    client = make_client(script, sleep)
    await client.request("GET", "sessions")
    assert sleep.calls == [3.0]


@pytest.mark.anyio
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-250", "soon"])
async def test_invalid_retry_after_ms_is_ignored(sleep: FakeSleep, value: str) -> None:
    script = Script(reply(429, headers={"retry-after-ms": value}))
    client = make_client(script, sleep, retry=NO_RETRY)
    with pytest.raises(RateLimited) as caught:
        await client.request("GET", "sessions")
    assert caught.value.retry_after is None


@pytest.mark.anyio
async def test_retry_after_above_cap_is_raised_not_waited(sleep: FakeSleep) -> None:
    script = Script(reply(429, headers={"Retry-After": "120"}), 200)
    client = make_client(script, sleep, retry=RetryPolicy(retry_after_cap=60))
    with pytest.raises(RateLimited) as caught:
        await client.request("GET", "sessions")
    assert caught.value.retry_after == 120.0
    assert caught.value.status_code == 429
    assert len(script.requests) == 1
    assert sleep.calls == []


@pytest.mark.anyio
async def test_retry_after_equal_to_cap_is_waited(sleep: FakeSleep) -> None:
    script = Script(reply(429, headers={"Retry-After": "60"}), 200)
    client = make_client(script, sleep, retry=RetryPolicy(retry_after_cap=60))
    assert (await client.request("GET", "sessions")).status_code == 200
    assert sleep.calls == [60.0]


@pytest.mark.anyio
async def test_rate_limited_until_attempts_run_out(sleep: FakeSleep) -> None:
    script = Script(reply(429, headers={"Retry-After": "1"}))
    client = make_client(script, sleep, retry=RetryPolicy(attempts=3))
    with pytest.raises(RateLimited) as caught:
        await client.request("GET", "sessions")
    assert caught.value.retry_after == 1.0
    assert sleep.calls == [1.0, 1.0]
    assert len(script.requests) == 3


@pytest.mark.anyio
async def test_backoff_uses_full_jitter_with_doubling_ceiling(
    sleep: FakeSleep, monkeypatch: pytest.MonkeyPatch
) -> None:
    ceilings: list[float] = []
    drawn: list[float] = []
    real_uniform = random.uniform

    def recording_uniform(low: float, high: float) -> float:
        assert low == 0
        ceilings.append(high)
        drawn.append(real_uniform(low, high))
        return drawn[-1]

    monkeypatch.setattr(random, "uniform", recording_uniform)
    script = Script(503)
    policy = RetryPolicy(attempts=6, backoff_base=0.5, backoff_max=3.0)
    client = make_client(script, sleep, retry=policy)
    with pytest.raises(ProviderUnavailable):
        await client.request("GET", "sessions")
    # The n-th retry waits a random time in [0, min(max, base * 2**(n-1))]. (tenacity may also
    # compute a wait after the last attempt; it is never slept.)
    assert ceilings[:5] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert sleep.calls == drawn[:5]
    for waited, ceiling in zip(sleep.calls, ceilings, strict=False):
        assert 0 <= waited <= ceiling


@pytest.mark.anyio
async def test_backoff_is_random_and_bounded(sleep: FakeSleep) -> None:
    random.seed(1234)
    script = Script(503)
    policy = RetryPolicy(attempts=40, backoff_base=0.25, backoff_max=5.0)
    client = make_client(script, sleep, retry=policy)
    with pytest.raises(ProviderUnavailable):
        await client.request("GET", "sessions")
    assert len(sleep.calls) == 39
    ceilings = [min(5.0, 0.25 * 2 ** (n - 1)) for n in range(1, 40)]
    for waited, ceiling in zip(sleep.calls, ceilings, strict=True):
        assert 0 <= waited <= ceiling
    # Full jitter, not a fixed ceiling: most waits are well below their ceiling.
    assert sum(w < 0.9 * c for w, c in zip(sleep.calls, ceilings, strict=True)) > 20


@pytest.mark.anyio
async def test_zero_backoff_waits_nothing(sleep: FakeSleep) -> None:
    script = Script(503, 503, 200)
    client = make_client(script, sleep, retry=RetryPolicy(backoff_base=0))
    await client.request("GET", "sessions")
    assert sleep.calls == [0.0, 0.0]


@pytest.mark.anyio
async def test_error_parser_can_make_an_error_retryable(sleep: FakeSleep) -> None:
    def parser(response: httpx.Response, body: bytes) -> ErrorInfo | None:
        return ErrorInfo(message="busy, try again", retryable=True)

    script = Script(409, 200)
    client = make_client(script, sleep, error_parser=parser)
    assert (await client.request("GET", "sessions")).status_code == 200
    assert len(script.requests) == 2


# -- error mapping ------------------------------------------------------------------------

STATUS_TABLE: list[tuple[int, type[ProviderError], bool]] = [
    (400, InvalidRequest, False),
    (401, AuthenticationError, False),
    (403, PermissionDenied, False),
    (404, NotFound, False),
    (408, ProviderUnavailable, True),
    (409, Conflict, False),
    (410, NotFound, False),
    (413, InvalidRequest, False),
    (422, InvalidRequest, False),
    (429, RateLimited, True),
    (418, InvalidRequest, False),
    (451, InvalidRequest, False),
    (500, ProviderUnavailable, True),
    (502, ProviderUnavailable, True),
    (503, ProviderUnavailable, True),
    (504, ProviderUnavailable, True),
    (501, ProviderUnavailable, False),
    (599, ProviderUnavailable, False),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "cls", "retryable"), STATUS_TABLE)
async def test_status_maps_to_error_class(
    sleep: FakeSleep, status: int, cls: type[ProviderError], retryable: bool
) -> None:
    script = Script(status)
    client = make_client(script, sleep, retry=NO_RETRY)
    with pytest.raises(ProviderError) as caught:
        await client.request("GET", "sessions")
    assert type(caught.value) is cls
    assert caught.value.retryable is retryable
    assert caught.value.status_code == status
    assert caught.value.provider == "vendor"


@pytest.mark.anyio
async def test_message_falls_back_to_reason_phrase(sleep: FakeSleep) -> None:
    client = make_client(Script(404), sleep)
    with pytest.raises(NotFound) as caught:
        await client.request("GET", "sessions/x")
    assert caught.value.message == "Not Found"
    assert caught.value.body_excerpt is None


@pytest.mark.anyio
async def test_error_parser_overrides_the_class(sleep: FakeSleep) -> None:
    def parser(response: httpx.Response, body: bytes) -> ErrorInfo | None:
        if response.status_code == 403 and b"not deletable" in body:
            return ErrorInfo(
                message="job is not deletable yet",
                error_class=Conflict,
                code="JOB_RUNNING",
                hint="wait until the job is done",
                request_id="req-parser",
            )
        return None

    script = Script(reply(403, {"message": "not deletable"}))
    client = make_client(script, sleep, error_parser=parser)
    with pytest.raises(Conflict) as caught:
        await client.request("DELETE", "jobs/1")
    error = caught.value
    assert error.status_code == 403
    assert error.message == "job is not deletable yet"
    assert error.details == {"code": "JOB_RUNNING"}
    assert error.hint == "wait until the job is done"
    assert error.request_id == "req-parser"
    assert "wait until the job is done" in str(error)


@pytest.mark.anyio
async def test_error_parser_returning_none_uses_the_default(sleep: FakeSleep) -> None:
    def parser(response: httpx.Response, body: bytes) -> ErrorInfo | None:
        return None

    client = make_client(
        Script(reply(403, {"message": "forbidden here"})), sleep, error_parser=parser
    )
    with pytest.raises(PermissionDenied, match="forbidden here"):
        await client.request("GET", "sessions")


@pytest.mark.anyio
async def test_broken_error_parser_falls_back_to_default(sleep: FakeSleep) -> None:
    def parser(response: httpx.Response, body: bytes) -> ErrorInfo | None:
        raise KeyError("envelope")

    script = Script(reply(404, {"message": "no such session"}))
    client = make_client(script, sleep, error_parser=parser)
    with pytest.raises(NotFound) as caught:
        await client.request("GET", "sessions/9")
    assert caught.value.message == "no such session"


@pytest.mark.anyio
async def test_per_request_error_parser_wins(sleep: FakeSleep) -> None:
    def client_parser(response: httpx.Response, body: bytes) -> ErrorInfo | None:
        return ErrorInfo(message="from client hook")

    def request_parser(response: httpx.Response, body: bytes) -> ErrorInfo | None:
        return ErrorInfo(message="from request hook", error_class=Conflict)

    script = Script(400)
    client = make_client(script, sleep, error_parser=client_parser)
    with pytest.raises(Conflict, match="from request hook"):
        await client.request("GET", "a", error_parser=request_parser)
    with pytest.raises(InvalidRequest, match="from client hook"):
        await client.request("GET", "a")


def _response(
    body: bytes, status: int = 400, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        status, content=body, headers=headers, request=httpx.Request("GET", f"{BASE}/x")
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"message": "plain message"}, "plain message"),
        ({"detail": "fastapi string"}, "fastapi string"),
        (
            {"detail": [{"loc": ["body", "audio_url"], "msg": "field required", "type": "x"}]},
            "body.audio_url: field required",
        ),
        (
            {"detail": [{"loc": ["query", "limit"], "msg": "too big"}, {"msg": "second"}]},
            "query.limit: too big; second",
        ),
        ({"detail": {"message": "nested object"}}, "nested object"),
        ({"error": "error string"}, "error string"),
        ({"error": {"message": "error object", "code": "E1"}}, "error object"),
        ({"errors": [{"message": "first of errors"}]}, "first of errors"),
        ({"errors": ["a", "b"]}, "a; b"),
        (
            {"message": 42, "title": "a non-string message is skipped"},
            "a non-string message is skipped",
        ),
        ({"unrelated": True}, None),
    ],
)
def test_default_error_parser_messages(body: dict[str, Any], message: str | None) -> None:
    info = default_error_parser(_response(json.dumps(body).encode()), json.dumps(body).encode())
    assert info is not None
    assert info.message == message


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"", b"[1, 2]", b'"just a string"'])
def test_default_error_parser_ignores_non_objects(body: bytes) -> None:
    assert default_error_parser(_response(body), body) is None


def test_default_error_parser_reads_request_id_and_code() -> None:
    body = json.dumps({"message": "m", "request_id": "req-1", "code": 17}).encode()
    info = default_error_parser(_response(body), body)
    assert info is not None
    assert (info.request_id, info.code) == ("req-1", "17")
    body = json.dumps({"message": "m", "requestId": "req-2"}).encode()
    info = default_error_parser(_response(body), body)
    assert info is not None
    assert info.request_id == "req-2"
    assert info.code is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"detail": [{"loc": ["body", "language"], "msg": "bad value"}]},
            "body.language: bad value",
        ),
        ({"error": {"message": "quota exceeded"}}, "quota exceeded"),
        ({"errors": [{"message": "first"}]}, "first"),
    ],
)
async def test_default_parser_used_by_the_client(
    sleep: FakeSleep, body: dict[str, Any], message: str
) -> None:
    client = make_client(Script(reply(422, body)), sleep)
    with pytest.raises(InvalidRequest) as caught:
        await client.request("GET", "sessions")
    assert caught.value.message == message


@pytest.mark.anyio
async def test_request_id_from_body(sleep: FakeSleep) -> None:
    script = Script(
        reply(400, {"message": "m", "request_id": "body-id"}, headers={"x-request-id": "hdr-id"})
    )
    client = make_client(script, sleep)
    with pytest.raises(InvalidRequest) as caught:
        await client.request("GET", "sessions")
    assert caught.value.request_id == "body-id"
    assert "[request id body-id]" in str(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize("header", ["x-request-id", "request-id", "x-amzn-requestid", "cf-ray"])
async def test_request_id_from_header(sleep: FakeSleep, header: str) -> None:
    script = Script(reply(400, {"message": "m"}, headers={header: "hdr-id"}))
    client = make_client(script, sleep)
    with pytest.raises(InvalidRequest) as caught:
        await client.request("GET", "sessions")
    assert caught.value.request_id == "hdr-id"


@pytest.mark.anyio
async def test_str_of_error_names_provider_status_method_and_redacted_url(
    sleep: FakeSleep,
) -> None:
    script = Script(reply(404, {"message": "no such session"}))
    client = make_client(script, sleep)
    with pytest.raises(NotFound) as caught:
        await client.request("GET", "sessions/s1", params={"token": "tok-VERY-secret", "page": 2})
    text = str(caught.value)
    assert "vendor" in text
    assert "404" in text
    assert "GET" in text
    assert f"{BASE}/sessions/s1?token=[REDACTED]&page=2" in text
    assert "no such session" in text
    assert "tok-VERY-secret" not in text
    assert "tok-VERY-secret" not in repr(caught.value)
    assert caught.value.url == f"{BASE}/sessions/s1?token=[REDACTED]&page=2"
    assert caught.value.method == "GET"


@pytest.mark.anyio
async def test_body_excerpt_is_capped(sleep: FakeSleep) -> None:
    script = Script(reply(500, text="E" * 5000))
    client = make_client(script, sleep, retry=NO_RETRY)
    with pytest.raises(ProviderUnavailable) as caught:
        await client.request("GET", "sessions")
    excerpt = caught.value.body_excerpt
    assert excerpt is not None
    assert len(excerpt) == BODY_EXCERPT_CHARS
    assert excerpt.endswith("…")
    assert "E" * 5000 not in str(caught.value)


@pytest.mark.anyio
async def test_echoed_api_key_is_removed_from_message_and_excerpt(sleep: FakeSleep) -> None:
    body = {"message": f"invalid key {KEY}", "received_headers": {"x-vendor-key": KEY}}
    client = make_client(Script(reply(401, body)), sleep)
    with pytest.raises(AuthenticationError) as caught:
        await client.request("GET", "sessions")
    error = caught.value
    assert error.body_excerpt is not None
    assert "[REDACTED]" in error.body_excerpt
    for text in (error.message, error.body_excerpt, str(error), repr(error)):
        assert KEY not in text
    assert error.message == "invalid key [REDACTED]"


@pytest.mark.anyio
async def test_non_json_body_is_malformed(sleep: FakeSleep) -> None:
    script = Script(reply(200, text="<html>maintenance</html>", headers={"x-request-id": "r-9"}))
    client = make_client(script, sleep)
    with pytest.raises(MalformedResponse) as caught:
        await client.json("GET", "sessions")
    assert caught.value.status_code == 200
    assert caught.value.body_excerpt == "<html>maintenance</html>"
    assert caught.value.request_id == "r-9"
    assert caught.value.url == f"{BASE}/sessions"
    assert not caught.value.retryable


@pytest.mark.anyio
@pytest.mark.parametrize("text", ["", "  \n"])
async def test_empty_body_is_none(sleep: FakeSleep, text: str) -> None:
    client = make_client(Script(reply(200, text=text)), sleep)
    assert await client.json("DELETE", "sessions/1") is None


@pytest.mark.anyio
async def test_json_body_is_parsed(sleep: FakeSleep) -> None:
    client = make_client(Script(reply(200, [1, {"a": None}])), sleep)
    assert await client.json("GET", "sessions") == [1, {"a": None}]


# -- URLs, headers, credentials and redirects -----------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("sessions", f"{BASE}/sessions"),
        ("/sessions/1", f"{BASE}/sessions/1"),
        ("https://cdn.other.test/file.wav", "https://cdn.other.test/file.wav"),
        ("//evil.test/x", f"{BASE}/evil.test/x"),
    ],
)
def test_url_joins_paths_under_the_base(path: str, expected: str) -> None:
    client = HttpClient(
        provider="vendor", base_url=BASE + "/", transport=httpx.MockTransport(Script(200))
    )
    assert str(client.url(path)) == expected


def _joined(base: str, path: str) -> str:
    """What ``HttpClient.url`` gave before its shortcut: a parse, then ``URL.join``."""
    url = httpx.URL(path)
    return str(url if url.is_absolute_url else httpx.URL(base).join(path.lstrip("/")))


_PATH_CHARS = st.sampled_from([*"abcXYZ019_~%-/.?&=+,:;#@!$'()*[] ", "%2F", "..", "é"])


@given(
    path=st.lists(_PATH_CHARS, max_size=30).map("".join),
    base=st.sampled_from(
        [BASE + "/", "http://127.0.0.1:8080/api/v1/", "https://h.test/a%20b/", "https://h.test/"]
    ),
)
def test_url_shortcut_joins_as_the_rfc_join_does(path: str, base: str) -> None:
    """Any path the concatenation shortcut takes gives what URL.join gives."""
    client = HttpClient(
        provider="vendor", base_url=base, transport=httpx.MockTransport(Script(200))
    )
    try:
        expected = _joined(client._base_text or base, path)
    except httpx.InvalidURL:
        return
    try:
        got = str(client.url(path))
    except MalformedResponse:
        assert not expected.startswith(("http://", "https://", "ws://", "wss://"))
        return
    assert got == expected


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://api.vendor.test/anything", True),
        ("https://API.VENDOR.TEST/x", True),
        ("https://api.vendor.test:443/x", True),
        ("http://api.vendor.test/x", False),
        ("https://api.vendor.test:8443/x", False),
        ("https://vendor.test/x", False),
        ("https://api.vendor.test.evil.test/x", False),
    ],
)
def test_same_origin(url: str, same: bool) -> None:
    client = HttpClient(
        provider="vendor",
        base_url=BASE,
        credentials=CREDENTIALS,
        transport=httpx.MockTransport(Script(200)),
    )
    assert client.same_origin(httpx.URL(url)) is same
    assert client.credential_headers(httpx.URL(url)) == (CREDENTIALS if same else {})


@pytest.mark.anyio
async def test_credentials_and_headers_are_sent_to_the_base_origin(sleep: FakeSleep) -> None:
    script = Script(200)
    client = make_client(script, sleep, headers={"x-extra": "1"})
    await client.request("GET", "sessions", params={"limit": 5}, headers={"x-call": "2"})
    sent = script.requests[0]
    assert sent.url == httpx.URL(f"{BASE}/sessions?limit=5")
    assert sent.headers["x-vendor-key"] == KEY
    assert sent.headers["user-agent"] == USER_AGENT
    assert sent.headers["x-extra"] == "1"
    assert sent.headers["x-call"] == "2"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "url",
    [
        "https://bucket.storage.test/audio.wav?X-Amz-Signature=abc",
        "http://api.vendor.test/v2/sessions",
        "https://api.vendor.test:8443/v2/sessions",
    ],
)
async def test_credentials_are_not_sent_to_another_origin(sleep: FakeSleep, url: str) -> None:
    script = Script(200)
    client = make_client(script, sleep)
    await client.request("GET", url)
    assert "x-vendor-key" not in script.requests[0].headers
    assert script.requests[0].url == httpx.URL(url)


@pytest.mark.anyio
async def test_redirect_to_another_host_drops_credentials(sleep: FakeSleep) -> None:
    script = Script(
        reply(307, headers={"location": "https://cdn.other.test/file.wav"}), reply(200, {"ok": 1})
    )
    client = make_client(script, sleep)
    response = await client.request(
        "GET", "sessions/1/audio", headers={"authorization": "Bearer t0ken123"}
    )
    assert response.status_code == 200
    first, second = script.requests
    assert first.headers["x-vendor-key"] == KEY
    assert second.url == httpx.URL("https://cdn.other.test/file.wav")
    assert "x-vendor-key" not in second.headers
    assert "authorization" not in second.headers
    assert second.headers["user-agent"] == USER_AGENT


@pytest.mark.anyio
async def test_redirect_on_the_same_origin_keeps_credentials(sleep: FakeSleep) -> None:
    script = Script(reply(308, headers={"location": "/v2/sessions/1?moved=1"}), 200)
    client = make_client(script, sleep)
    await client.request("GET", "sessions/old")
    second = script.requests[1]
    assert second.url == httpx.URL(f"{BASE}/sessions/1?moved=1")
    assert second.headers["x-vendor-key"] == KEY


@pytest.mark.anyio
async def test_redirect_back_to_the_base_origin_adds_credentials(sleep: FakeSleep) -> None:
    script = Script(reply(302, headers={"location": f"{BASE}/sessions/1"}), 200)
    client = make_client(script, sleep)
    await client.request("GET", "https://short.other.test/abc")
    first, second = script.requests
    assert "x-vendor-key" not in first.headers
    assert second.headers["x-vendor-key"] == KEY


@pytest.mark.anyio
async def test_307_keeps_method_and_body(sleep: FakeSleep) -> None:
    script = Script(reply(307, headers={"location": "https://upload.other.test/u"}), 201)
    client = make_client(script, sleep)
    await client.request("POST", "uploads", json={"name": "a.wav"})
    second = script.requests[1]
    assert second.method == "POST"
    assert json.loads(second.content) == {"name": "a.wav"}
    assert second.headers["content-type"] == "application/json"
    assert "x-vendor-key" not in second.headers


@pytest.mark.anyio
@pytest.mark.parametrize("status", [302, 303])
async def test_see_other_turns_post_into_get_without_body(sleep: FakeSleep, status: int) -> None:
    script = Script(reply(status, headers={"location": "/v2/sessions/1"}), 200)
    client = make_client(script, sleep)
    await client.request("POST", "sessions", json={"name": "a"})
    second = script.requests[1]
    assert second.method == "GET"
    assert second.content == b""
    assert "content-type" not in second.headers
    assert "content-length" not in second.headers


class _NonReadingTransport(httpx.AsyncBaseTransport):
    """Like a real network transport, it streams the request body without buffering it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.urls: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url)
        self.bodies.append(b"".join([part async for part in request.stream]))  # type: ignore[union-attr]
        if len(self.urls) == 1:
            return httpx.Response(307, headers={"location": "/v2/uploads/2"})
        return httpx.Response(201)


@pytest.mark.anyio
async def test_307_of_a_multipart_upload_is_repeated(sleep: FakeSleep) -> None:
    transport = _NonReadingTransport()
    client = HttpClient(provider="vendor", base_url=BASE, transport=transport, sleep=sleep)
    response = await client.request("POST", "uploads", files={"audio": ("a.wav", b"RIFF-data")})
    assert response.status_code == 201
    assert transport.urls[1] == httpx.URL(f"{BASE}/uploads/2")
    assert b"RIFF-data" in transport.bodies[1]
    assert transport.bodies[0] == transport.bodies[1]


@pytest.mark.anyio
async def test_redirect_loop_ends_with_an_error(sleep: FakeSleep) -> None:
    script = Script(reply(302, headers={"location": "/v2/loop"}))
    client = make_client(script, sleep)
    with pytest.raises(ProviderUnavailable, match="redirects") as caught:
        await client.request("GET", "loop")
    assert not caught.value.retryable
    assert len(script.requests) == 6
    assert sleep.calls == []


@pytest.mark.anyio
async def test_redirect_without_location_is_returned(sleep: FakeSleep) -> None:
    client = make_client(Script(304), sleep)
    assert (await client.request("GET", "sessions")).status_code == 304


@pytest.mark.anyio
@pytest.mark.parametrize("follow", [True, False])
async def test_injected_client_redirect_setting_is_irrelevant(
    sleep: FakeSleep, follow: bool
) -> None:
    script = Script(reply(307, headers={"location": "https://cdn.other.test/f"}), 200)
    async with httpx.AsyncClient(transport=script.transport, follow_redirects=follow) as injected:
        client = HttpClient(
            provider="vendor", base_url=BASE, credentials=CREDENTIALS, client=injected, sleep=sleep
        )
        response = await client.request("GET", "files/1")
        assert response.status_code == 200
    assert len(script.requests) == 2
    assert "x-vendor-key" not in script.requests[1].headers


@pytest.mark.anyio
async def test_per_request_timeout_is_passed_to_the_transport(sleep: FakeSleep) -> None:
    script = Script(200)
    client = make_client(script, sleep, timeout=12.0)
    await client.request("GET", "a", timeout=3.0)
    await client.request("GET", "b")
    assert script.requests[0].extensions["timeout"] == httpx.Timeout(3.0).as_dict()
    assert script.requests[1].extensions["timeout"] == httpx.Timeout(12.0).as_dict()


def test_repr_does_not_show_credentials() -> None:
    client = HttpClient(
        provider="vendor",
        base_url=BASE,
        credentials=CREDENTIALS,
        transport=httpx.MockTransport(Script(200)),
    )
    assert KEY not in repr(client)
    assert "api.vendor.test" in repr(client)


# -- streaming ----------------------------------------------------------------------------


class LazyBody:
    """An async body that counts the pieces it has produced so far."""

    def __init__(self, pieces: list[bytes], fail_after: int | None = None) -> None:
        self.pieces = pieces
        self.produced = 0
        self.fail_after = fail_after

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            if self.fail_after is not None and self.produced >= self.fail_after:
                raise httpx.ReadError("connection reset by peer")
            self.produced += 1
            yield piece


@pytest.mark.anyio
async def test_stream_yields_chunks_lazily(sleep: FakeSleep) -> None:
    body = LazyBody([b"0123", b"4567", b"89ab", b"cdef"])
    script = Script(lambda request: httpx.Response(200, content=body))
    client = make_client(script, sleep)
    chunks: list[bytes] = []
    produced_when_received: list[int] = []
    async with client.stream("GET", "sessions/1/audio") as streamed:
        assert streamed.status_code == 200
        assert body.produced == 0  # nothing read before the caller asks
        async for chunk in streamed.aiter_bytes(4):
            chunks.append(chunk)
            produced_when_received.append(body.produced)
    assert len(chunks) > 1
    assert b"".join(chunks) == b"0123456789abcdef"
    assert produced_when_received[0] < len(body.pieces)
    assert streamed.response.is_closed
    assert script.requests[0].headers["x-vendor-key"] == KEY


@pytest.mark.anyio
async def test_stream_respects_chunk_size(sleep: FakeSleep) -> None:
    body = LazyBody([b"a" * 10, b"b" * 10, b"c" * 5])
    client = make_client(Script(lambda request: httpx.Response(200, content=body)), sleep)
    async with client.stream("GET", "big") as streamed:
        chunks = [chunk async for chunk in streamed.aiter_bytes(8)]
    assert all(len(chunk) <= 8 for chunk in chunks)
    assert b"".join(chunks) == b"a" * 10 + b"b" * 10 + b"c" * 5


@pytest.mark.anyio
async def test_stream_error_status_raises_mapped_error(sleep: FakeSleep) -> None:
    script = Script(reply(404, {"message": "no audio", "request_id": "r1"}))
    client = make_client(script, sleep)
    with pytest.raises(NotFound) as caught:
        async with client.stream("GET", "sessions/1/audio"):
            pytest.fail("the body of a 404 must not be handed out")
    assert caught.value.message == "no audio"
    assert caught.value.request_id == "r1"


@pytest.mark.anyio
async def test_stream_is_retried_before_the_body(sleep: FakeSleep) -> None:
    script = Script(503, lambda request: httpx.Response(200, content=LazyBody([b"ok"])))
    client = make_client(script, sleep)
    async with client.stream("GET", "audio") as streamed:
        assert [c async for c in streamed.aiter_bytes()] == [b"ok"]
    assert len(script.requests) == 2


@pytest.mark.anyio
async def test_transport_error_mid_body_is_provider_unavailable(sleep: FakeSleep) -> None:
    body = LazyBody([b"abcd", b"efgh", b"ijkl"], fail_after=1)
    client = make_client(Script(lambda request: httpx.Response(200, content=body)), sleep)
    received: list[bytes] = []

    async def consume() -> None:
        async with client.stream("GET", "audio?token=tok-stream-secret") as streamed:
            async for chunk in streamed.aiter_bytes(4):
                received.append(chunk)

    with pytest.raises(ProviderUnavailable) as caught:
        await consume()
    assert received == [b"abcd"]
    assert caught.value.retryable
    assert caught.value.url is not None
    assert "tok-stream-secret" not in caught.value.url
    assert "ReadError" in caught.value.message


@pytest.mark.anyio
async def test_stream_to_another_host_has_no_credentials(sleep: FakeSleep) -> None:
    script = Script(lambda request: httpx.Response(200, content=b"x"))
    client = make_client(script, sleep)
    async with client.stream("GET", "https://bucket.other.test/a.wav") as streamed:
        assert streamed.url == "https://bucket.other.test/a.wav"
    assert "x-vendor-key" not in script.requests[0].headers


# -- logging ------------------------------------------------------------------------------


def _all_log_text(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in records)


@pytest.mark.anyio
async def test_requests_are_logged_without_secrets(
    sleep: FakeSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="convoport.http")
    body = {"message": f"overloaded; your key {KEY}"}
    script = Script(reply(503, body), reply(200, {"ok": True}))
    client = make_client(script, sleep)
    await client.request("GET", "sessions", params={"token": "tok-LOG-secret", "page": "2"})
    records = [r for r in caplog.records if r.name == "convoport.http"]
    messages = [r.getMessage() for r in records]
    url = f"{BASE}/sessions?token=[REDACTED]&page=2"
    assert any(m.startswith(f"GET {url} -> 503") for m in messages)
    assert any(m.startswith(f"GET {url} -> 200") for m in messages)
    assert any(r.levelno == logging.WARNING and "retrying" in r.getMessage() for r in records)
    text = _all_log_text(caplog.records)
    assert KEY not in text
    assert "tok-LOG-secret" not in text


@pytest.mark.anyio
async def test_transport_failures_are_logged_without_secrets(
    sleep: FakeSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="convoport.http")
    client = make_client(Script(httpx.ConnectError(f"refused {KEY}")), sleep, retry=NO_RETRY)
    with pytest.raises(ProviderUnavailable):
        await client.request("GET", f"sessions?api_key={KEY}&token=tok-LOG-2")
    text = _all_log_text(caplog.records)
    assert "GET https://api.vendor.test/v2/sessions?api_key=[REDACTED]" in text
    assert "ConnectError" in text
    assert KEY not in text
    assert "tok-LOG-2" not in text


@pytest.mark.anyio
async def test_broken_error_parser_log_has_no_secrets(
    sleep: FakeSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="convoport.http")

    def parser(response: httpx.Response, body: bytes) -> ErrorInfo | None:
        raise ValueError(f"cannot read envelope {body!r}")

    client = make_client(
        Script(reply(401, {"message": f"bad key {KEY}"})), sleep, error_parser=parser
    )
    with pytest.raises(AuthenticationError):
        await client.request("GET", "sessions")
    text = _all_log_text(caplog.records)
    assert "error parser of vendor failed" in text
    assert "ValueError" in text
    assert KEY not in text


# -- client ownership ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_injected_client_is_not_closed() -> None:
    injected = httpx.AsyncClient(transport=httpx.MockTransport(Script(200)))
    client = HttpClient(provider="vendor", base_url=BASE, client=injected)
    assert client.httpx_client is injected
    await client.aclose()
    assert not injected.is_closed
    await injected.aclose()


@pytest.mark.anyio
async def test_owned_client_is_closed() -> None:
    client = HttpClient(
        provider="vendor", base_url=BASE, transport=httpx.MockTransport(Script(200))
    )
    await client.request("GET", "x")
    await client.aclose()
    assert client.httpx_client.is_closed


def test_credentials_are_added_to_the_redactor() -> None:
    client = HttpClient(
        provider="vendor",
        base_url=BASE,
        credentials=CREDENTIALS,
        transport=httpx.MockTransport(Script(200)),
    )
    assert client.redactor.text(f"echo {KEY}") == "echo [REDACTED]"


@pytest.mark.anyio
async def test_httpx_own_log_lines_are_redacted(
    sleep: FakeSleep, caplog: pytest.LogCaptureFixture
) -> None:
    script = Script(200)
    client = make_client(script, sleep)
    with caplog.at_level(logging.INFO, logger="httpx"):
        await client.request("GET", "https://elsewhere.example/file?token=tok-very-secret-1")
        logging.getLogger("httpx").info("echo %s", KEY)
    assert "tok-very-secret-1" not in caplog.text
    assert KEY not in caplog.text
