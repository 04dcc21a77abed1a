"""The live handle every live adapter shares: one consumer, transcript assembly, endings."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import attrs
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
from convoport.errors import ProviderUnavailable
from convoport.http import RetryPolicy
from convoport.live import ConnectionDropped, ReadBack, StatusEvent
from convoport.model import Session

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
    assert result.session.provider_data == {
        "errors": ["asr crashed"],
        "client_observed": ["created_at", "ended_at"],  # the vendor gave no times
    }


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
        ledger = await archive.adapter.ex_ledger()  # type: ignore[attr-defined]
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


# -- the reconnect loop, with a fake connection ---------------------------------------------


@attrs.frozen(kw_only=True)
class Conn:
    """One scripted connection: raise ``open_error`` on opening, else deliver ``messages``
    and end ``"normal"``, ``"drop"``, ``"fatal"`` or ``"hang"`` (stay open)."""

    messages: tuple[str, ...] = ()
    end: str = "normal"
    open_error: Exception | None = None


class Wired(LiveSessionBase):
    """A handle whose connection is a script; records connects, sleeps and resend calls."""

    def __init__(
        self,
        script: list[Conn],
        *,
        attempts: int = 4,
        seed: int = 7,
        block_sleep: bool = False,
    ) -> None:
        super().__init__(
            provider="wired",
            session_id="w-1",
            options=LiveOptions(),
            reconnect=RetryPolicy(
                attempts=attempts, backoff_base=1.0, backoff_max=4.0, rng=random.Random(seed)
            ),
            sleep=self._fake_sleep,
        )
        self.script = list(script)
        self.connects = 0
        self.reconnected: list[bool] = []
        self.sleeps: list[float] = []
        self.sleeping = asyncio.Event()
        self.release = asyncio.Event()
        self.block_sleep = block_sleep

    async def _fake_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.sleeping.set()
        if self.block_sleep:
            await asyncio.Event().wait()  # until cancelled
        await asyncio.sleep(0)

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[Conn]:
        conn = self.script.pop(0)
        self.connects += 1
        if conn.open_error is not None:
            raise conn.open_error
        yield conn

    async def _on_connected(self, conn: Conn, *, reconnected: bool) -> None:
        self.reconnected.append(reconnected)

    async def _receive(self, conn: Conn) -> AsyncGenerator[str, None]:
        for message in conn.messages:
            yield message
        if conn.end == "drop":
            raise ConnectionDropped("code 1011", data={"close_code": 1011})
        if conn.end == "fatal":
            raise LiveSessionError("refused for good", provider="wired")
        if conn.end == "hang":
            await asyncio.Event().wait()
        if conn.end == "drop_when_released":
            await self.release.wait()
            raise ConnectionDropped("closed by the vendor")

    def _on_message(self, message: str) -> None:
        self._emit(FinalUtterance(utterance=Utterance(id=message, text=message, start=0.0)))

    async def _on_closed(self) -> None:
        self._emit(DoneEvent(session_id=self.session_id))

    async def _send(self, data: bytes) -> None:
        pass

    async def _finalize(self) -> None:
        pass

    async def _cancel(self) -> None:
        await self._stop_connection()
        self._end(SessionStatus.CANCELLED)


def draws(seed: int, *ceilings: float) -> list[float]:
    """What ``RetryPolicy.delay`` draws from ``random.Random(seed)`` for these ceilings."""
    rng = random.Random(seed)
    return [rng.uniform(0, c) for c in ceilings]


async def test_a_drop_reconnects_with_the_shared_backoff_and_resends() -> None:
    live = Wired([Conn(messages=("a",), end="drop"), Conn(messages=("b",))])
    await live._start_connection()
    events = [e async for e in live.events()]
    result = await live.wait()
    assert live.connects == 2
    assert live.reconnected == [False, True]  # the second open is told to resend
    assert live.sleeps == draws(7, 1.0)
    reconnecting = [e for e in events if isinstance(e, StatusEvent)]
    assert [e.phase for e in reconnecting] == ["reconnecting"]
    assert reconnecting[0].provider_data == {"close_code": 1011, "attempt": 1}
    assert [u.text for u in result.transcript.utterances] == ["a", "b"]
    assert result.session.status is SessionStatus.COMPLETED


async def test_attempts_run_out_then_a_live_session_error() -> None:
    live = Wired([Conn(end="drop"), Conn(end="drop"), Conn(end="drop"), Conn()], attempts=3)
    await live._start_connection()
    kinds: list[str] = []

    async def consume() -> None:
        async for event in live.events():
            kinds.append(getattr(event, "phase", event.kind))

    with pytest.raises(
        LiveSessionError,
        match=r"lost the connection \(code 1011\) and could not reconnect after 2 attempts",
    ):
        await consume()
    assert live.connects == 3
    assert kinds == ["reconnecting", "reconnecting"]
    assert live.sleeps == draws(7, 1.0, 2.0)  # the ceiling doubles with each failed try
    assert (await live._final_session()).status is SessionStatus.FAILED


async def test_a_connection_that_delivered_resets_the_count() -> None:
    drops = [Conn(messages=(f"m{n}",), end="drop") for n in range(4)]
    live = Wired([*drops, Conn(messages=("last",))], attempts=2)
    await live._start_connection()
    result = await live.wait()
    assert live.connects == 5  # 4 drops survive although only one retry is allowed in a row
    assert live.sleeps == draws(7, 1.0, 1.0, 1.0, 1.0)  # each one is a first retry again
    assert result.session.status is SessionStatus.COMPLETED
    assert len(result.transcript.utterances) == 5


async def test_a_fatal_close_is_not_retried() -> None:
    live = Wired([Conn(messages=("a",), end="fatal"), Conn()])
    await live._start_connection()
    with pytest.raises(LiveSessionError, match="refused for good"):
        await live.wait()
    assert live.connects == 1
    assert live.sleeps == []


async def test_a_connection_that_never_opens_raises_the_vendors_error() -> None:
    busy = ProviderUnavailable("503 from the vendor", provider="wired", retryable=True)
    live = Wired([Conn(open_error=busy)] * 3, attempts=3)
    with pytest.raises(ProviderUnavailable, match="503 from the vendor"):
        await live._start_connection()
    assert live.connects == 3
    assert live.sleeps == draws(7, 1.0, 2.0)
    assert live.ended
    seen: list[object] = []

    async def consume() -> None:
        async for event in live.events():
            seen.append(event)

    with pytest.raises(ProviderUnavailable):
        await consume()
    assert seen == []  # no "reconnecting": it was never connected


async def test_an_unexpected_error_on_opening_is_a_typed_failure() -> None:
    live = Wired([Conn(open_error=KeyError("token=secret-123"))])
    with pytest.raises(LiveSessionError, match="the live session failed: KeyError") as caught:
        await live._start_connection()
    assert "secret-123" not in str(caught.value)  # no text unless the handle redacts it
    assert live.connects == 1


async def test_cancel_during_the_backoff_ends_the_session_at_once() -> None:
    live = Wired([Conn(messages=("a",), end="drop"), Conn()], block_sleep=True)
    await live._start_connection()
    await live.sleeping.wait()
    await live.cancel()
    result = await live.wait()
    assert result.session.status is SessionStatus.CANCELLED
    assert live.connects == 1  # never reconnected
    assert not live._connection_running


async def test_a_drop_after_cancel_ends_as_cancelled_without_reconnecting() -> None:
    class VendorCloses(Wired):
        async def _cancel(self) -> None:  # the vendor drops the connection on cancel
            self.release.set()

    live = VendorCloses([Conn(messages=("a",), end="drop_when_released"), Conn()])
    await live._start_connection()
    await live.cancel()
    result = await live.wait()
    assert result.session.status is SessionStatus.CANCELLED
    assert live.connects == 1
    assert live.sleeps == []


async def test_a_stream_that_may_not_be_reopened_fails_when_lost() -> None:
    class OnceOnly(Wired):
        _connection_name = "event stream"
        _reopens_after_drop = False
        _lost_hint = "results after the loss are lost"

    busy = ProviderUnavailable("503", provider="wired", retryable=True)
    live = OnceOnly([Conn(open_error=busy), Conn(messages=("a",), end="drop"), Conn()])
    await live._start_connection()  # a stream that never opened is still tried again
    with pytest.raises(LiveSessionError, match="event stream of live session w-1 was lost") as e:
        await live.wait()
    assert e.value.hint == "results after the loss are lost"
    assert live.connects == 2
    assert live.sleeps == draws(7, 1.0)


async def test_starting_twice_is_refused() -> None:
    live = Wired([Conn(end="hang")])
    await live._start_connection()
    with pytest.raises(LiveSessionError, match="opened once"):
        await live._start_connection()
    await live.cancel()


# -- the shared backoff ---------------------------------------------------------------------


def test_backoff_is_full_jitter_with_a_doubling_cap() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=3.0, rng=random.Random(42))
    waits = [policy.delay(n) for n in range(1, 6)]
    assert waits == draws(42, 0.5, 1.0, 2.0, 3.0, 3.0)
    assert policy.delay(3, retry_after=7.5) == 7.5  # the vendor's Retry-After, exactly
    assert policy.delay(10_000) <= 3.0  # no overflow far out
    assert RetryPolicy(backoff_base=0.0).delay(5) == 0.0
    assert policy.waits_for(None)
    assert policy.waits_for(60.0)
    assert not policy.waits_for(61.0)


# -- the result, built in one place ---------------------------------------------------------


async def test_a_read_back_replaces_what_arrived() -> None:
    vendor = Session(provider="wired", id="w-1", status=SessionStatus.COMPLETED, title="job")

    class ReadsBack(Wired):
        _reads_back = True
        view = ReadBack(session=vendor, summary=Summary(session_id="w-1", text="vendor's"))

        async def _read_back(self) -> ReadBack:
            return self.view

    live = ReadsBack([Conn(messages=("a",))])
    await live._start_connection()
    result = await live.wait()
    assert result.session is vendor
    assert [u.text for u in result.transcript.utterances] == ["a"]  # none read back: the finals
    assert result.summary is not None
    assert result.summary.text == "vendor's"
    # without the vendor's view a completed stream is still PROCESSING on the vendor's side
    fallback = ReadsBack([Conn()])
    fallback.view = ReadBack()
    await fallback._start_connection()
    assert (await fallback.wait()).session.status is SessionStatus.PROCESSING


async def test_vendor_events_are_joined_to_their_utterance_and_no_time_is_guessed() -> None:
    class Joined(Scripted):
        _joined_vendor_events = ("emotion",)
        _clock_timestamps = False

    live = Joined()
    live._emit(FinalUtterance(utterance=Utterance(id="u1", text="hi", start=0.0, end=1.5)))
    live._emit(VendorEvent(name="emotion", data={"utterance_id": "u1", "joy": 0.9}))
    live._emit(VendorEvent(name="other", data={"utterance_id": "u1"}))
    assert live.transcript.utterances[0].provider_data == {
        "emotion": {"utterance_id": "u1", "joy": 0.9}
    }
    live._emit(DoneEvent(session_id="live-1"))
    session = (await live.wait()).session
    assert (session.created_at, session.ended_at, session.duration) == (None, None, 1.5)
    assert live._vendor_events == {
        "emotion": ({"utterance_id": "u1", "joy": 0.9},),
        "other": ({"utterance_id": "u1"},),
    }


async def test_times_from_the_clock_are_marked_client_observed_until_the_vendor_gives_one() -> None:
    live = Scripted()
    assert live.created_at is not None
    live._emit(DoneEvent(session_id="live-1"))
    session = (await live.wait()).session
    assert session.created_at is not None
    assert session.ended_at is not None
    assert session.provider_data["client_observed"] == ["created_at", "ended_at"]
    given = Scripted()
    given.created_at = datetime(2026, 1, 1, tzinfo=UTC)  # the vendor's time
    given._emit(DoneEvent(session_id="live-1"))
    session = (await given.wait()).session
    assert session.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert session.provider_data["client_observed"] == ["ended_at"]
