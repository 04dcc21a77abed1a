"""A throwaway PostgreSQL server for the tests, and a fresh database per test.

Where the server comes from (:func:`plan`, a pure decision over the environment):

- ``CONVOPORT_TEST_POSTGRES_URL`` set: that server is used as it is (nothing is started). The
  URL's role must be allowed to ``CREATE DATABASE``; the databases it creates are its own and
  are dropped after each test.
- otherwise, server binaries under ``/usr/lib/postgresql/*/bin`` (the newest version wins):
  :func:`local_server` runs ``initdb`` and ``postgres`` in a fresh temporary folder, on a free
  port of 127.0.0.1, and removes everything when it stops.
- neither: the tests that need a server are skipped with :data:`NO_SERVER`, or failed with it
  when ``CONVOPORT_REQUIRE_SERVICES=1`` (CI sets it on machines that have the binaries, so a
  skip cannot hide a broken setup there).

The local server:

- runs as the current user, or as the user ``postgres`` when the tests run as root (``initdb``
  refuses root); its folder is then owned by that user, and placed under a parent that user can
  traverse: ``CONVOPORT_TEST_SERVICES_TMPDIR`` if set (``.ci/run`` makes one), else
  ``/dev/shm`` when it has 1 GiB free (memory is five to ten times faster for ``CREATE DATABASE``
  than a disk, and the data is thrown away), else the system temporary folder, else ``/tmp``;
- listens on 127.0.0.1 only, with its Unix socket inside its own folder; durability is off
  (``fsync``, ``synchronous_commit``, ``full_page_writes``: a crash loses the data, which is
  thrown away anyway), ``max_connections=200``; statements are never written to its log (so a
  password in ``CREATE ROLE`` cannot reach the log tail quoted in an error);
- authenticates TCP clients by password (``scram-sha-256``): the role ``convoport`` has a
  password generated per session (:attr:`PostgresServer.password`), may create databases and
  owns the ones it creates, and is not a superuser. The superuser ``postgres`` only logs in
  over the private Unix socket (trust), used once to create the role;
- is stopped and its folder removed when :func:`local_server` exits. A guard process
  (:data:`_GUARD`) does the same if the test process dies without cleaning up (killed,
  ``SIGKILL``): it waits for the end of a pipe only the test process holds.

Waits are bounded: :data:`START_TIMEOUT` seconds for the server to accept connections (and for
it to stop); a server that exits or never answers fails with :class:`PostgresUnavailable` and
the end of its log.

Secrets: :class:`PostgresServer`'s repr and every error here show URLs with the password
replaced by ``***``.

``python -m tests.support.postgres`` prints how long a start (``initdb`` + start + role) and a
``CREATE DATABASE`` take on this machine (medians, seconds), in ``/dev/shm`` and in ``/tmp``
(interleaved), and the ratio of the two ``CREATE DATABASE`` medians as its last line.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from tests.support.emulate import free_port

#: The environment variable naming an existing server to use instead of starting one.
ENV_URL = "CONVOPORT_TEST_POSTGRES_URL"
#: ``1`` turns "no server available" from a skip into a failure.
ENV_REQUIRE = "CONVOPORT_REQUIRE_SERVICES"
#: The parent folder for the servers' temporary folders (must be traversable by the server user).
ENV_TMPDIR = "CONVOPORT_TEST_SERVICES_TMPDIR"
#: Where the server binaries are looked for (one folder per major version).
BIN_GLOB = "/usr/lib/postgresql/*/bin"
#: The skip (or failure) reason when no server can be had.
NO_SERVER = (
    f"no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (set {ENV_URL} to use a server)"
)
#: The role the tests connect as, over TCP with a password.
ROLE = "convoport"
#: The OS user the server runs as when the tests run as root.
SERVER_USER = "postgres"
#: The bootstrap superuser (Unix socket only, trust).
SUPERUSER = "postgres"
HOST = "127.0.0.1"
#: The longest wait, in seconds, for the server to accept connections, and for it to stop.
START_TIMEOUT = 60.0
#: The pause between two connection attempts, in seconds.
POLL_INTERVAL = 0.05
#: Server settings passed as ``-c name=value`` (besides port and socket folder).
SETTINGS: Mapping[str, str] = {
    "listen_addresses": HOST,
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    # statements (a CREATE ROLE ... PASSWORD among them) never reach the log
    "log_min_error_statement": "panic",
    "log_statement": "none",
}
#: How many lines of the server log an error quotes.
LOG_TAIL_LINES = 30
#: A memory-backed folder preferred for the server's data: ``CREATE DATABASE`` there took a fifth
#: to a tenth of the time it took on the ext4 ``/tmp`` of the 2-core dev machine (medians 0.04 s
#: against 0.22 to 0.36 s, ``python -m tests.support.postgres``).
MEMORY_FOLDER = Path("/dev/shm")
#: The free space, in bytes, :data:`MEMORY_FOLDER` needs to be used (a container's default 64 MiB
#: ``/dev/shm`` is too small: the data folder alone is about 40 MB, each database about 8 MB more).
MEMORY_FOLDER_MIN_FREE = 1 << 30
#: Unix socket paths are limited to 107 bytes; the socket file name adds ``/.s.PGSQL.NNNNN``.
_SOCKET_DIR_MAX = 90


class PostgresUnavailable(RuntimeError):
    """The server could not be started, reached or stopped; the message says why."""


@dataclass(frozen=True)
class Plan:
    """Where the tests' server comes from.

    ``kind`` is ``external`` (use ``url``), ``local`` (start one from ``bin_dir``), ``skip`` or
    ``fail`` (with ``reason``). ``url`` carries a password: it is left out of the repr.
    """

    kind: Literal["external", "local", "skip", "fail"]
    reason: str = ""
    url: str = field(default="", repr=False)
    bin_dir: Path | None = None


def find_bin_dir(pattern: str = BIN_GLOB) -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and postgres, or None."""
    found: list[tuple[tuple[int, ...], Path]] = []
    for candidate in Path("/").glob(pattern.lstrip("/")):
        if all(os.access(candidate / tool, os.X_OK) for tool in ("initdb", "postgres")):
            version = tuple(int(part) for part in re.findall(r"\d+", candidate.parent.name))
            found.append((version, candidate))
    return max(found)[1] if found else None


