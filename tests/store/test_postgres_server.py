"""The tests' PostgreSQL server (``tests/support/postgres.py`` and the fixtures in
``tests/conftest.py``): it answers, each test gets its own database, TCP logins need the
password, it cleans up after itself (also when the test process is killed), and the rule that
turns "no server" into a skip or, under ``CONVOPORT_REQUIRE_SERVICES=1``, a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.support import postgres
from tests.support.emulate import free_port
from tests.support.postgres import NO_SERVER, Plan, PostgresServer, plan, redact

ROOT = Path(__file__).resolve().parents[2]

# -- the skip / fail rule (a fake environment; nothing is skipped for real) ------------------------

FAKE_BIN = Path("/fake/postgresql/15/bin")
FAKE_URL = "postgresql://someone:s3cret-pw@db.example.invalid:5433/scratch"


def test_no_binaries_and_no_url_is_a_skip_with_the_documented_reason() -> None:
    chosen = plan({}, None)
    assert chosen.kind == "skip"
    assert chosen.reason == (
        "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin "
        "(set CONVOPORT_TEST_POSTGRES_URL to use a server)"
    )


def test_required_services_turn_the_skip_into_a_failure_with_the_same_reason() -> None:
    chosen = plan({"CONVOPORT_REQUIRE_SERVICES": "1"}, None)
    assert chosen == Plan("fail", reason=NO_SERVER)


@pytest.mark.parametrize("value", ["", "0", "no", "true"])
def test_only_the_value_1_requires_services(value: str) -> None:
    assert plan({"CONVOPORT_REQUIRE_SERVICES": value}, None).kind == "skip"


@pytest.mark.parametrize("require", [{}, {"CONVOPORT_REQUIRE_SERVICES": "1"}])
def test_binaries_mean_a_local_server(require: dict[str, str]) -> None:
    assert plan(require, FAKE_BIN) == Plan("local", bin_dir=FAKE_BIN)


@pytest.mark.parametrize("bin_dir", [None, FAKE_BIN])
def test_an_env_url_wins_over_binaries_and_the_requirement(bin_dir: Path | None) -> None:
    env = {"CONVOPORT_TEST_POSTGRES_URL": FAKE_URL, "CONVOPORT_REQUIRE_SERVICES": "1"}
    chosen = plan(env, bin_dir)
    assert chosen.kind == "external"
    assert chosen.url == FAKE_URL
    assert "s3cret-pw" not in repr(chosen)


def test_a_blank_env_url_counts_as_unset() -> None:
    assert plan({"CONVOPORT_TEST_POSTGRES_URL": "  "}, None).kind == "skip"


def test_find_bin_dir_takes_the_newest_version_with_the_server_binaries(tmp_path: Path) -> None:
    for version, tools in [("13", ["initdb", "postgres"]), ("16", ["initdb", "postgres"])]:
        (tmp_path / version / "bin").mkdir(parents=True)
        for tool in tools:
            (tmp_path / version / "bin" / tool).write_text("#!/bin/sh\n")
            (tmp_path / version / "bin" / tool).chmod(0o755)
    (tmp_path / "17" / "bin").mkdir(parents=True)  # a client-only install: no initdb
    assert postgres.find_bin_dir(f"{tmp_path}/*/bin") == tmp_path / "16" / "bin"
    assert postgres.find_bin_dir(f"{tmp_path}/nothing/*/bin") is None


def test_redact_hides_the_password_raw_and_url_quoted() -> None:
    assert redact("pw=a/b@c and a%2Fb%40c", "a/b@c") == "pw=*** and ***"
    assert redact("nothing to hide", "") == "nothing to hide"


def test_a_server_repr_masks_its_password() -> None:
    server = PostgresServer(admin_url=FAKE_URL, password="s3cret-pw", external=True)
    assert "s3cret-pw" not in repr(server)
    assert "***" in repr(server)
    assert server.url("other") == FAKE_URL.replace("/scratch", "/other")
    assert (server.host, server.port, server.user) == ("db.example.invalid", 5433, "someone")


# -- the server the fixtures give ------------------------------------------------------------------


def test_the_server_answers(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("select version(), current_database()").fetchone()
    assert row is not None
    version, database = row
    assert version.startswith("PostgreSQL ")
    assert database == urlsplit(postgres_url).path.lstrip("/")
    assert database.startswith("convoport_test_")


def test_the_url_has_the_documented_shape(
    postgres_url: str, postgres_server: PostgresServer
) -> None:
    if postgres_server.external:
        pytest.skip("the shape is the local server's; an env URL keeps its own")
    parts = urlsplit(postgres_url)
    assert parts.scheme == "postgresql"
    assert (parts.username, parts.hostname) == ("convoport", "127.0.0.1")
    assert parts.password == postgres_server.password
    assert parts.port == postgres_server.port


_SEEN: list[str] = []


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_gets_its_own_fresh_database(run: int, postgres_url: str) -> None:
    """Run 2 sees neither run 1's database (dropped) nor its table (never shared)."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        database = conn.execute("select current_database()").fetchone()
        assert database is not None
        assert database[0] not in _SEEN
        leftovers = conn.execute(
            "select datname from pg_database where datname = any(%s)", (_SEEN,)
        ).fetchall()
        assert leftovers == []
        conn.execute("create table marker (run int)")  # fails if a database were reused
        conn.execute("insert into marker values (%s)", (run,))
        _SEEN.append(database[0])


