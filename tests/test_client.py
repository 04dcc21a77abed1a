"""The async client facade and the sync twin."""

from __future__ import annotations

import hashlib
import inspect
import io
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from convoport import (
    AsyncClient,
    Capabilities,
    Capability,
    ConfigError,
    MalformedResponse,
    NotFound,
    QueryFilter,
    SessionQuery,
    SessionRef,
    SessionStatus,
    SyncClient,
    UnsupportedOperation,
)
from convoport.config import build_config
from convoport.spi import ConnectOptions
from tests.fakes import FakeAdapter, FakeConfig, HttpFakeAdapter, failing_transport

pytestmark = pytest.mark.anyio


def client(**config: Any) -> AsyncClient:
    return AsyncClient(FakeAdapter(FakeConfig(api_key="k", **config)))


async def test_list_sessions_pages_through_everything() -> None:
    c = client(sessions=7)
    ids = [s.id async for s in c.list_sessions()]
    assert ids == [f"s{i}" for i in range(7)]
    assert c.adapter.calls == ["list:None:3", "list:3:3", "list:6:3"]  # type: ignore[attr-defined]


async def test_list_sessions_limit_and_page_size() -> None:
    c = client(sessions=20)
    ids = [s.id async for s in c.list_sessions(page_size=500, limit=4)]
    assert ids == ["s0", "s1", "s2", "s3"]
    # page size capped by the adapter's max_page_size (100)
    assert c.adapter.calls == ["list:None:100"]  # type: ignore[attr-defined]


async def test_zero_limit_makes_no_request() -> None:
    c = client()
    assert [s async for s in c.list_sessions(limit=0)] == []
    assert c.adapter.calls == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("kwargs", [{"limit": -1}, {"page_size": 0}])
async def test_bad_listing_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        [s async for s in client().list_sessions(**kwargs)]


async def test_server_side_filter_is_not_repeated_but_others_apply_locally() -> None:
    c = client(sessions=9)
    done = [s.id async for s in c.list_sessions(SessionQuery(statuses={SessionStatus.COMPLETED}))]
    assert done == ["s0", "s3", "s6"]
    # metadata is not declared by the fake: core filters it
    team_a = [s.id async for s in c.list_sessions(SessionQuery(metadata={"team": "a"}))]
    assert team_a == ["s1", "s3", "s5", "s7"]


async def test_search_filter_unsupported_before_io() -> None:
    c = client()
    with pytest.raises(UnsupportedOperation, match="search"):
        [s async for s in c.list_sessions(SessionQuery(search="x"))]
    assert c.adapter.calls == []  # type: ignore[attr-defined]


class NarrowAdapter(HttpFakeAdapter):
    name = "narrow"
    capabilities = Capabilities(ports={Capability.CATALOG_GET}, filters=set())


@pytest.mark.parametrize(
    ("method", "args", "capability"),
    [
        ("delete_session", ("s1",), "catalog.delete"),
        ("list_recordings", ("s1",), "recordings"),
        ("get_transcript", ("s1",), "transcripts"),
        ("get_summary", ("s1",), "summaries"),
        ("list_participants", ("s1",), "participants"),
        ("list_chat", ("s1",), "chat"),
        ("start_live", (), "live.ingest"),
        ("analyze", (b"abc",), "batch.ingest"),
    ],
)
async def test_unsupported_operation_before_any_io(
    method: str, args: tuple[Any, ...], capability: str
) -> None:
    adapter = NarrowAdapter(FakeConfig(api_key="k"), ConnectOptions(transport=failing_transport()))
    c = AsyncClient(adapter)
    with pytest.raises(UnsupportedOperation) as info:
        await getattr(c, method)(*args)
    assert info.value.capability == capability
    assert info.value.provider == "narrow"
    assert "narrow does not support " + capability in str(info.value)


async def test_unsupported_listing_and_recording_stream_before_io() -> None:
    c = AsyncClient(
        NarrowAdapter(FakeConfig(api_key="k"), ConnectOptions(transport=failing_transport()))
    )
    with pytest.raises(UnsupportedOperation, match=r"catalog\.list"):
        [s async for s in c.list_sessions()]
    with pytest.raises(UnsupportedOperation, match="recordings"):
        c.open_recording("s1")