def plan(env: Mapping[str, str], bin_dir: Path | None) -> Plan:
    """What to do for the tests' server, given the environment and the binaries found.

    An env URL wins over local binaries; with neither, ``CONVOPORT_REQUIRE_SERVICES=1`` (exactly
    ``1``) makes it a failure, anything else a skip. Pure: reads nothing but its arguments.
    """
    url = env.get(ENV_URL, "").strip()
    if url:
        return Plan("external", url=url)
    if bin_dir is not None:
        return Plan("local", bin_dir=bin_dir)
    if env.get(ENV_REQUIRE, "").strip() == "1":
        return Plan("fail", reason=NO_SERVER)
    return Plan("skip", reason=NO_SERVER)


def redact(text: str, password: str) -> str:
    """``text`` with ``password`` (raw and URL-quoted) replaced by ``***``."""
    for secret in {password, quote(password, safe="")}:
        if secret:
            text = text.replace(secret, "***")
    return text


def _normalise(url: str) -> str:
    """A URL psycopg accepts: ``postgresql+driver://`` and ``postgres://`` become ``postgresql://``."""
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise PostgresUnavailable(
            f"{ENV_URL} must be a postgresql:// URL, not {parts.scheme or 'no scheme'}://"
        )
    return urlunsplit(parts._replace(scheme="postgresql"))


@dataclass(frozen=True)
class PostgresServer:
    """A server the tests may create databases on.

    ``admin_url`` connects (to its ``postgres`` database, or the env URL's own) as a role that
    may ``CREATE DATABASE``; :meth:`url` is the same role on another database. ``password`` is
    that role's password ("" when the env URL has none). ``folder`` is a local server's
    temporary folder (data, socket, log; gone once it stops), None for an external one. The repr
    masks the password.
    """

    admin_url: str = field(repr=False)
    password: str = field(repr=False)
    external: bool
    folder: Path | None = None

    def url(self, database: str) -> str:
        """``admin_url`` with ``database`` as its database (path)."""
        return urlunsplit(urlsplit(self.admin_url)._replace(path="/" + quote(database)))

    @property
    def host(self) -> str:
        return urlsplit(self.admin_url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.admin_url).port or 5432

    @property
    def user(self) -> str:
        return unquote(urlsplit(self.admin_url).username or "")

    def __repr__(self) -> str:
        where = "external" if self.external else "local"
        return f"PostgresServer({where}, {redact(self.admin_url, self.password)!r})"


