"""A real S3-compatible server on loopback for the media tests: moto's server mode.

:func:`moto_server` starts moto's threaded server in a **subprocess** (the objects it holds live
in that process, not in the test process) on a port of 127.0.0.1 the system picks, waits until
it answers an HTTP request (bounded by :data:`START_TIMEOUT` seconds; a server that exits or
never answers fails with the end of its stderr), yields its endpoint URL and stops it on the way
out. The server also stops by itself when the test process dies (it waits on a pipe only the
test process holds).

:func:`s3_env` is the environment a client needs to reach it: fake credentials and
``AWS_ENDPOINT_URL_S3`` (botocore's standard variable, which s3fs honours). Tests set it with
``monkeypatch`` so only the tests that use the server see it.

:func:`require_s3` skips the calling test when moto or s3fs cannot be imported, unless
``CONVOPORT_REQUIRE_SERVICES=1`` (CI) is set: then it fails instead, naming what is missing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import selectors
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import pytest

#: The longest wait, in seconds, for the server to answer (and for it to stop).
START_TIMEOUT = 30.0
#: The pause between two attempts to reach the server, in seconds.
POLL_INTERVAL = 0.1
HOST = "127.0.0.1"
#: Fake credentials moto accepts (any values do); the secret is distinctive so a test can
#: check it never leaks into a message.
ACCESS_KEY = "convoport-test-access-key"
SECRET_KEY = "convoport-test-SECRET-never-printed-8d1f"
REGION = "us-east-1"
#: The variable that turns a missing moto/s3fs into a failure instead of a skip.
REQUIRE_ENV = "CONVOPORT_REQUIRE_SERVICES"


def require_s3() -> None:
    """Skips (or, with ``CONVOPORT_REQUIRE_SERVICES=1``, fails) when moto's server or s3fs is
    not importable."""
    missing = [
        name
        for name in ("moto", "flask", "s3fs", "boto3")
        if importlib.util.find_spec(name) is None
    ]
    if not missing:
        return
    reason = (
        f"the S3 media tests need {', '.join(missing)} (pip install -e '.[dev]', which brings "
        "moto[server] and s3fs)"
    )
    if os.environ.get(REQUIRE_ENV, "").strip() in ("1", "true", "yes"):
        pytest.fail(f"{REQUIRE_ENV} is set and {reason}", pytrace=False)
    pytest.skip(reason)


def s3_env(endpoint: str) -> dict[str, str]:
    """The environment a botocore/s3fs client needs to reach ``endpoint`` with the fake
    credentials (and nothing from the developer's own AWS configuration)."""
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL_S3": endpoint,
        # never read the developer's ~/.aws files, never ask an instance metadata service
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        # the server is on loopback: never through a proxy from the environment
        "NO_PROXY": "127.0.0.1",
    }


#: What the server subprocess runs: moto's threaded server on a port the system picks (no
#: race for a "free" port), the port printed on stdout, then a wait for the end of stdin. The
#: test process holds the other end of that pipe, so the server also stops when the test
#: process dies without cleaning up (killed, SIGKILL).
_CHILD = r"""
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address=sys.argv[1], port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""


#: An opener that never goes through a proxy from the environment (the server is on loopback).
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _answers(endpoint: str) -> bool:
    try:
        with _DIRECT.open(endpoint + "/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # it answered, with an error status: it is up
    except OSError:
        return False


def _failure(proc: subprocess.Popen[bytes], stderr: IO[bytes], state: str) -> RuntimeError:
    proc.kill()
    proc.wait(timeout=START_TIMEOUT)
    stderr.seek(0)
    text = stderr.read().decode(errors="replace").strip()[-2000:]
    return RuntimeError(f"moto's server {state}: {text}")


def _read_port(proc: subprocess.Popen[bytes], stderr: IO[bytes], deadline: float) -> int:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            raise _failure(proc, stderr, f"did not start within {START_TIMEOUT:g} s")
    line = proc.stdout.readline().decode(errors="replace").strip()
    if not line.isdigit():
        raise _failure(proc, stderr, f"exited before listening (said {line!r})")
    return int(line)


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server running in a subprocess on a loopback port; yields
    ``http://127.0.0.1:PORT`` once it answers HTTP."""
    deadline = time.monotonic() + START_TIMEOUT
    # stderr goes to a file, not a pipe nobody reads, so it cannot fill up and stall the server
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, HOST],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        try:
            endpoint = f"http://{HOST}:{_read_port(proc, stderr, deadline)}"
            while not _answers(endpoint):
                if proc.poll() is not None:
                    raise _failure(proc, stderr, f"exited ({endpoint})")
                if time.monotonic() > deadline:
                    raise _failure(proc, stderr, f"did not answer within {START_TIMEOUT:g} s")
                time.sleep(POLL_INTERVAL)
            yield endpoint
        finally:
            with contextlib.suppress(OSError):
                assert proc.stdin is not None
                proc.stdin.close()  # the server's signal to stop
            try:
                proc.wait(timeout=START_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def boto_client(endpoint: str) -> Any:
    """A plain boto3 S3 client on ``endpoint`` with the fake credentials (boto3 ships no
    type stubs, so it is ``Any``)."""
    import boto3  # type: ignore[import-untyped]

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )


def new_bucket(endpoint: str) -> str:
    """Creates a bucket with a fresh name on the server; returns its name."""
    name = f"convoport-{uuid.uuid4().hex[:16]}"
    boto_client(endpoint).create_bucket(Bucket=name)
    return name


__all__ = [
    "ACCESS_KEY",
    "REQUIRE_ENV",
    "SECRET_KEY",
    "START_TIMEOUT",
    "boto_client",
    "moto_server",
    "new_bucket",
    "require_s3",
    "s3_env",
]