async def test_session_arguments() -> None:
    c = client()
    assert (await c.get_session(SessionRef(provider="fake", id="s1"))).id == "s1"
    session = await c.get_session("s2")
    assert (await c.get_session(session)).id == "s2"
    with pytest.raises(ConfigError, match="belongs to gladia"):
        await c.get_session(SessionRef(provider="gladia", id="s1"))
    for bad in ("", "  ", "a\x00b"):
        with pytest.raises(ConfigError):
            await c.get_session(bad)
    with pytest.raises(NotFound):
        await c.get_session("nope")


async def test_translation_errors_become_malformed_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "x", "status": "sleeping"})

    adapter = HttpFakeAdapter(
        FakeConfig(api_key="secret-key-123"), ConnectOptions(transport=httpx.MockTransport(handler))
    )
    async with AsyncClient(adapter) as c:
        with pytest.raises(MalformedResponse) as info:
            await c.get_session("x")
    assert info.value.provider == "httpfake"
    assert "ValueError" in str(info.value)


async def test_missing_key_in_payload_becomes_malformed_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"nothing": True})

    adapter = HttpFakeAdapter(
        FakeConfig(api_key="k123"), ConnectOptions(transport=httpx.MockTransport(handler))
    )
    async with AsyncClient(adapter) as c:
        with pytest.raises(MalformedResponse, match="KeyError"):
            await c.get_session("x")


async def test_open_and_download_recording(tmp_path: Path) -> None:
    c = client()
    media = c.adapter.media  # type: ignore[attr-defined]
    async with c.open_recording("s1") as stream:
        chunks = [chunk async for chunk in stream.aiter_bytes(1000)]
    assert len(chunks) > 1
    assert b"".join(chunks) == media
    target = tmp_path / "out.wav"
    rec = await c.download_recording("s1", target)
    assert rec.size == len(media)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(media).digest()
    assert not (tmp_path / "out.wav.part").exists()
    buf = io.BytesIO()
    await c.download_recording("s1", buf, recording_id="s1-r")
    assert buf.getvalue() == media
    with pytest.raises(NotFound, match="no recording 'zzz'"):
        await c.download_recording("s1", buf, recording_id="zzz")


async def test_failed_download_leaves_no_file(tmp_path: Path) -> None:
    c = client()
    target = tmp_path / "out.wav"
    with pytest.raises(NotFound):
        await c.download_recording("missing", target)
    assert not target.exists()
    assert not target.with_name("out.wav.part").exists()


async def test_close_closes_adapter_and_refuses_calls() -> None:
    c = client()
    async with c:
        pass
    assert c.adapter.closed  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="closed"):
        await c.get_session("s1")


async def test_declared_but_unimplemented_is_unsupported() -> None:
    class Lazy(FakeAdapter):
        name = "lazy"
        capabilities = Capabilities(ports={Capability.LIVE_INGEST})

    c = AsyncClient(Lazy(FakeConfig(api_key="k")))
    with pytest.raises(UnsupportedOperation, match="declared but not implemented"):
        await c.start_live()


# -- config ----------------------------------------------------------------------------------


def test_config_from_kwargs_env_and_defaults() -> None:
    cfg = build_config(FakeConfig, {"api_key": "kw"}, provider="fake", env={"FAKE_API_KEY": "e"})
    assert cfg.api_key == "kw"
    cfg = build_config(FakeConfig, {}, provider="fake", env={"FAKE_API_KEY": "from-env"})
    assert cfg.api_key == "from-env"
    assert cfg.sessions == 7
    assert "from-env" not in repr(cfg)


def test_config_missing_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        build_config(FakeConfig, {}, provider="fake", env={})
    assert "FAKE_API_KEY" in str(info.value)