# -- the guard: cleans up when the test process dies without doing so ------------------------------

_GUARD = r"""
import os, shutil, signal, sys, time
folder, timeout = sys.argv[1], float(sys.argv[2])
signal.signal(signal.SIGINT, signal.SIG_IGN)
sys.stdin.buffer.read()  # returns at end of file: the test process closed the pipe, or died


def alive(pid):
    # a zombie (exited, not yet reaped by its new parent) counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


pidfile = os.path.join(folder, "data", "postmaster.pid")
try:
    with open(pidfile) as f:
        pid = int(f.readline())
except (OSError, ValueError):
    pid = 0
if pid > 0 and alive(pid):
    try:
        os.kill(pid, signal.SIGQUIT)  # immediate shutdown
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
shutil.rmtree(folder, ignore_errors=True)
"""


@contextmanager
def _guard(folder: Path) -> Iterator[None]:
    """A process that stops the server in ``folder`` and removes it once this process is gone."""
    guard = subprocess.Popen(
        [sys.executable, "-c", _GUARD, str(folder), str(START_TIMEOUT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal does not reach it
    )
    try:
        yield
    finally:
        assert guard.stdin is not None
        guard.stdin.close()
        guard.wait(timeout=START_TIMEOUT)


# -- the local server ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Account:
    """The OS account the server runs as; ``switch`` when it differs from the current one."""

    uid: int
    gid: int
    switch: bool

    # Popen's user=, group=, extra_groups=: None keeps the current ones
    @property
    def user(self) -> int | None:
        return self.uid if self.switch else None

    @property
    def group(self) -> int | None:
        return self.gid if self.switch else None

    @property
    def extra_groups(self) -> list[int] | None:
        return [] if self.switch else None


def _account() -> _Account:
    if os.geteuid() != 0:
        return _Account(os.geteuid(), os.getegid(), switch=False)
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"the tests run as root and there is no user {SERVER_USER!r} to run the PostgreSQL "
            f"server as (initdb refuses root): create it, run the tests as another user, or set "
            f"{ENV_URL}"
        ) from None
    return _Account(entry.pw_uid, entry.pw_gid, switch=True)


def _traversable(path: Path, account: _Account) -> bool:
    """Whether ``account`` may enter ``path`` and every folder above it (mode bits only)."""
    groups = set(os.getgrouplist(pwd.getpwuid(account.uid).pw_name, account.gid))
    for folder in [path, *path.parents]:
        try:
            st = folder.stat()
        except OSError:
            return False
        if st.st_uid == account.uid:
            bit = 0o100
        elif st.st_gid in groups:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return False
    return True


def _roomy_memory_folder(path: Path = MEMORY_FOLDER) -> bool:
    """Whether ``path`` is a writable folder with at least :data:`MEMORY_FOLDER_MIN_FREE` free."""
    try:
        st = os.statvfs(path)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK) and st.f_bavail * st.f_frsize >= (
        MEMORY_FOLDER_MIN_FREE
    )


def parent_folder(env: Mapping[str, str]) -> Path:
    """Where a local server's temporary folder goes (see the module docstring).

    ``CONVOPORT_TEST_SERVICES_TMPDIR`` when set (an error if the server's user cannot use it);
    else :data:`MEMORY_FOLDER` when roomy, the system temporary folder or ``/tmp``, the first
    one the server's user can traverse and whose socket path fits.
    """
    account = _account()
    explicit = env.get(ENV_TMPDIR, "").strip()
    if explicit:
        candidates = [explicit]
    else:
        memory = [str(MEMORY_FOLDER)] if _roomy_memory_folder() else []
        candidates = [*memory, tempfile.gettempdir(), "/tmp"]
    for candidate in candidates:
        path = Path(candidate).resolve()
        if len(str(path)) > _SOCKET_DIR_MAX - 40:
            continue  # the socket path inside it would be too long
        if path.is_dir() and (not account.switch or _traversable(path, account)):
            return path
    raise PostgresUnavailable(
        f"no temporary folder the PostgreSQL server's user (uid {account.uid}) can use among "
        f"{', '.join(candidates)}: set {ENV_TMPDIR} to an existing folder, with a short path, "
        f"that this user can enter (e.g. a folder under /tmp it owns)"
    )


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C", LANG="C", TZ="UTC")
    return env


