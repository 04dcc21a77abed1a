"""Secret redaction: exact secrets, credential-shaped text, URLs and headers."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from convoport.redact import DEFAULT_REDACTOR, REDACTED, Redactor

KEY = "gl-0123456789abcdef0123456789abcdef"


# -- exact secrets ------------------------------------------------------------------------


def test_exact_secret_is_removed_everywhere() -> None:
    redactor = Redactor([KEY])
    assert redactor.text(f"echo {KEY}; again {KEY}!") == "echo [REDACTED]; again [REDACTED]!"


@pytest.mark.parametrize("order", [["abcd", "abcdefgh"], ["abcdefgh", "abcd"]])
def test_longest_secret_is_removed_first(order: list[str]) -> None:
    redactor = Redactor(order)
    assert redactor.text("x abcdefgh y abcd z") == "x [REDACTED] y [REDACTED] z"


def test_short_and_empty_secrets_are_ignored() -> None:
    redactor = Redactor(["abc", "", None, "a"])
    assert redactor.text("abc a cab") == "abc a cab"
    assert repr(redactor) == "Redactor(<0 secrets>)"


def test_add_extends_the_secrets() -> None:
    redactor = Redactor()
    assert redactor.text("hello wxyz1234") == "hello wxyz1234"
    redactor.add("wxyz1234", None)
    redactor.add("wxyz1234")  # adding twice keeps one
    assert redactor.text("hello wxyz1234") == "hello [REDACTED]"
    assert repr(redactor) == "Redactor(<1 secrets>)"


def test_repr_does_not_show_secrets() -> None:
    assert KEY not in repr(Redactor([KEY]))


# -- credential-shaped text ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.def-123_XYZ", "abc.def-123_XYZ"),
        ("curl -H 'authorization: bearer eyJhbGciOi.JIUzI1NiJ9.x'", "eyJhbGciOi.JIUzI1NiJ9.x"),
        ("Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        ("GET /v2/files?token=tok_123&page=2", "tok_123"),
        ("https://h.test/a?api_key=KEY123&x=1", "KEY123"),
        ("https://h.test/a?x=1&access_token=AT-999", "AT-999"),
        ("https://b.test/o?X-Amz-Signature=deadbeef&X-Amz-Expires=60", "deadbeef"),
        ("redirect#access_token=frag-secret&state=1", "frag-secret"),
        ("form: password=hunter22&user=me", "hunter22"),
        ('{"api_key": "json-secret-1", "name": "n"}', "json-secret-1"),
        ('{"Token":"json-secret-2"}', "json-secret-2"),
        ('{"password" : "pa ss"}', "pa ss"),
        ("x-gladia-key: hdr-secret-1", "hdr-secret-1"),
        ("X-Api-Key:hdr-secret-2, other", "hdr-secret-2"),
        ("cookie: session=abc123", "session=abc123"),
    ],
)
def test_credential_patterns_are_removed(text: str, secret: str) -> None:
    redacted = DEFAULT_REDACTOR.text(text)
    assert secret not in redacted
    assert REDACTED in redacted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /files?token=tok_123&page=2", "GET /files?token=[REDACTED]&page=2"),
        ('{"api_key": "s3cr3t", "name": "n"}', '{"api_key": "[REDACTED]", "name": "n"}'),
        ("x-gladia-key: abc123", "x-gladia-key: [REDACTED]"),
        ("sent Bearer abcdef123 as auth", "sent Bearer [REDACTED] as auth"),
    ],
)
def test_only_the_value_is_replaced(text: str, expected: str) -> None:
    assert DEFAULT_REDACTOR.text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "mytoken=visible&page=2",  # a longer key that merely ends in "token"
        "the bearer of bad news",  # "bearer" followed by a short word
        '{"name": "keyboard", "tokens": 12}',
        "monkey=banana",
        "page=2&limit=50",
    ],
)
def test_harmless_text_is_left_alone(text: str) -> None:
    assert DEFAULT_REDACTOR.text(text) == text


def test_already_redacted_text_is_stable() -> None:
    once = Redactor([KEY]).text(f"token={KEY} Bearer {KEY} x-api-key: {KEY}")
    assert Redactor([KEY]).text(once) == once
    assert KEY not in once


# -- URLs and headers ---------------------------------------------------------------------


def test_url_removes_userinfo_and_secret_query_values() -> None:
    url = "https://user:pa55@api.vendor.test/v2/files?token=t0k&page=2&q=hello&Signature=s1g"
    assert Redactor().url(url) == (
        "https://[REDACTED]@api.vendor.test/v2/files?token=[REDACTED]&page=2&q=hello"
        "&Signature=[REDACTED]"
    )


def test_url_keeps_other_parameters_and_fragment() -> None:
    url = "https://api.vendor.test/v2/files?limit=10&offset=20&status=done#top"
    assert Redactor().url(url) == url


def test_url_keeps_blank_values() -> None:
    assert Redactor().url("https://h.test/p?a=&token=") == "https://h.test/p?a=&token=[REDACTED]"


def test_url_removes_exact_secrets_in_the_path() -> None:
    url = f"https://h.test/keys/{KEY}/sessions"
    assert Redactor([KEY]).url(url) == "https://h.test/keys/[REDACTED]/sessions"


def test_url_that_cannot_be_split_is_redacted_as_text() -> None:
    redacted = Redactor([KEY]).url(f"http://[::1/{KEY}?token=abc")
    assert KEY not in redacted
    assert "token=[REDACTED]" in redacted


def test_headers_are_redacted() -> None:
    headers = {
        "Authorization": "Bearer something-long",
        "X-Gladia-Key": "k",
        "Content-Type": "application/json",
        "X-Debug": f"echo {KEY}",
    }
    assert Redactor([KEY]).headers(headers) == {
        "Authorization": REDACTED,
        "X-Gladia-Key": REDACTED,
        "Content-Type": "application/json",
        "X-Debug": "echo [REDACTED]",
    }
    assert headers["X-Gladia-Key"] == "k"  # a copy


# -- properties ---------------------------------------------------------------------------

_SECRET = st.text(min_size=4).filter(lambda s: not any(c.isspace() for c in s))


@given(_SECRET)
def test_a_secret_never_survives(secret: str) -> None:
    # A "secret" that is part of the marker itself cannot be hidden by any marker.
    assume(secret not in f"x{REDACTED}y")
    assert secret not in Redactor([secret]).text(f"x{secret}y")


@given(_SECRET, st.text(), st.text())
def test_a_secret_never_survives_in_any_context(secret: str, before: str, after: str) -> None:
    # Without brackets, a secret cannot straddle the marker, so whatever surrounds it (even
    # more copies of it, or credential-shaped text) it is gone from the result.
    assume("[" not in secret and "]" not in secret and secret not in REDACTED)
    assert secret not in Redactor([secret]).text(before + secret + after)


@given(st.text())
def test_redaction_is_idempotent(text: str) -> None:
    redactor = Redactor([KEY])
    once = redactor.text(text)
    assert redactor.text(once) == once


@given(st.from_regex(r"[A-Za-z0-9_\-]{4,40}", fullmatch=True))
def test_token_query_values_never_survive_in_urls(value: str) -> None:
    url = f"https://h.test/p?page=1&token={value}&x=y"
    redacted = Redactor().url(url)
    assert f"token={value}" not in redacted
    assert "page=1" in redacted
    assert "x=y" in redacted