def test_config_unknown_option() -> None:
    with pytest.raises(ConfigError, match="unknown option for fake: colour"):
        build_config(FakeConfig, {"api_key": "x", "colour": 1}, provider="fake", env={})


# -- sync twin -------------------------------------------------------------------------------


def _public(cls: type) -> dict[str, Any]:
    return {
        name: value
        for name, value in vars(cls).items()
        if not name.startswith("_") or name in ("__aenter__", "__aexit__", "__enter__", "__exit__")
    }


_RENAMES = {"aclose": "close", "__aenter__": "__enter__", "__aexit__": "__exit__"}


def test_sync_twin_has_the_same_methods_and_signatures() -> None:
    async_api = _public(AsyncClient)
    sync_api = _public(SyncClient)
    expected_names = {_RENAMES.get(n, n) for n in async_api}
    assert expected_names <= set(sync_api), expected_names - set(sync_api)
    for name, member in async_api.items():
        twin = sync_api[_RENAMES.get(name, name)]
        if isinstance(member, property):
            assert isinstance(twin, property), name
            continue
        a = inspect.signature(member)
        s = inspect.signature(twin)
        a_params = [(p.name, p.kind, p.default, str(p.annotation)) for p in a.parameters.values()]
        s_params = [(p.name, p.kind, p.default, str(p.annotation)) for p in s.parameters.values()]
        assert a_params == s_params, f"{name}: {a} != {s}"


def test_sync_client_works_end_to_end(tmp_path: Path) -> None:
    adapter = FakeAdapter(FakeConfig(api_key="k"))
    with SyncClient(AsyncClient(adapter)) as c:
        assert [s.id for s in c.list_sessions(limit=4)] == ["s0", "s1", "s2", "s3"]
        assert c.get_session("s1").id == "s1"
        assert c.get_transcript("s1").text == "hi"
        with c.open_recording("s1") as rec:
            data = b"".join(rec.iter_bytes(4096))
        assert data == adapter.media
        out = tmp_path / "x.bin"
        assert c.download_recording("s1", out).size == len(adapter.media)
        with pytest.raises(NotFound):
            c.get_session("missing")
        c.delete_session("s1")
        with pytest.raises(NotFound):
            c.get_session("s1")
    assert adapter.closed


def test_sync_iterator_can_stop_early() -> None:
    adapter = FakeAdapter(FakeConfig(api_key="k", sessions=30))
    with SyncClient(AsyncClient(adapter)) as c:
        for session in c.list_sessions():
            if session.id == "s1":
                break
        assert c.get_session("s29").id == "s29"


def test_capabilities_value() -> None:
    caps = Capabilities(ports={"catalog.get"}, filters={"statuses"})
    assert Capability.CATALOG_GET in caps.ports
    assert caps.supports("catalog.get")
    assert QueryFilter.STATUS in caps
    assert caps.as_dict() == {"ports": ["catalog.get"], "filters": ["statuses"], "orders": []}
    with pytest.raises(ValueError):
        Capabilities(ports={"teleport"})
    assert attrs.evolve(caps) == caps


def test_an_unclosed_sync_client_does_not_block_exit() -> None:
    import subprocess
    import sys

    code = (
        "import convoport\n"
        "c = convoport.connect_sync('gladia', sandbox=True)\n"
        "print(next(iter(c.list_sessions(limit=1))).provider)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "gladia"


def test_sync_client_dropped_without_close_stops_its_thread() -> None:
    import gc
    import threading

    before = {t.ident for t in threading.enumerate()}
    client = SyncClient(AsyncClient(FakeAdapter(FakeConfig(api_key="k"))))
    assert client.get_session("s1").id == "s1"
    del client
    gc.collect()
    leftover = [
        t for t in threading.enumerate() if t.ident not in before and t.name == "convoport-sync"
    ]
    for thread in leftover:
        thread.join(timeout=5)
    assert not any(t.is_alive() for t in leftover)


def test_a_sync_client_used_only_through_what_it_returned() -> None:
    import convoport

    sessions = list(convoport.connect_sync("gladia", sandbox=True).list_sessions(limit=3))
    assert len(sessions) == 3