def test_the_role_owns_its_database_and_is_no_superuser(
    postgres_url: str, postgres_server: PostgresServer
) -> None:
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute(
            "select pg_get_userbyid(d.datdba), current_user, r.rolsuper"
            " from pg_database d, pg_roles r"
            " where d.datname = current_database() and r.rolname = current_user"
        ).fetchone()
    assert row is not None
    owner, user, superuser = row
    assert owner == user == postgres_server.user
    if not postgres_server.external:
        assert user == "convoport"
        assert superuser is False


def test_the_password_logs_in_over_tcp(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("select inet_server_addr()::text, inet_server_port()").fetchone()
    assert row is not None
    assert row[0] is not None  # a TCP connection (NULL over a Unix socket)


def _with_password(url: str, password: str | None) -> str:
    parts = urlsplit(url)
    user = parts.username or ""
    credentials = user if password is None else f"{user}:{password}"
    netloc = f"{credentials}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.mark.parametrize("password", ["wrong-password", None], ids=["wrong", "missing"])
def test_a_wrong_or_missing_password_is_refused(
    password: str | None, postgres_url: str, postgres_server: PostgresServer
) -> None:
    if postgres_server.external:
        pytest.skip("an env URL's server has its own authentication rules")
    with pytest.raises(psycopg.OperationalError) as refused:
        # PGPASSWORD / ~/.pgpass must not fill in the password behind the test's back
        psycopg.connect(_with_password(postgres_url, password), passfile=os.devnull).close()
    message = str(refused.value)
    assert "password" in message
    assert postgres_server.password not in message


# -- cleanup ---------------------------------------------------------------------------------------


@pytest.fixture
def bin_dir() -> Path:
    """The binaries, for the tests that start servers of their own (same skip/fail rule)."""
    chosen = plan(os.environ, postgres.find_bin_dir())
    if chosen.kind == "fail":
        pytest.fail(chosen.reason)
    if chosen.kind != "local" or chosen.bin_dir is None:
        pytest.skip(f"starts a local server: needs the binaries ({chosen.reason or 'env URL set'})")
    return chosen.bin_dir


def test_a_local_server_is_stopped_and_its_folder_removed(bin_dir: Path) -> None:
    with postgres.local_server(bin_dir) as server:
        assert server.folder is not None
        assert (server.folder / "data" / "PG_VERSION").is_file()
        log = (server.folder / "server.log").read_text(errors="replace")
        assert server.password not in log
    assert not server.folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.admin_url, connect_timeout=5).close()


_HOLD_A_SERVER = """
import sys, time
from tests.support import postgres
from tests.support.emulate import free_port
with postgres.local_server(postgres.find_bin_dir()) as server:
    print(server.folder, server.port, flush=True)
    time.sleep(600)
"""


def test_a_killed_test_process_leaves_no_server_behind(bin_dir: Path) -> None:
    """The guard process stops the server and removes its folder once its owner is SIGKILLed."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD_A_SERVER], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        folder_text, port_text = child.stdout.readline().split()
    finally:
        child.kill()
        child.wait()
    folder = Path(folder_text)
    deadline = time.monotonic() + postgres.START_TIMEOUT
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not folder.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=int(port_text), connect_timeout=5).close()


def test_an_env_url_that_does_not_answer_fails_without_its_password() -> None:
    url = f"postgresql+psycopg://someone:s3cret-pw@127.0.0.1:{free_port()}/scratch"
    with pytest.raises(postgres.PostgresUnavailable) as refused:
        postgres.external_server(url)
    message = str(refused.value)
    assert "CONVOPORT_TEST_POSTGRES_URL" in message
    assert "does not answer" in message
    assert "s3cret-pw" not in message


def test_an_env_url_must_be_a_postgresql_one() -> None:
    with pytest.raises(postgres.PostgresUnavailable, match="postgresql://"):
        postgres.external_server("mysql://someone:s3cret-pw@127.0.0.1/scratch")
