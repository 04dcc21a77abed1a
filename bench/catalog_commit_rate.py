"""The catalog's commit rate, in sessions per second, on SQLite and on PostgreSQL.

    python bench/catalog_commit_rate.py [--sessions 2000] [--rounds 3] [--writers 8]

Each round commits ``--sessions`` sessions (a neutral session, a transcript of 20 utterances,
a summary, two participants, two chat messages and one recording row: what a migrated Gladia
job holds) through :class:`convoport.store.catalog.Catalog.commit`, each in its own
transaction with its ledger row, into a fresh catalog:

* SQLite (the ``local:`` archive's catalog, WAL, ``synchronous=NORMAL``), one writer (SQLite
  admits one);
* PostgreSQL (a throwaway server from ``tests/support/postgres.py``: on this machine its data
  lives in memory with ``fsync`` off, so this is the catalog's CPU and round-trip cost, not a
  disk's), one writer, then ``--writers`` threads committing at once (what the workers of a
  distributed migration do).

Rounds are interleaved; medians are printed, the commit rate of each, and last the ratio of
PostgreSQL with ``--writers`` writers to SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests.support.postgres

from convoport.adapters.local.store import open_catalog as open_sqlite  # noqa: E402
from convoport.adapters.postgresql.database import DatabaseURL  # noqa: E402
from convoport.adapters.postgresql.database import open_catalog as open_postgres  # noqa: E402
from convoport.archive import SessionBundle, StoredMedia  # noqa: E402
from convoport.model import (  # noqa: E402
    ChatMessage,
    Participant,
    Recording,
    Session,
    SessionStatus,
    Summary,
    Transcript,
    Utterance,
)
from convoport.store.catalog import Catalog  # noqa: E402
from convoport.store.media import media_path  # noqa: E402

BASE = datetime(2026, 1, 1, tzinfo=UTC)


def bundle(i: int, run: str) -> SessionBundle:
    sid = f"{run}-{i:07d}"
    session = Session(
        provider="gladia",
        id=sid,
        status=SessionStatus.COMPLETED,
        created_at=BASE + timedelta(seconds=i),
        title=f"call {i}",
        metadata={"team": f"t{i % 7}", "n": i},
        provider_data={"id": sid, "status": "done"},
    )
    recording = Recording(id="audio", session_id=sid, media_type="audio/wav", size=160_000)
    return SessionBundle(
        source=session.ref,
        session=session,
        transcripts=(
            Transcript(
                session_id=sid,
                language="en",
                engine="gladia",
                utterances=tuple(
                    Utterance(text=f"utterance {u} of call {i}", start=u, end=u + 0.9)
                    for u in range(20)
                ),
            ),
        ),
        summary=Summary(session_id=sid, text="They talked."),
        participants=(
            Participant(id="p1", session_id=sid, display_name="Ada"),
            Participant(id="p2", session_id=sid, display_name="Bob"),
        ),
        chat=(
            ChatMessage(id="m1", session_id=sid, text="hi"),
            ChatMessage(id="m2", session_id=sid, text="bye"),
        ),
        media=(
            StoredMedia(
                recording=recording,
                path=media_path(session.ref, "audio"),
                size=160_000,
                sha256="0" * 64,
            ),
        ),
        provider_data={"id": sid},
    )


def commit_all(catalog: Catalog, bundles: list[SessionBundle], writers: int) -> float:
    """Seconds to commit every bundle with ``writers`` threads."""
    started = time.perf_counter()
    if writers == 1:
        for item in bundles:
            catalog.commit(item)
    else:
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(catalog.commit, bundles))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()

    import os

    from tests.support import postgres

    chosen = postgres.plan(os.environ, postgres.find_bin_dir())
    if chosen.kind not in ("local", "external"):
        sys.exit(f"no PostgreSQL server: {chosen.reason}")
    times: dict[str, list[float]] = {"sqlite": [], "postgresql x1": [], "postgresql xN": []}
    with postgres.server(chosen) as server:
        for round_ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                catalog = open_sqlite(Path(tmp) / "archive", create=True)
                items = [bundle(i, f"s{round_}") for i in range(args.sessions)]
                times["sqlite"].append(commit_all(catalog, items, 1))
                catalog.close()
            for key, writers in (("postgresql x1", 1), ("postgresql xN", args.writers)):
                with postgres.fresh_database(server) as url:
                    catalog = open_postgres(
                        DatabaseURL.parse(url),
                        create=True,
                        pool_size=max(writers, 2),
                        connect_timeout=10,
                        redact=lambda text: text,
                    )
                    items = [bundle(i, f"p{round_}{writers}") for i in range(args.sessions)]
                    times[key].append(commit_all(catalog, items, writers))
                    catalog.close()
            print(
                f"round {round_ + 1}: "
                + ", ".join(f"{k} {args.sessions / v[-1]:,.0f}/s" for k, v in times.items()),
                flush=True,
            )
    rates = {k: args.sessions / statistics.median(v) for k, v in times.items()}
    print(f"sessions committed per second (medians of {args.rounds} rounds):")
    print(f"  SQLite, 1 writer:                 {rates['sqlite']:8,.0f}")
    print(f"  PostgreSQL, 1 writer:             {rates['postgresql x1']:8,.0f}")
    print(f"  PostgreSQL, {args.writers} writers:            {rates['postgresql xN']:8,.0f}")
    print(
        f"ratio PostgreSQL x{args.writers} / SQLite: {rates['postgresql xN'] / rates['sqlite']:.2f}"
    )


if __name__ == "__main__":
    main()
