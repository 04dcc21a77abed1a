"""A secret scan over cassette files.

The kit runs it over every cassette in the tree; ``python -m convoport.contracts.scan PATH...``
runs it by hand (exit status 1 when something is found). A finding never quotes the value it
found, so the report itself is safe to print in CI logs.

What is flagged, anywhere in the file:

* any of the exact ``secrets`` passed in (an API key taken from the environment, say), in the
  file text, in its JSON-escaped form, or inside a base64 body;
* in any ``headers`` object: a header named in ``SECRET_HEADERS`` (``authorization``,
  ``x-gladia-key``, ...) unless its value is exactly ``[REDACTED]``; a value holding a run of 40
  or more hex digits;
* in any URL (a string starting ``scheme://``): user info (``user:password@``) other than
  ``[REDACTED]``; a query parameter named in ``SECRET_KEYS`` (``token``, ``api_key``, ...) whose
  value is not a placeholder; a query value holding a run of 40 or more hex digits;
* a JSON key named in ``SECRET_KEYS`` whose value is a non-empty string that is not a
  placeholder (inside bodies, ``meta`` and extensions alike);
* in any other string (text bodies: SSE, form bodies): ``name=value`` and ``"name": "value"``
  with a name in ``SECRET_KEYS`` and a value that is not a placeholder;
* in any string: a ``Bearer``/``Basic`` credential (a token of 8+ characters with a digit, an
  inner capital letter or a trailing ``=``, so prose such as "basic authentication" passes);
  ``sk-`` keys (``sk-`` and 20+ letters or digits), AWS access key ids (``AKIA`` and 16
  capitals or digits) and JSON Web Tokens (``eyJ....eyJ....``).

Placeholders. Cassettes written by hand need values where the vendor puts a token; these are
accepted: exactly ``[REDACTED]`` (what the recorder writes), the empty string, and any value
starting (case-insensitively) with ``fake-``, ``test-`` or ``example``. Secret *headers* accept
only ``[REDACTED]``: a cassette has no reason to hold them at all.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import attrs

from convoport.contracts.cassette import VERSION_KEY
from convoport.redact import REDACTED, SECRET_HEADERS, SECRET_KEYS

#: Value prefixes (compared in lower case) a hand-written cassette may use for credentials.
PLACEHOLDER_PREFIXES: tuple[str, ...] = ("fake-", "test-", "example")

_KEYS = "|".join(sorted((re.escape(k) for k in SECRET_KEYS), key=len, reverse=True))
_KEY_VALUE = re.compile(rf"(?i)(?<![A-Za-z0-9_-])({_KEYS})=([^&\s\"'#]*)")
_JSON_KEY_VALUE = re.compile(rf"(?i)\"({_KEYS})\"\s*:\s*\"((?:[^\"\\]|\\.)*)\"")
_AUTH = re.compile(r"(?i)\b(bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})")
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9]{20,}"), "looks like an 'sk-' API key"),
    (re.compile(r"(?<![A-Z0-9])AKIA[0-9A-Z]{16}(?![0-9A-Z])"), "looks like an AWS access key id"),
    (
        re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        "looks like a JSON Web Token",
    ),
)
_LONG_HEX = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{40,}(?![0-9A-Fa-f])")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@attrs.frozen(kw_only=True)
class Finding:
    """One suspected secret: the file, where in it (a JSON path or a line) and why."""

    path: Path
    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.location}: {self.reason}"


def is_placeholder(value: str) -> bool:
    """Whether ``value`` is an accepted stand-in for a credential (see the module docstring)."""
    return value in ("", REDACTED) or value.lower().startswith(PLACEHOLDER_PREFIXES)


def scan_cassette(path: str | Path, *, secrets: Iterable[str] = ()) -> list[Finding]:
    """Scans one cassette file; returns the findings (empty when it is clean)."""
    file = Path(path)
    known = [s for s in dict.fromkeys(secrets) if s and len(s) >= 4]
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Finding(path=file, location="file", reason=f"cannot be read: {exc}")]
    findings = list(_scan_exact(file, text, known))
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        findings.append(
            Finding(path=file, location=f"line {exc.lineno}", reason=f"not valid JSON: {exc.msg}")
        )
        return findings
    scanner = _Scanner(file, known)
    scanner.walk(document, "", parent_key=None)
    findings.extend(scanner.findings)
    return findings


def scan_paths(
    paths: str | Path | Iterable[str | Path], secrets: Iterable[str] = ()
) -> list[Finding]:
    """Scans files and folders; folders are searched recursively for cassette ``*.json`` files.

    A JSON file in a folder counts as a cassette when its top level has ``"convoport_cassette"``
    (or, if it does not parse, when its text mentions that key). Files named explicitly are
    always scanned.
    """
    roots = [paths] if isinstance(paths, str | Path) else list(paths)
    known = list(secrets)
    findings: list[Finding] = []
    for file in _cassette_files(Path(p) for p in roots):
        findings.extend(scan_cassette(file, secrets=known))
    return findings


def _cassette_files(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        if not root.is_dir():
            yield root
            continue
        for file in sorted(root.rglob("*.json")):
            if file.is_file() and _is_cassette(file):
                yield file


def _is_cassette(file: Path) -> bool:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return f'"{VERSION_KEY}"' in text
    return isinstance(document, dict) and VERSION_KEY in document


def _scan_exact(file: Path, text: str, secrets: Sequence[str]) -> Iterator[Finding]:
    for number, secret in enumerate(secrets, start=1):
        forms = {secret, json.dumps(secret, ensure_ascii=False)[1:-1], json.dumps(secret)[1:-1]}
        for form in forms:
            index = text.find(form)
            if index >= 0:
                line = text.count("\n", 0, index) + 1
                yield Finding(
                    path=file,
                    location=f"line {line}",
                    reason=f"contains the value of known secret #{number}",
                )
                break


def _child(location: str, key: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
        return f"{location}.{key}" if location else key
    return f"{location}[{json.dumps(key, ensure_ascii=False)}]"


class _Scanner:
    def __init__(self, file: Path, secrets: Sequence[str]) -> None:
        self.file = file
        self.secrets = secrets
        self.findings: list[Finding] = []

    def flag(self, location: str, reason: str) -> None:
        finding = Finding(path=self.file, location=location or "$", reason=reason)
        if finding not in self.findings:
            self.findings.append(finding)

    def walk(self, node: Any, location: str, *, parent_key: str | None) -> None:
        if isinstance(node, dict):
            in_headers = parent_key == "headers"
            for key, value in node.items():
                where = _child(location, str(key))
                if in_headers:
                    self.header(where, str(key), value)
                elif (
                    str(key).lower() in SECRET_KEYS
                    and isinstance(value, str)
                    and not is_placeholder(value)
                ):
                    self.flag(
                        where,
                        f"JSON key {key!r} holds a value that is not a placeholder "
                        f"({REDACTED!r}, 'fake-…', 'test-…', 'example…')",
                    )
                if key == "base64" and isinstance(value, str):
                    self.binary(where, value)
                self.walk(value, where, parent_key=str(key))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                self.walk(item, f"{location}[{index}]", parent_key=parent_key)
        elif isinstance(node, str):
            self.string(location, node)

    def header(self, where: str, name: str, value: Any) -> None:
        if name.lower() in SECRET_HEADERS and value != REDACTED:
            self.flag(
                where,
                f"credential header {name.lower()!r} is recorded (only the value {REDACTED!r} "
                "is allowed; better, leave it out)",
            )
        if isinstance(value, str) and _LONG_HEX.search(value):
            self.flag(where, "header value holds a run of 40 or more hex digits")

    def binary(self, where: str, value: str) -> None:
        if not self.secrets:
            return
        try:
            data = base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            return
        for number, secret in enumerate(self.secrets, start=1):
            if secret.encode() in data:
                self.flag(where, f"the base64 body contains the value of known secret #{number}")

    def string(self, where: str, value: str) -> None:
        for match in _AUTH.finditer(value):
            token = match.group(2)
            if not is_placeholder(token) and _credential_like(token):
                self.flag(where, f"holds a {match.group(1).capitalize()} credential")
        for pattern, reason in _SHAPES:
            if pattern.search(value):
                self.flag(where, reason)
        if _URL.match(value):
            self.url(where, value)
            return
        for match in _KEY_VALUE.finditer(value):
            if not is_placeholder(unquote(match.group(2))):
                self.flag(
                    where,
                    f"'{match.group(1).lower()}=' holds a value that is not a placeholder",
                )
        for match in _JSON_KEY_VALUE.finditer(value):
            if not is_placeholder(match.group(2)):
                self.flag(
                    where,
                    f"embedded JSON key {match.group(1).lower()!r} holds a value that is not "
                    "a placeholder",
                )

    def url(self, where: str, value: str) -> None:
        try:
            parts = urlsplit(value)
        except ValueError:
            return
        if "@" in parts.netloc:
            userinfo = parts.netloc.rsplit("@", 1)[0]
            if unquote(userinfo) != REDACTED:
                self.flag(where, "URL carries user info (user:password@)")
        for key, item in parse_qsl(parts.query, keep_blank_values=True):
            if key.lower() in SECRET_KEYS and not is_placeholder(item):
                self.flag(
                    where,
                    f"query parameter {key!r} holds a value that is not a placeholder "
                    f"({REDACTED!r}, 'fake-…', 'test-…', 'example…')",
                )
            if _LONG_HEX.search(item):
                self.flag(where, f"query parameter {key!r} holds a run of 40 or more hex digits")


def _credential_like(token: str) -> bool:
    return (
        any(c.isdigit() for c in token)
        or any(c.isupper() for c in token[1:])
        or token.endswith("=")
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m convoport.contracts.scan PATH...``: prints findings, returns 1 if any."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m convoport.contracts.scan PATH...", file=sys.stderr)
        return 2
    findings = scan_paths(args)
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = [
    "PLACEHOLDER_PREFIXES",
    "Finding",
    "is_placeholder",
    "main",
    "scan_cassette",
    "scan_paths",
]
