"""What only the PostgreSQL archive does: several writers (claims, leases, SKIP LOCKED, the
fenced commit), the password kept out of every text, the URL, and the guarantees of ``local:``
(one transaction per session, a killed run resuming to the same archive, verify)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import psycopg
import pytest
import sqlalchemy as sa

import convoport
from convoport import ArchiveError, ConfigError
from convoport.adapters.postgresql.adapter import PostgresAdapter
from convoport.adapters.postgresql.database import DatabaseURL
from convoport.archive import ClaimLost
from convoport.migration import migrate
from convoport.model import SessionRef

from ..local._helpers import achunks, archive_session, make_bundle, make_recording, make_session

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[3]


def _password(url: str) -> str:
    password = sa.make_url(url).password
    assert password
    return str(password)


async def _connect(url: str, media: Path, **options: Any) -> convoport.AsyncClient:
    return convoport.connect(url, media_root=str(media), create=True, **options)


# -- the URL and the password ------------------------------------------------------------------


def test_the_url_never_prints_its_password(postgres_url: str) -> None:
    password = _password(postgres_url)
    client = convoport.connect(postgres_url)
    assert password not in repr(client)
    assert password not in repr(client.adapter)
    assert password not in repr(client.adapter.config)
    assert password not in str(client.adapter.config.url)
    assert "***" in str(client.adapter.config.url)
    assert DatabaseURL.parse(postgres_url) == client.adapter.config.url


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("postgresql:", "URL"),
        ("postgresql://user@host", "no database"),
    ],
)
def test_a_bad_url_is_a_config_error(url: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        convoport.connect(url)


async def test_a_wrong_password_is_refused_without_showing_it(
    postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "not-the-password-42"
    url = sa.make_url(postgres_url).set(password=wrong).render_as_string(hide_password=False)
    caplog.set_level(logging.DEBUG)
    async with convoport.connect(url, media_root=str(tmp_path)) as client:
        with pytest.raises(ArchiveError) as info:
            await client.get_session("gladia:x")
    text = str(info.value) + repr(info.value) + caplog.text
    assert wrong not in text
    assert "password" in str(info.value)
    assert "***" in str(info.value)


async def test_a_server_that_is_not_there(tmp_path: Path) -> None:
    url = "postgresql://someone:s3cr3t-pw@127.0.0.1:9/db"  # the discard port: refused
    async with convoport.connect(url, media_root=str(tmp_path), connect_timeout=2) as client:
        with pytest.raises(ArchiveError) as info:
            await client.get_session("gladia:x")
    assert "s3cr3t-pw" not in str(info.value)
    assert "running" in (info.value.hint or "")


async def test_no_archive_without_create(postgres_url: str) -> None:
    async with convoport.connect(postgres_url) as client:
        with pytest.raises(ConfigError, match="no convoport catalog"):
            await client.get_session("gladia:x")


async def test_a_new_archive_needs_a_media_location_once(postgres_url: str, tmp_path: Path) -> None:
    async with convoport.connect(postgres_url, create=True) as client:
        with pytest.raises(ConfigError, match="media location") as info:
            await client.get_session("gladia:x")
    assert "--media" in (info.value.hint or "")
    async with convoport.connect(postgres_url, media_root=str(tmp_path), create=True) as client:
        assert isinstance(client.adapter, PostgresAdapter)
        await archive_session(client.adapter, make_session("a"), {"r": b"x" * 1000})
    async with convoport.connect(postgres_url) as client:  # remembered
        report = await client.adapter.verify()  # type: ignore[attr-defined]
        assert report.ok
        assert report.checked == 1


# -- claims ------------------------------------------------------------------------------------


async def test_a_claimed_session_is_held_for_another_writer(
    postgres_url: str, tmp_path: Path
) -> None:
    async with (
        await _connect(postgres_url, tmp_path) as one,
        await _connect(postgres_url, tmp_path) as two,
    ):
        a, b = one.adapter, two.adapter
        assert isinstance(a, PostgresAdapter)
        assert isinstance(b, PostgresAdapter)
        assert a.multi_writer
        ref = SessionRef(provider="gladia", id="abc")
        assert (await a._claim(ref)).state == "claimed"
        assert (await a._claim(ref)).state == "claimed"  # its own: idempotent
        held = await b._claim(ref)
        assert held.state == "held"
        assert held.holder == a.holder
        assert held.wait is not None
        assert 0 < held.wait <= a.claim_lease
        await archive_session(a, make_session("abc"))  # the commit ends the claim
        assert await a.ex_claims() == []
        assert (await b._claim(ref)).state == "done"


async def test_a_lapsed_claim_is_taken_over_and_the_late_commit_refused(
    postgres_url: str, tmp_path: Path
) -> None:
    async with (
        await _connect(postgres_url, tmp_path, claim_lease=0.3) as one,
        await _connect(postgres_url, tmp_path) as two,
    ):
        a, b = one.adapter, two.adapter
        assert isinstance(a, PostgresAdapter)
        assert isinstance(b, PostgresAdapter)
        session = make_session("abc")
        assert (await a._claim(session.ref)).state == "claimed"
        renewer = a._renewer
        assert renewer is not None
        renewer.cancel()  # as if its writer froze: the claim is no longer renewed
        await asyncio.sleep(0.5)
        assert (await b._claim(session.ref)).state == "claimed"
        with pytest.raises(ClaimLost, match="lapsed"):
            await a._commit_session(make_bundle(session))
        with pytest.raises(convoport.NotFound):
            await one.get_session(str(session.ref))  # nothing was written
        await archive_session(b, session)
        assert (await two.get_session(str(session.ref))).id == "abc"


async def test_a_holder_renews_its_claim_while_it_copies(postgres_url: str, tmp_path: Path) -> None:
    async with (
        await _connect(postgres_url, tmp_path, claim_lease=0.6) as one,
        await _connect(postgres_url, tmp_path) as two,
    ):
        a, b = one.adapter, two.adapter
        assert isinstance(a, PostgresAdapter)
        assert isinstance(b, PostgresAdapter)
        session = make_session("slow")
        assert (await a._claim(session.ref)).state == "claimed"
        await asyncio.sleep(1.5)  # more than two leases: renewed every 0.2 s
        assert (await b._claim(session.ref)).state == "held"
        await archive_session(a, session)
        assert await a.ex_claims() == []


async def test_a_row_being_decided_is_skipped_not_waited_for(
    postgres_url: str, tmp_path: Path
) -> None:
    async with await _connect(postgres_url, tmp_path) as one:
        a = one.adapter
        assert isinstance(a, PostgresAdapter)
        await a._stores()
        conninfo = sa.make_url(postgres_url).set(drivername="postgresql")
        with psycopg.connect(conninfo.render_as_string(hide_password=False)) as raw:
            raw.execute(
                "INSERT INTO claims (source, holder, expires_at) VALUES ('gladia:x', 'other', 0)"
            )
            raw.commit()
            raw.execute("SELECT * FROM claims WHERE source = 'gladia:x' FOR UPDATE")
            # another transaction holds the row lock: SKIP LOCKED answers at once
            claim = await asyncio.wait_for(a._claim(SessionRef.parse("gladia:x")), timeout=5)
            assert claim.state == "held"
            assert claim.wait is None
            raw.rollback()
        assert (await a._claim(SessionRef.parse("gladia:x"))).state == "claimed"


async def test_a_failure_ends_the_claim(postgres_url: str, tmp_path: Path) -> None:
    async with await _connect(postgres_url, tmp_path) as one:
        a = one.adapter
        assert isinstance(a, PostgresAdapter)
        ref = SessionRef.parse("gladia:bad")
        assert (await a._claim(ref)).state == "claimed"
        stored = await a._store_media(ref, make_recording("bad"), achunks(b"abc"))
        assert stored.size == 3
        await a._record_failure(ref, "it broke")
        assert await a.ex_claims() == []
        assert [(str(e.source), e.state) for e in await a.ex_ledger()] == [("gladia:bad", "failed")]
        assert (await a.verify()).ok  # the failed attempt's media were removed


async def test_a_refused_commit_keeps_the_claim_for_its_failure(
    postgres_url: str, tmp_path: Path
) -> None:
    """A commit refused for its media (nothing written) leaves the session claimed, and the
    failure the migration then records releases the claim."""
    async with await _connect(postgres_url, tmp_path) as one:
        a = one.adapter
        assert isinstance(a, PostgresAdapter)
        session = make_session("short")
        assert (await a._claim(session.ref)).state == "claimed"
        stored = await a._store_media(session.ref, make_recording("short"), achunks(b"abc"))
        claimed_size = attrs.evolve(stored, size=10)  # the file holds 3 bytes
        with pytest.raises(ArchiveError, match="is 3 bytes, expected 10"):
            await a._commit_session(make_bundle(session, (claimed_size,)))
        assert [source for source, _, _ in await a.ex_claims()] == ["gladia:short"]
        await a._record_failure(session.ref, "media refused")
        assert await a.ex_claims() == []
        assert [(str(e.source), e.state) for e in await a.ex_ledger()] == [
            ("gladia:short", "failed")
        ]


async def test_closing_releases_the_claims(postgres_url: str, tmp_path: Path) -> None:
    async with await _connect(postgres_url, tmp_path) as one:
        a = one.adapter
        assert isinstance(a, PostgresAdapter)
        assert (await a._claim(SessionRef.parse("gladia:x"))).state == "claimed"
    async with await _connect(postgres_url, tmp_path) as two:
        assert await two.adapter.ex_claims() == []  # type: ignore[attr-defined]


# -- several migrations at once ----------------------------------------------------------------


async def test_two_migrations_at_once_copy_every_session_once(
    postgres_url: str, tmp_path: Path
) -> None:
    async with (
        await _connect(postgres_url, tmp_path) as one,
        await _connect(postgres_url, tmp_path) as two,
    ):
        first, second = await asyncio.gather(
            migrate("gladia", one, sandbox=True, concurrency=4),
            migrate("gladia", two, sandbox=True, concurrency=4),
        )
        assert first.failed == second.failed == 0
        finished = [
            o.ref for o in first.outcomes if o.reason is None or "not finished" not in o.reason
        ]
        copied = [o.ref for o in (*first.outcomes, *second.outcomes) if o.state == "copied"]
        assert len(copied) == len(set(copied)) == len(finished)
        ledger = await one.adapter.ex_ledger()  # type: ignore[attr-defined]
        assert len(ledger) == len(finished)
        assert {e.attempts for e in ledger} == {1}
        assert (await one.adapter.verify()).ok  # type: ignore[attr-defined]
        assert await one.adapter.ex_claims() == []  # type: ignore[attr-defined]


# -- a killed run ------------------------------------------------------------------------------


def _child(url: str, media: Path, *kill: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests._migration_child", url, *kill],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CHILD_MEDIA_ROOT": str(media)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


async def _snapshot(url: str) -> dict[str, Any]:
    async with convoport.connect(url) as archive:
        result: dict[str, Any] = {}
        async for session in archive.list_sessions(page_size=7):
            ref = str(session.ref)
            assert ref not in result, f"{ref} listed twice"
            transcripts = await archive.adapter.list_transcripts(ref)  # type: ignore[attr-defined]
            rows = await archive.adapter._rows(ref)  # type: ignore[attr-defined]
            result[ref] = (session, transcripts, [(r.recording.id, r.size, r.sha256) for r in rows])
        return result


@pytest.mark.parametrize("kill", [("sessions", "3"), ("bytes", "300000"), ("commit", "4")])
async def test_a_killed_migration_resumes_with_nothing_lost_or_doubled(
    postgres_url: str, tmp_path: Path, kill: tuple[str, str]
) -> None:
    media = tmp_path / "media"
    killed = await asyncio.to_thread(_child, postgres_url, media, *kill)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    resumed = await asyncio.to_thread(_child, postgres_url, media)
    assert resumed.returncode == 0, resumed.stderr
    reference = tmp_path / "reference"
    whole = await migrate("gladia", f"local:{reference}", sandbox=True)
    assert whole.failed == 0
    got = await _snapshot(postgres_url)
    assert got == await _snapshot(f"local:{reference}")
    async with convoport.connect(postgres_url) as archive:
        report = await archive.adapter.verify()  # type: ignore[attr-defined]
        assert report.ok, report
        assert await archive.adapter.ex_claims() == []  # type: ignore[attr-defined]


async def test_a_claim_of_a_dead_process_of_this_machine_is_taken_over_at_once(
    postgres_url: str, tmp_path: Path
) -> None:
    import socket

    async with await _connect(postgres_url, tmp_path) as one:
        a = one.adapter
        assert isinstance(a, PostgresAdapter)
        dead = subprocess.run(  # noqa: ASYNC221 (a process that ends at once)
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        ghost = f"{socket.gethostname()}:{dead.stdout.strip()}:gone"
        await a._db(lambda c: c.claim("gladia:x", ghost, 3600))
        alive = f"{socket.gethostname()}:{os.getpid()}:other"
        await a._db(lambda c: c.claim("gladia:y", alive, 3600))
        assert (await a._claim(SessionRef.parse("gladia:x"))).state == "claimed"
        assert (await a._claim(SessionRef.parse("gladia:y"))).state == "held"
