"""The live handle every live adapter shares: one consumer, transcript assembly, endings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from convoport import (
    DoneEvent,
    ErrorEvent,
    FinalUtterance,
    LiveOptions,
    LiveSessionBase,
    LiveSessionError,
    PartialTranscript,
    SessionStatus,
    Summary,
    SummaryEvent,
    Utterance,
    VendorEvent,
)
from convoport.archive import as_archive

pytestmark = pytest.mark.anyio


class Scripted(LiveSessionBase):
    """Emits a fixed script when finalized; records what was sent."""

    def __init__(self, *, fail_on_cancel: bool = False) -> None:
        super().__init__(provider="scripted", session_id="live-1", options=LiveOptions())
        self.sent: list[bytes] = []
        self.fail_on_cancel = fail_on_cancel

    async def _send(self, data: bytes) -> None:
        self.sent.append(data)

    async def _finalize(self) -> None:
        u = Utterance
        self._emit(PartialTranscript(utterance=u(id="a", text="hel", start=0.0)))
        self._emit(FinalUtterance(utterance=u(id="b", text="second", start=2.0, end=3.0)))
        self._emit(FinalUtterance(utterance=u(id="a", text="hello", start=0.0, end=1.0)))
        self._emit(FinalUtterance(utterance=u(id="a", text="hello!", start=0.0, end=1.0)))
        self._emit(VendorEvent(name="emotion", data={"joy": 0.5}))
        self._emit(SummaryEvent(summary=Summary(session_id="live-1", text="first")))
        self._emit(SummaryEvent(summary=Summary(session_id="live-1", text="last")))
        self._emit(DoneEvent(session_id="live-1"))
        self._emit(FinalUtterance(utterance=u(id="c", text="after done", start=9.0)))

    async def _cancel(self) -> None:
        self._emit(ErrorEvent(message="cancelled", fatal=True))


async def test_result_assembles_finals_by_id_in_time_order() -> None:
    async with Scripted() as live:
        await live.send_audio(b"abc")
        await live.send_audio(b"")
        await live.finalize()
        kinds = [e.kind async for e in live.events()]
        result = await live.wait()
    assert kinds == ["partial", "final", "final", "final", "vendor", "summary", "summary", "done"]
    assert [u.text for u in result.transcript.utterances] == ["hello!", "second"]
    assert result.summary is not None
    assert result.summary.text == "last"
    assert result.session.status is SessionStatus.COMPLETED
    assert result.bytes_sent == 3
    assert result.provider_data == {"events": {"emotion": [{"joy": 0.5}]}}
    assert live.result is result


async def test_wait_after_an_early_break_drains_the_rest() -> None:
    live = Scripted()
    await live.finalize()
    async for _ in live.events():
        break
    result = await live.wait()
    assert result.session.status is SessionStatus.COMPLETED
    assert len(result.transcript.utterances) == 2


async def test_one_consumer_at_a_time() -> None:
    live = Scripted()
    first = live.events()
    task = asyncio.ensure_future(anext(first))
    await asyncio.sleep(0)
    with pytest.raises(LiveSessionError, match="one consumer"):
        await anext(live.events())
    await live.finalize()
    assert (await task).kind == "partial"
    await first.aclose()


async def test_cancel_then_fatal_error_is_cancelled_not_failed() -> None:
    live = Scripted()
    await live.cancel()
    result = await live.wait()
    assert result.session.status is SessionStatus.CANCELLED


async def test_fatal_error_without_cancel_is_failed() -> None:
    live = Scripted()
    live._emit(ErrorEvent(message="asr crashed", fatal=True))
    result = await live.wait()
    assert result.session.status is SessionStatus.FAILED
    assert result.session.provider_data == {"errors": ["asr crashed"]}


async def test_no_audio_after_the_end() -> None:
    live = Scripted()
    await live.finalize()
    await live.wait()
    with pytest.raises(LiveSessionError, match="ended"):
        await live.send_audio(b"x")


async def test_result_before_the_end_is_an_error() -> None:
    with pytest.raises(LiveSessionError, match="not ended"):
        _ = Scripted().result


async def test_failure_is_raised_to_the_consumer() -> None:
    live = Scripted()
    live._fail(LiveSessionError("socket lost for good", provider="scripted"))
    with pytest.raises(LiveSessionError, match="socket lost"):
        async for _ in live.events():
            pass


async def test_persist_to_keeps_the_archive_current(tmp_path: Path) -> None:
    from convoport import connect

    folder = tmp_path / "archive"
    async with connect(f"local:{folder}", create=True) as archive:
        live = Scripted()
        live.persist_to(archive)
        live._emit(FinalUtterance(utterance=Utterance(id="x", text="kept", start=0.0, end=1.0)))
        for _ in range(50):  # the snapshot is committed in the background
            await asyncio.sleep(0.02)
            try:
                transcript = await archive.get_transcript("scripted:live-1")
                break
            except Exception:
                continue
        assert [u.text for u in transcript.utterances] == ["kept"]
        snapshot = await archive.get_session("scripted:live-1")
        assert snapshot.status is SessionStatus.ACTIVE
        await live.finalize()
        result = await live.wait()
        final = await archive.get_session("scripted:live-1")
        assert final.status is SessionStatus.COMPLETED
        assert await archive.get_transcript("scripted:live-1") == result.transcript
        assert (await archive.get_summary("scripted:live-1")).text == "last"


async def test_persist_to_needs_an_archive() -> None:
    from convoport import ConfigError, connect

    async with connect("gladia", sandbox=True) as not_an_archive:
        with pytest.raises(ConfigError, match="not an archive"):
            Scripted().persist_to(not_an_archive)


async def test_leaving_early_keeps_what_arrived(tmp_path: Path) -> None:
    from convoport import connect

    async with connect(f"local:{tmp_path / 'a'}", create=True) as archive:
        async with Scripted() as live:
            live.persist_to(archive)
            live._emit(FinalUtterance(utterance=Utterance(id="x", text="one", start=0.0)))
            live._emit(FinalUtterance(utterance=Utterance(id="y", text="two", start=1.0)))
            async for _ in live.events():
                break  # leave without wait()
        transcript = await archive.get_transcript("scripted:live-1")
        assert [u.text for u in transcript.utterances] == ["one", "two"]
        session = await archive.get_session("scripted:live-1")
        assert session.status is SessionStatus.ACTIVE
        # an unfinished snapshot is not "done" in the ledger: a later migration copies it
        ledger = await archive.adapter.ledger()  # type: ignore[attr-defined]
        assert [e for e in ledger if e.state == "done"] == []
        assert (await as_archive(archive.adapter).verify()).ok


async def test_a_lost_stream_still_keeps_what_arrived(tmp_path: Path) -> None:
    from convoport import connect

    async with connect(f"local:{tmp_path / 'a'}", create=True) as archive:
        live = Scripted()
        live.persist_to(archive)
        for n in range(3):
            u = Utterance(id=f"u{n}", text=f"u{n}", start=float(n))
            live._emit(FinalUtterance(utterance=u))
        live._fail(LiveSessionError("stream lost", provider="scripted"))
        with pytest.raises(LiveSessionError, match="stream lost"):
            await live.wait()
        transcript = await archive.get_transcript("scripted:live-1")
        assert [u.text for u in transcript.utterances] == ["u0", "u1", "u2"]
        assert (await archive.get_session("scripted:live-1")).status is SessionStatus.FAILED
