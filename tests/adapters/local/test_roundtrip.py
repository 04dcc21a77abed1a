"""Everything committed comes back equal through ``connect("local:...")``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import convoport
from convoport import Capability, SessionQuery
from convoport.adapters.local.adapter import LocalAdapter

from ._helpers import archive_session, make_session, payload

pytestmark = pytest.mark.anyio


async def test_round_trip_through_a_new_connection(
    adapter: LocalAdapter, archive_path: Path, media_root: str | None
) -> None:
    session = make_session("abc", title="Weekly sync")
    data = {"audio": payload(300_000), "video": payload(70_001, seed=7)}
    bundle = await archive_session(adapter, session, data)
    await adapter.aclose()

    async with convoport.connect(
        f"local:{archive_path}", media_root=media_root, create=True
    ) as client:
        assert client.provider == "local"
        assert [s async for s in client.list_sessions()] == [session]
        got = await client.get_session("gladia:abc")
        assert got == session
        assert got.provider == "gladia"
        assert got.provider_data == session.provider_data
        assert await client.get_transcript("gladia:abc") == bundle.transcripts[0]
        assert (await client.get_transcript("gladia:abc")).provider_data == {"utterances": 2}
        assert await client.get_summary("gladia:abc") == bundle.summary
        assert await client.list_participants("gladia:abc") == list(bundle.participants)
        assert await client.list_chat("gladia:abc") == list(bundle.chat)
        recordings = await client.list_recordings("gladia:abc")
        assert recordings == [m.recording for m in bundle.media]
        for recording in recordings:
            async with client.open_recording("gladia:abc", recording_id=recording.id) as stream:
                got_bytes = b"".join([c async for c in stream.aiter_bytes()])
            assert got_bytes == data[recording.id]
        local = client.adapter
        assert isinstance(local, LocalAdapter)
        assert await local.ex_raw_payload("gladia:abc") == session.provider_data
        assert await local.list_transcripts("gladia:abc") == list(bundle.transcripts)
        entry = await local._ledger_entry(session.ref)
        assert entry is not None
        assert entry.state == "done"
        assert entry.bytes == sum(len(b) for b in data.values())
        assert (await local.verify()).ok


async def test_stored_media_reports_size_and_sha256(adapter: LocalAdapter) -> None:
    session = make_session("abc")
    bundle = await archive_session(adapter, session, {"audio": payload(12_345)})
    (media,) = bundle.media
    assert media.size == 12_345
    assert media.sha256 == hashlib.sha256(payload(12_345)).hexdigest()
    assert media.path.startswith("gladia/")
    assert not media.path.startswith("/")


async def test_download_recording_to_a_file(client: convoport.AsyncClient, tmp_path: Path) -> None:
    assert isinstance(client.adapter, LocalAdapter)
    data = payload(200_000)
    await archive_session(client.adapter, make_session("abc"), {"audio": data})
    target = tmp_path / "out.wav"
    recording = await client.download_recording("gladia:abc", target)
    assert target.read_bytes() == data
    assert recording.size == len(data)


async def test_sessions_of_several_providers(
    adapter: LocalAdapter, client: convoport.AsyncClient
) -> None:
    a = make_session("same", provider="gladia", day=1)
    b = make_session("other", provider="illocution", day=2)
    await archive_session(adapter, a)
    await archive_session(adapter, b)
    assert [s async for s in client.list_sessions()] == [b, a]  # newest first
    assert await client.get_session("illocution:other") == b
    assert (await client.get_transcript("illocution:other")).session_id == "other"


async def test_declared_capabilities_are_implemented() -> None:
    for capability in LocalAdapter.capabilities.ports:
        assert LocalAdapter.implemented(capability), capability
    assert Capability.ARCHIVE_SINK in LocalAdapter.capabilities.ports
    assert Capability.LIVE_INGEST not in LocalAdapter.capabilities.ports
    assert LocalAdapter.emulator is None
    names = {p.name for p in convoport.providers()}
    assert "local" in names


async def test_no_io_at_connect(tmp_path: Path) -> None:
    client = convoport.connect(f"local:{tmp_path / 'never'}")
    await client.aclose()
    assert not (tmp_path / "never").exists()


async def test_sync_client(archive_path: Path, media_root: str | None) -> None:
    async with convoport.connect(
        f"local:{archive_path}", media_root=media_root, create=True
    ) as client:
        assert isinstance(client.adapter, LocalAdapter)
        await archive_session(client.adapter, make_session("abc"))
    with convoport.connect_sync(f"local:{archive_path}", media_root=media_root) as sync:
        assert [s.id for s in sync.list_sessions(SessionQuery())] == ["abc"]