def _tail(log: Path) -> str:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no server log)"
    return "\n".join(lines[-LOG_TAIL_LINES:]) or "(empty server log)"


def _initdb(bin_dir: Path, data: Path, account: _Account, log: Path) -> None:
    with log.open("ab") as out:
        done = subprocess.run(
            [
                str(bin_dir / "initdb"),
                "--pgdata",
                str(data),
                "--username",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_server_env(),
            timeout=START_TIMEOUT,
            check=False,
            user=account.user,
            group=account.group,
            extra_groups=account.extra_groups,
        )
    if done.returncode != 0:
        raise PostgresUnavailable(f"initdb exited with {done.returncode} in {data}:\n{_tail(log)}")


def _wait_until_ready(
    proc: subprocess.Popen[bytes], socket_dir: Path, port: int, log: Path
) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise PostgresUnavailable(
                f"the PostgreSQL server exited with {proc.returncode} before accepting "
                f"connections (port {port}):\n{_tail(log)}"
            )
        try:
            with psycopg.connect(
                host=str(socket_dir),
                port=port,
                user=SUPERUSER,
                dbname="postgres",
                connect_timeout=2,
            ):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise PostgresUnavailable(
                    f"the PostgreSQL server did not accept connections within "
                    f"{START_TIMEOUT:g} s (port {port}):\n{_tail(log)}"
                ) from None
            time.sleep(POLL_INTERVAL)


def _create_role(socket_dir: Path, port: int, password: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=str(socket_dir), port=port, user=SUPERUSER, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD {}").format(
                sql.Identifier(ROLE), sql.Literal(password)
            )
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Fast shutdown (SIGINT), then SIGQUIT (immediate), then SIGKILL; bounded waits."""
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=START_TIMEOUT / 3)
        except subprocess.TimeoutExpired:
            continue
        return


@contextmanager
def local_server(bin_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[PostgresServer]:
    """A fresh server from ``bin_dir``'s binaries, stopped and removed on the way out."""
    env = os.environ if env is None else env
    account = _account()
    folder = Path(tempfile.mkdtemp(prefix="convoport-pg-", dir=parent_folder(env)))
    try:
        if account.switch:
            os.chown(folder, account.uid, account.gid)
        with _guard(folder):
            yield from _serve(bin_dir, folder, account)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _serve(bin_dir: Path, folder: Path, account: _Account) -> Iterator[PostgresServer]:
    data, socket_dir, log = folder / "data", folder / "socket", folder / "server.log"
    log.touch()
    socket_dir.mkdir()
    if account.switch:
        os.chown(log, account.uid, account.gid)
        os.chown(socket_dir, account.uid, account.gid)
    _initdb(bin_dir, data, account, log)
    for attempt in range(3):  # another process may take the free port before the server binds it
        port = free_port()
        settings = {**SETTINGS, "port": str(port), "unix_socket_directories": str(socket_dir)}
        argv = [str(bin_dir / "postgres"), "-D", str(data)]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        with log.open("ab") as out:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=_server_env(),
                start_new_session=True,  # a Ctrl-C in the terminal goes to pytest, not here
                user=account.user,
                group=account.group,
                extra_groups=account.extra_groups,
            )
        try:
            try:
                _wait_until_ready(proc, socket_dir, port, log)
            except PostgresUnavailable as exc:
                if attempt < 2 and "could not bind" in str(exc):
                    continue
                raise
            password = secrets.token_urlsafe(24)
            _create_role(socket_dir, port, password)
            yield PostgresServer(
                admin_url=f"postgresql://{ROLE}:{password}@{HOST}:{port}/postgres",
                password=password,
                external=False,
                folder=folder,
            )
            return
        finally:
            _stop(proc)


# -- an existing server ----------------------------------------------------------------------------


