"""``convoport.signed``: pre-signed downloads against a fake storage host."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convoport.errors import (
    MalformedResponse,
    NotFound,
    PermissionDenied,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
)
from convoport.http import HttpClient, RetryPolicy
from convoport.model import Recording
from convoport.signed import (
    SignedDownload,
    SignedRecordingStream,
    link_secrets,
    open_signed,
    safe_url,
)

from .storage import NOW, Cut, FakeStorage

API_KEY = "APIKEY-SECRET-123456"
DATA = bytes(range(256)) * 8  # 2048 bytes


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _http(storage: FakeStorage, *, attempts: int = 4) -> HttpClient:
    client = httpx.AsyncClient(
        transport=storage.transport,
        headers={"x-api-key": "CLIENT-DEFAULT-KEY"},
        cookies={"sessionid": "COOKIE-VALUE"},
        auth=("user", "password"),
    )
    return HttpClient(
        provider="acme",
        base_url="https://api.example",
        credentials={"authorization": f"Bearer {API_KEY}"},
        client=client,
        retry=RetryPolicy(attempts=attempts, backoff_base=0.5, backoff_max=4),
    )


def _download(
    storage: FakeStorage,
    *,
    refresh: bool = True,
    lifetime: float = 3600,
    sleeps: Sleeps | None = None,
    attempts: int = 4,
    **options: Any,
) -> SignedDownload:
    url, expires_at = storage.link(lifetime=lifetime)
    return SignedDownload(
        _http(storage, attempts=attempts),
        url,
        expires_at=expires_at,
        refresh=storage.refresh if refresh else None,
        what="recording r1",
        clock=lambda: NOW,
        sleep=sleeps or Sleeps(),
        **options,
    )


async def _read(download: SignedDownload, chunk_size: int = 1 << 16) -> bytes:
    return b"".join([c async for c in download.aiter_bytes(chunk_size)])


def _no_credentials(storage: FakeStorage) -> None:
    for request in storage.requests:
        names = {k.lower() for k in request.headers}
        assert not names & {"authorization", "cookie", "x-api-key", "proxy-authorization"}
        assert API_KEY not in str(request.headers)


def _no_signature(text: str, storage: FakeStorage) -> None:
    for n in range(1, storage.minted + 1):
        assert f"sig{n:04d}deadbeefcafe" not in text
        assert f"AKIDEXAMPLE%2F{n}" not in text
        assert f"AKIDEXAMPLE/{n}" not in text
    assert API_KEY not in text


def test_a_plain_download_carries_no_credentials() -> None:
    storage = FakeStorage(DATA)
    download = _download(storage)
    assert asyncio.run(_read(download, chunk_size=100)) == DATA
    assert (download.bytes_read, download.size, download.content_type) == (
        len(DATA),
        len(DATA),
        "audio/wav",
    )
    [request] = storage.requests
    assert request.url.host == "storage.example"
    assert "range" not in request.headers
    assert request.headers["accept-encoding"] == "identity"
    _no_credentials(storage)
    _no_signature(repr(download) + download.url, storage)


def test_chunks_respect_the_chunk_size() -> None:
    storage = FakeStorage(DATA, piece=1000)
    download = _download(storage)

    async def sizes() -> list[int]:
        return [len(c) async for c in download.aiter_bytes(64)]

    got = asyncio.run(sizes())
    assert max(got) <= 64
    assert sum(got) == len(DATA)


def test_redirects_are_followed_without_credentials() -> None:
    storage = FakeStorage(DATA, redirect=True)
    assert asyncio.run(_read(_download(storage))) == DATA
    assert [r.url.host for r in storage.requests] == ["redirect.example", "storage.example"]
    _no_credentials(storage)


def test_same_origin_link_gets_credentials_only_when_asked_and_never_after_a_redirect() -> None:
    storage = FakeStorage(DATA)
    http = _http(storage)

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.example":
            storage.requests.append(request)
            target = httpx.URL("https://storage.example/bucket/file.bin").copy_with(
                query=request.url.query
            )
            return httpx.Response(307, headers={"location": str(target)})
        return storage.handle(request)

    url, _ = storage.link()
    link = "https://api.example/stream?" + httpx.URL(url).query.decode()
    for with_credentials in (False, True):
        storage.requests.clear()
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        http = HttpClient(
            provider="acme",
            base_url="https://api.example",
            credentials={"authorization": f"Bearer {API_KEY}"},
            client=client,
        )
        download = SignedDownload(http, link, with_credentials=with_credentials)
        assert asyncio.run(_read(download)) == DATA
        api, store = storage.requests
        assert ("authorization" in api.headers) is with_credentials
        assert "authorization" not in store.headers


def test_an_expired_link_is_refreshed_before_it_is_used() -> None:
    storage = FakeStorage(DATA)
    download = _download(storage, lifetime=10, expiry_margin=30)
    assert asyncio.run(_read(download)) == DATA
    assert download.refreshes == 1
    [request] = storage.requests
    assert request.url.params["X-Amz-Signature"] == "sig0002deadbeefcafe"


@pytest.mark.parametrize("error", [False, True])
def test_a_link_that_expires_mid_stream_resumes_with_range_on_a_fresh_link(error: bool) -> None:
    storage = FakeStorage(DATA, cuts=[Cut(700, error=error, expire=True)])
    sleeps = Sleeps()
    download = _download(storage, sleeps=sleeps)
    assert asyncio.run(_read(download)) == DATA
    first, refused, resumed = storage.requests
    assert "range" not in first.headers
    assert refused.headers["range"] == "bytes=700-"
    assert resumed.headers["range"] == "bytes=700-"
    assert resumed.url.params["X-Amz-Signature"] == "sig0002deadbeefcafe"
    assert download.refreshes == 1
    assert len(sleeps.waits) == 1  # the early end was a transient failure, waited for once
    _no_credentials(storage)


def test_410_asks_for_a_fresh_link() -> None:
    storage = FakeStorage(DATA, gone_status=410)
    download = _download(storage)
    storage.expire_all()
    assert asyncio.run(_read(download)) == DATA
    assert download.refreshes == 1


def test_refreshes_are_bounded_and_the_error_names_what_to_do() -> None:
    storage = FakeStorage(DATA)

    async def useless() -> tuple[str, datetime | None]:
        url, _ = storage.link()
        storage.expire_all()
        return url, None

    download = _download(storage, max_refreshes=2)
    download._refresh = useless
    storage.expire_all()
    with pytest.raises(PermissionDenied) as info:
        asyncio.run(_read(download))
    error = info.value
    assert error.details["reason"] == "link_expired"
    assert error.details["refreshes"] == 2
    assert error.status_code == 403
    assert "after 2 fresh link(s)" in str(error)
    assert error.hint is not None
    assert error.url == "https://storage.example/bucket/file.bin?…"
    assert error.body_excerpt is not None
    assert "Request has expired" in error.body_excerpt
    assert len(storage.requests) == 3
    _no_signature(str(error) + repr(error) + repr(download) + str(error.details), storage)


def test_without_refresh_an_expired_link_fails_at_once() -> None:
    storage = FakeStorage(DATA)
    download = _download(storage, refresh=False, lifetime=1)
    with pytest.raises(PermissionDenied, match="expired before it was used") as info:
        asyncio.run(_read(download))
    assert info.value.status_code is None
    assert storage.requests == []
    storage2 = FakeStorage(DATA)
    download2 = _download(storage2, refresh=False)
    storage2.expire_all()
    with pytest.raises(PermissionDenied, match=r"was refused \(403\)"):
        asyncio.run(_read(download2))


@pytest.mark.parametrize("error", [False, True])
def test_a_host_that_ignores_range_restarts_without_duplicating(error: bool) -> None:
    storage = FakeStorage(DATA, ranges=False, cuts=[Cut(500, error=error), Cut(900)])
    download = _download(storage)
    assert asyncio.run(_read(download)) == DATA
    assert [r.headers.get("range") for r in storage.requests] == [
        None,
        "bytes=500-",
        "bytes=900-",
    ]


def test_a_restart_of_another_length_or_etag_is_malformed() -> None:
    storage = FakeStorage(DATA, ranges=False, cuts=[Cut(500)])
    download = _download(storage)

    async def run() -> None:
        async for _ in download.aiter_bytes():
            storage.data = DATA + b"more"

    with pytest.raises(MalformedResponse, match="changed while it was downloaded"):
        asyncio.run(run())
    storage = FakeStorage(DATA, cuts=[Cut(500)])
    download = _download(storage)

    async def run_etag() -> None:
        async for _ in download.aiter_bytes():
            storage.etag = '"v2"'

    with pytest.raises(MalformedResponse, match="ETag changed"):
        asyncio.run(run_etag())


def test_a_wrong_content_range_is_malformed() -> None:
    storage = FakeStorage(DATA, cuts=[Cut(500)])
    storage.script = []
    download = _download(storage)

    async def run() -> None:
        async for _ in download.aiter_bytes():
            storage.script.append(
                httpx.Response(206, headers={"content-range": "bytes 600-2047/2048"}, content=b"x")
            )

    with pytest.raises(MalformedResponse, match="bytes 600-2047"):
        asyncio.run(run())


def test_transient_errors_are_retried_with_backoff_and_retry_after() -> None:
    storage = FakeStorage(
        DATA,
        script=[
            httpx.Response(503, headers={"retry-after": "2"}),
            httpx.Response(429, headers={"retry-after-ms": "1500"}),
            httpx.Response(500),
        ],
    )
    storage.connect_errors = 1
    sleeps = Sleeps()
    download = _download(storage, sleeps=sleeps, attempts=5)
    assert asyncio.run(_read(download)) == DATA
    assert sleeps.waits[1:3] == [2.0, 1.5]
    assert 0 <= sleeps.waits[0] <= 0.5
    assert 0 <= sleeps.waits[3] <= 4
    assert len(storage.requests) == 5


def test_transient_errors_are_bounded() -> None:
    storage = FakeStorage(DATA, script=[httpx.Response(502) for _ in range(10)])
    download = _download(storage, attempts=3)
    with pytest.raises(ProviderUnavailable, match="answered 502") as info:
        asyncio.run(_read(download))
    assert len(storage.requests) == 3
    _no_signature(str(info.value), storage)


def test_a_long_retry_after_is_not_waited() -> None:
    storage = FakeStorage(DATA, script=[httpx.Response(429, headers={"retry-after": "3600"})])
    sleeps = Sleeps()
    with pytest.raises(RateLimited) as info:
        asyncio.run(_read(_download(storage, sleeps=sleeps)))
    assert info.value.retry_after == 3600
    assert sleeps.waits == []


def test_404_is_final() -> None:
    storage = FakeStorage(DATA, script=[httpx.Response(404, text="NoSuchKey")])
    with pytest.raises(NotFound):
        asyncio.run(_read(_download(storage)))
    assert len(storage.requests) == 1


def test_a_refresh_that_hangs_is_bounded() -> None:
    storage = FakeStorage(DATA)

    async def hang() -> tuple[str, datetime | None]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    download = _download(storage, lifetime=1, refresh_timeout=0.01)
    download._refresh = hang
    with pytest.raises(ProviderUnavailable, match="fresh link"):
        asyncio.run(_read(download))


def test_a_download_is_read_once_and_validates_its_link() -> None:
    storage = FakeStorage(DATA)
    download = _download(storage)
    asyncio.run(_read(download))
    with pytest.raises(RuntimeError, match="read once"):
        asyncio.run(_read(download))
    with pytest.raises(ValueError, match="absolute URL"):
        SignedDownload(_http(storage), "/relative?X-Amz-Signature=abcdefghijkl")


def test_secrets_stay_out_of_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    storage = FakeStorage(DATA, redirect=True, cuts=[Cut(100, expire=True)])
    storage.script = [httpx.Response(503)]
    assert asyncio.run(_read(_download(storage))) == DATA
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request" in text  # httpx logged the requests...
    _no_signature(text, storage)  # ...without the signatures


def test_safe_url_and_link_secrets() -> None:
    url = (
        "https://u:p@h.example:8443/a/b.wav?X-Amz-Expires=60&sig=short&token=x&Policy=abcdefghij#f"
    )
    assert safe_url(url) == "https://h.example:8443/a/b.wav?…"
    assert safe_url("https://h.example/a") == "https://h.example/a"
    secrets = link_secrets(url)
    assert {"u:p", "short", "abcdefghij"} <= set(secrets)
    assert "60" not in secrets


def test_recording_stream_and_open_signed() -> None:
    storage = FakeStorage(DATA)
    url, expires_at = storage.link()
    download = open_signed(_http(storage), url, expires_at=expires_at, clock=lambda: NOW)
    stream = SignedRecordingStream(Recording(id="r1", session_id="s1"), download)

    async def read() -> bytes:
        return b"".join([c async for c in stream.aiter_bytes(128)])

    assert asyncio.run(read()) == DATA
    _no_signature(repr(stream), storage)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(min_size=1, max_size=600),
    ranges=st.booleans(),
    cuts=st.lists(
        st.tuples(st.integers(0, 700), st.booleans(), st.booleans()), min_size=0, max_size=6
    ),
    piece=st.integers(1, 50),
    chunk_size=st.integers(1, 80),
)
def test_bytes_arrive_exactly_once_whatever_the_cuts(
    data: bytes,
    ranges: bool,
    cuts: list[tuple[int, bool, bool]],
    piece: int,
    chunk_size: int,
) -> None:
    storage = FakeStorage(
        data,
        ranges=ranges,
        piece=piece,
        cuts=[Cut(after, error=error, expire=expire) for after, error, expire in cuts],
    )
    # Every cut that delivers nothing costs a try (or a refresh) without progress.
    download = _download(storage, attempts=len(cuts) + 2, max_refreshes=len(cuts) + 1)
    got = asyncio.run(_read(download, chunk_size))
    assert got == data
    assert download.bytes_read == len(data)
    _no_credentials(storage)


def test_provider_errors_are_provider_errors() -> None:
    assert issubclass(PermissionDenied, ProviderError)


def test_expires_at_naive_is_utc() -> None:
    storage = FakeStorage(DATA)
    url, _ = storage.link()
    download = SignedDownload(
        _http(storage),
        url,
        expires_at=(NOW + timedelta(seconds=5)).replace(tzinfo=None),
        clock=lambda: NOW,
        expiry_margin=1,
    )
    assert asyncio.run(_read(download)) == DATA


def test_a_body_the_transport_already_read_is_delivered() -> None:
    """httpx.MockTransport(content=...) hands over a read body: no StreamConsumed escapes."""

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=DATA, headers={"content-length": str(len(DATA))})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    http = HttpClient(provider="acme", base_url="https://api.example", client=client)
    download = SignedDownload(http, "https://storage.example/file.bin?sig=abc")
    assert asyncio.run(_read(download, chunk_size=1000)) == DATA
