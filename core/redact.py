"""Secret redaction shared by logging, error messages, reprs and cassettes.

A :class:`Redactor` knows two kinds of secret: exact values it was told about (an API key, a
token taken from a URL) and patterns that look like credentials wherever they appear
(``Authorization: Bearer …``, ``token=…`` in a query string, ``"api_key": "…"`` in JSON, the
password of ``scheme://user:password@host``).
Every string convoport prints or stores that may have touched a credential goes through one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "[REDACTED]"

#: Header names whose values are always credentials (lower case).
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "x-gladia-key",
        "syllable-api-key",
        "x-auth-key",
        "x-auth-email",
        "x-auth-user-service-key",
        "cookie",
        "set-cookie",
    }
)

#: Query-string and JSON keys whose values are always credentials (lower case).
SECRET_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "api-key",
        "key",
        "token",
        "access_token",
        "refresh_token",
        "secret",
        "password",
        "signature",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "sig",
    }
)

_KEY_ALTERNATION = "|".join(sorted((re.escape(k) for k in SECRET_KEYS), key=len, reverse=True))
_PATTERNS: tuple[re.Pattern[str], ...] = (
    # Authorization: Bearer abc / Basic abc
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"),
    # token=abc in URLs and form bodies
    re.compile(rf"(?i)(?<![A-Za-z0-9_-])({_KEY_ALTERNATION})=([^&\s\"'#]+)"),
    # "api_key": "abc" in JSON
    re.compile(rf"(?i)\"({_KEY_ALTERNATION})\"\s*:\s*\"([^\"]*)\""),
    # the password in a URL's user info: postgresql://user:password@host/db
    re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/:@]*):([^\s/@]+)@"),
    # header-style lines: x-gladia-key: abc
    re.compile(
        r"(?i)\b(" + "|".join(re.escape(h) for h in sorted(SECRET_HEADERS)) + r")\s*:\s*([^\s,;]+)"
    ),
)


class Redactor:
    """Removes secrets from text.

    ``secrets`` are exact strings to remove wherever they occur (values shorter than four
    characters are ignored: redacting ``"a"`` would shred every message). The built-in patterns
    are always applied as well.
    """

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: tuple[str, ...] = ()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Adds exact secret values (``None`` and very short values are skipped).

        Each value is known in the forms it may be printed in: as given, without surrounding
        whitespace (a key read from a file often ends with a newline), and escaped as
        ``repr()`` shows it (``b'key\\n'`` in an httpcore error)."""
        known = set(self._secrets)
        for secret in secrets:
            if not isinstance(secret, str):
                continue
            forms = {secret, secret.strip()}
            forms.add(secret.encode("unicode_escape").decode("ascii"))
            forms.add(secret.strip().encode("unicode_escape").decode("ascii"))
            known.update(f for f in forms if len(f) >= 4)
        # Longest first, so a secret that contains another is removed whole.
        self._secrets = tuple(sorted(known, key=len, reverse=True))

    def __repr__(self) -> str:
        return f"Redactor(<{len(self._secrets)} secrets>)"

    def text(self, value: str) -> str:
        """Returns ``value`` with every known secret and credential-shaped substring replaced."""
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            value = pattern.sub(_replace_match, value)
        return value

    def url(self, url: str) -> str:
        """Returns ``url`` with credential query parameters and user info replaced."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return self.text(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = REDACTED + "@" + netloc.rsplit("@", 1)[1]
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode(
                [(k, REDACTED if k.lower() in SECRET_KEYS else v) for k, v in pairs], safe="[]"
            )
        return self.text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Returns a copy of ``headers`` with credential headers replaced."""
        return {
            k: (REDACTED if k.lower() in SECRET_HEADERS else self.text(v))
            for k, v in headers.items()
        }


def _replace_match(match: re.Match[str]) -> str:
    whole = match.group(0)
    if match.re is _PATTERNS[0]:
        return f"{match.group(1)} {REDACTED}"
    value = match.group(2)
    if value in (REDACTED, "***"):  # masked already (SQLAlchemy prints URLs with ***)
        return whole
    start = match.start(2) - match.start(0)
    end = match.end(2) - match.start(0)
    return whole[:start] + REDACTED + whole[end:]


#: A redactor with no exact secrets: it still removes credential-shaped text.
DEFAULT_REDACTOR = Redactor()
