"""The example plugin, installed as its own distribution, proves the kit's own rules.

Each test copies the plugin's package to a temporary folder, breaks it one way, and runs the
plugin's kit tests against the copy (the copy comes first on ``PYTHONPATH``, so the installed
entry point imports it). The kit must fail, and say why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "examples" / "convoport-murmur"


def _installed() -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("convoport-murmur")
    except PackageNotFoundError:
        return False
    return True


def run_plugin_tests(tmp_path: Path, mutate: Callable[[Path], None]) -> str:
    if not _installed():
        pytest.fail("the example plugin is not installed: pip install ./examples/convoport-murmur")
    src = tmp_path / "src"
    shutil.copytree(PLUGIN / "src", src)
    shutil.copytree(PLUGIN / "tests", tmp_path / "tests")
    mutate(src / "convoport_murmur")
    env = {**os.environ, "PYTHONPATH": str(src)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "tests")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0, "the kit passed a broken plugin:\n" + result.stdout[-3000:]
    return result.stdout


def test_unmodified_plugin_passes_the_kit(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(PLUGIN / "src", src)
    shutil.copytree(PLUGIN / "tests", tmp_path / "tests")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "tests")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(src)},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "capability chat is not declared" not in result.stdout  # -rs not requested


def test_missing_cassette_fails_naming_the_scenario(tmp_path: Path) -> None:
    out = run_plugin_tests(
        tmp_path, lambda pkg: (pkg / "cassettes" / "get_transcript.json").unlink()
    )
    assert "scenario 'get_transcript' has no cassette" in out
    assert "test_every_declared_scenario_has_fixtures" in out


def test_declared_but_unimplemented_capability_fails(tmp_path: Path) -> None:
    def declare_summaries(pkg: Path) -> None:
        adapter = pkg / "adapter.py"
        text = adapter.read_text()
        text = text.replace(
            "            Capability.CHAT,\n",
            "            Capability.CHAT,\n            Capability.SUMMARIES,\n",
        )
        assert "Capability.SUMMARIES" in text
        adapter.write_text(text)

    out = run_plugin_tests(tmp_path, declare_summaries)
    assert "declares capabilities it does not implement: summaries (needs _get_summary)" in out


def _edit(pkg: Path, name: str, old: str, new: str) -> None:
    path = pkg / name
    text = path.read_text()
    assert old in text, f"{old!r} is not in {name}"
    path.write_text(text.replace(old, new))


def test_a_declared_filter_the_server_never_gets_fails(tmp_path: Path) -> None:
    out = run_plugin_tests(
        tmp_path,
        lambda pkg: _edit(
            pkg,
            "adapter.py",
            'params.extend(("state", state) for state in states)',
            "pass  # the filter is dropped",
        ),
    )
    assert "test_list_sessions_each_filter" in out
    assert "declared filter statuses never reached the server" in out


def test_a_listing_that_stops_after_one_page_fails(tmp_path: Path) -> None:
    out = run_plugin_tests(
        tmp_path,
        lambda pkg: _edit(pkg, "adapter.py", 'next=body.get("next_cursor")', "next=None"),
    )
    assert "test_list_sessions_three_pages" in out
    assert "3 pages need at least 3" in out


def test_an_id_pasted_into_the_path_fails(tmp_path: Path) -> None:
    out = run_plugin_tests(
        tmp_path,
        lambda pkg: _edit(
            pkg,
            "adapter.py",
            "quote_segment(call_id, provider=PROVIDER, what='call id')",
            "call_id",
        ),
    )
    assert "test_get_session_awkward_ids" in out
    assert "get_session('.') left the collection path: GET /v1/calls/" in out


def test_a_credential_sent_to_the_media_host_fails(tmp_path: Path) -> None:
    out = run_plugin_tests(
        tmp_path,
        lambda pkg: _edit(
            pkg,
            "adapter.py",
            "            retry=self.options.retry,\n",
            "            retry=self.options.retry,\n"
            '            headers={"authorization": f"Bearer {self.config.api_token}"},\n',
        ),
    )
    assert "test_download_signed_recording" in out
    assert "credential header(s) ['authorization'] sent to the storage host" in out


def test_an_expired_link_never_refreshed_fails(tmp_path: Path) -> None:
    out = run_plugin_tests(
        tmp_path,
        lambda pkg: _edit(
            pkg, "adapter.py", "refresh=lambda: self._fresh_link(recording),", "refresh=None,"
        ),
    )
    assert "FAILED" in out
    assert "test_signed_link_refreshed" in out
    assert "link_expired" in out or "expired" in out


def test_missing_participants_fail(tmp_path: Path) -> None:
    out = run_plugin_tests(
        tmp_path,
        lambda pkg: _edit(
            pkg,
            "adapter.py",
            'return [participant_from_payload(session.id, item) for item in body["data"]]',
            "return []",
        ),
    )
    assert "test_list_participants" in out
    assert "the session has no participants" in out


def test_chat_out_of_order_fails(tmp_path: Path) -> None:
    out = run_plugin_tests(
        tmp_path,
        lambda pkg: _edit(
            pkg,
            "adapter.py",
            'return [message_from_payload(session.id, item) for item in body["data"]]',
            'return [message_from_payload(session.id, item) for item in body["data"]][::-1]',
        ),
    )
    assert "test_list_chat" in out
    assert "chat messages are not in the order they were sent" in out


def test_changed_translation_fails_against_expected(tmp_path: Path) -> None:
    def wrong_units(pkg: Path) -> None:
        translate = pkg / "translate.py"
        text = translate.read_text().replace(
            'seg.number("start_ms") / 1000', 'seg.number("start_ms")'
        )
        translate.write_text(text)

    out = run_plugin_tests(tmp_path, wrong_units)
    assert "outcome differs from" in out
    assert "utterances[1].start" in out


def test_unexpected_request_shows_the_closest_recorded_one(tmp_path: Path) -> None:
    def wrong_path(pkg: Path) -> None:
        adapter = pkg / "adapter.py"
        text = adapter.read_text()
        assert '/transcript"' in text
        adapter.write_text(text.replace('/transcript"', '/transcripts"'))

    out = run_plugin_tests(tmp_path, wrong_path)
    assert "CassetteMismatch" in out
    assert "closest" in out.lower()


def test_overriding_a_kit_test_without_xfail_is_caught(tmp_path: Path) -> None:
    def override(pkg: Path) -> None:
        tests = pkg.parent.parent / "tests" / "test_contract.py"
        tests.write_text(
            tests.read_text().replace(
                '    connect_options = {"api_token": "test-token"}\n',
                '    connect_options = {"api_token": "test-token"}\n\n'
                "    def test_get_transcript(self) -> None:\n"
                "        pass\n",
                1,
            )
        )

    out = run_plugin_tests(tmp_path, override)
    assert "overrides kit tests without pytest.mark.xfail(reason=...): test_get_transcript" in out
