"""What new users trip on: loggers that stay quiet, the SDKs' environment names, the export
module as an attribute (issue 13, items 10, 11, 14)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import convoport
from convoport import ConfigError
from convoport.config import build_config


def test_an_app_without_logging_config_gets_no_convoport_warnings() -> None:
    code = (
        "import logging, convoport\n"
        "logging.getLogger('convoport.http').warning('retrying after 503')\n"
        "logging.getLogger('convoport.migrate').warning('session attempt 1 of 3 failed')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    assert done.stderr == ""


def test_an_app_that_configures_logging_still_sees_them() -> None:
    code = (
        "import logging, convoport\n"
        "logging.basicConfig()\n"
        "logging.getLogger('convoport.http').warning('retrying after 503')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert "retrying after 503" in done.stderr


def test_the_export_module_is_an_attribute() -> None:
    assert callable(convoport.export.export)
    assert callable(convoport.export.write)


def test_gladia_reads_the_official_sdks_base_url_variable() -> None:
    from convoport.adapters.gladia.adapter import GladiaConfig

    ours = {"GLADIA_API_KEY": "k", "GLADIA_BASE_URL": "https://ours.test"}
    sdk = {"GLADIA_API_KEY": "k", "GLADIA_API_URL": "https://sdk.test"}
    both = {**ours, **sdk}
    assert build_config(GladiaConfig, {}, provider="gladia", env=sdk).base_url == "https://sdk.test"
    # convoport's own name wins over the SDK's, and a keyword argument over both
    assert build_config(GladiaConfig, {}, provider="gladia", env=both).base_url == (
        "https://ours.test"
    )
    given = build_config(GladiaConfig, {"base_url": "https://kw.test"}, provider="gladia", env=both)
    assert given.base_url == "https://kw.test"


def test_a_missing_key_names_the_environment_variable_first() -> None:
    from convoport.adapters.gladia.adapter import GladiaConfig

    with pytest.raises(ConfigError) as caught:
        build_config(GladiaConfig, {}, provider="gladia", env={})
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("set GLADIA_API_KEY")


def test_emulate_works_from_a_plain_install() -> None:
    """uvicorn is a dependency, not a dev extra: 'convoport emulate' needs no extra."""
    from importlib.metadata import requires

    plain = [r for r in requires("convoport") or [] if "extra ==" not in r]
    assert any(r.startswith("uvicorn") for r in plain)