def external_server(url: str) -> PostgresServer:
    """The server behind ``CONVOPORT_TEST_POSTGRES_URL``, checked to answer."""
    import psycopg

    admin_url = _normalise(url)
    password = unquote(urlsplit(admin_url).password or "")
    server = PostgresServer(admin_url=admin_url, password=password, external=True)
    try:
        with psycopg.connect(admin_url, connect_timeout=10) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        raise PostgresUnavailable(
            f"{ENV_URL} ({redact(admin_url, password)}) does not answer: "
            f"{redact(str(exc), password)}"
        ) from None
    return server


@contextmanager
def server(chosen: Plan) -> Iterator[PostgresServer]:
    """The server ``chosen`` names (``external`` or ``local``), for the length of the block."""
    if chosen.kind == "external":
        yield external_server(chosen.url)
    elif chosen.kind == "local" and chosen.bin_dir is not None:
        with local_server(chosen.bin_dir) as started:
            yield started
    else:
        raise PostgresUnavailable(chosen.reason or NO_SERVER)


# -- a database per test ---------------------------------------------------------------------------


def database_name() -> str:
    """A database name no other test (or test run) uses: ``convoport_test_<32 hex digits>``."""
    return f"convoport_test_{uuid.uuid4().hex}"


@contextmanager
def fresh_database(on: PostgresServer) -> Iterator[str]:
    """A new empty database owned by the server's role; yields its URL, drops it afterwards.

    The drop uses ``WITH (FORCE)``: connections a test left open (a pool not disposed) are ended
    rather than making the drop fail.
    """
    import psycopg
    from psycopg import sql

    name = database_name()
    try:
        with psycopg.connect(on.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise PostgresUnavailable(
            f"CREATE DATABASE failed on {on!r}: {redact(str(exc), on.password)}"
        ) from None
    try:
        yield on.url(name)
    finally:
        try:
            with psycopg.connect(on.admin_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        except psycopg.Error as exc:
            raise PostgresUnavailable(
                f"DROP DATABASE {name} failed on {on!r}: {redact(str(exc), on.password)}"
            ) from None


# -- python -m tests.support.postgres: how long a start and a CREATE DATABASE take -----------------


def _measure(rounds: int = 5, creates: int = 6) -> None:
    """Start, then CREATE DATABASE: in :data:`MEMORY_FOLDER` against ``/tmp``, interleaved."""
    chosen = plan(os.environ, find_bin_dir())
    if chosen.kind != "local" or chosen.bin_dir is None:
        raise SystemExit(f"nothing to measure: {chosen.kind} ({chosen.reason or 'env URL set'})")
    places = {"/tmp": "/tmp"}
    if _roomy_memory_folder():
        places = {str(MEMORY_FOLDER): str(MEMORY_FOLDER), **places}
    starts: dict[str, list[float]] = {place: [] for place in places}
    created: dict[str, list[float]] = {place: [] for place in places}
    for _ in range(rounds):
        for place, parent in places.items():
            began = time.perf_counter()
            with local_server(chosen.bin_dir, {ENV_TMPDIR: parent}) as started:
                starts[place].append(time.perf_counter() - began)
                for _ in range(creates):
                    with contextlib.ExitStack() as stack:
                        began = time.perf_counter()
                        stack.enter_context(fresh_database(started))
                        created[place].append(time.perf_counter() - began)
    print(f"binaries: {chosen.bin_dir}; default folder now: {parent_folder(os.environ)}")
    for place in places:
        print(
            f"{place}: server start (initdb + postgres + role) median "
            f"{statistics.median(starts[place]):.3f} s over {rounds}; CREATE DATABASE "
            f"(connect + create, drop not counted) median "
            f"{statistics.median(created[place]):.3f} s over {len(created[place])}"
        )
    if len(places) == 2:
        memory, disk = (statistics.median(created[place]) for place in places)
        print(f"CREATE DATABASE time, {MEMORY_FOLDER} / /tmp: {memory / disk:.2f}")


if __name__ == "__main__":
    _measure()


__all__ = [
    "BIN_GLOB",
    "ENV_REQUIRE",
    "ENV_TMPDIR",
    "ENV_URL",
    "MEMORY_FOLDER",
    "NO_SERVER",
    "ROLE",
    "START_TIMEOUT",
    "Plan",
    "PostgresServer",
    "PostgresUnavailable",
    "database_name",
    "external_server",
    "find_bin_dir",
    "fresh_database",
    "local_server",
    "parent_folder",
    "plan",
    "redact",
    "server",
]
