"""Replaying cassettes: matching, ordering, mismatch messages, streaming, multipart."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from convoport.contracts.cassette import Cassette, loads_cassette
from convoport.contracts.transport import (
    CassetteMismatch,
    ReplayTransport,
    json_diff,
    parse_multipart,
)
from convoport.redact import Redactor

BASE = "https://api.gladia.io/v2/live"


def _interaction(
    method: str,
    url: str,
    *,
    status: int = 200,
    request_body: Any = None,
    response_body: Any = None,
    response_headers: dict[str, str] | None = None,
    chunk_size: int | None = None,
    match: list[str] | None = None,
    request_headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": method,
        "url": url,
        "headers": request_headers or {},
        "body": request_body,
    }
    if match is not None:
        request["match"] = match
    response: dict[str, Any] = {
        "status": status,
        "headers": response_headers
        if response_headers is not None
        else {"content-type": "application/json"},
        "body": response_body,
    }
    if chunk_size is not None:
        response["chunk_size"] = chunk_size
    return {"request": request, "response": response}


def _cassette(tmp_path: Path, *interactions: dict[str, Any]) -> Cassette:
    import json

    path = tmp_path / "scenario.json"
    document = {"convoport_cassette": 1, "meta": {}, "interactions": list(interactions)}
    path.write_text(json.dumps(document), encoding="utf-8")
    return loads_cassette(path.read_text(encoding="utf-8"), path=path)


def _replay(tmp_path: Path, *interactions: dict[str, Any]) -> ReplayTransport:
    return ReplayTransport(_cassette(tmp_path, *interactions))


LIST = _interaction(
    "GET",
    f"{BASE}?limit=2&status=done",
    response_body={"json": {"items": [{"id": "a"}], "next": None}},
    response_headers={"content-type": "application/json", "x-request-id": "req-1"},
)


@pytest.mark.anyio
async def test_async_client_replays_json_get(tmp_path: Path) -> None:
    replay = _replay(tmp_path, LIST)
    async with httpx.AsyncClient(transport=replay) as client:
        response = await client.get(BASE, params={"limit": 2, "status": "done"})
    assert response.status_code == 200
    assert response.json() == {"items": [{"id": "a"}], "next": None}
    assert response.headers["x-request-id"] == "req-1"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.content == b'{"items":[{"id":"a"}],"next":null}'  # compact
    replay.assert_all_used()
    assert replay.unused() == []


def test_sync_client_replays_json_get(tmp_path: Path) -> None:
    replay = _replay(tmp_path, LIST)
    with httpx.Client(transport=replay) as client:
        response = client.get(f"{BASE}?status=done&limit=2")  # order of keys does not matter
    assert response.json()["items"] == [{"id": "a"}]
    replay.assert_all_used()


def test_method_is_case_insensitive_and_default_port_is_implied(tmp_path: Path) -> None:
    replay = _replay(tmp_path, _interaction("get", "https://api.gladia.io:443/v2/live"))
    with httpx.Client(transport=replay) as client:
        assert client.get(BASE).status_code == 200


def test_repeated_query_keys_matter(tmp_path: Path) -> None:
    recorded = _interaction("GET", f"{BASE}?status=done&status=error")
    replay = _replay(tmp_path, recorded)
    with httpx.Client(transport=replay) as client:
        with pytest.raises(CassetteMismatch) as info:
            client.get(BASE, params={"status": "done"})
        assert "query: missing status=error" in str(info.value)
        # Same pairs in another order match.
        assert client.get(f"{BASE}?status=error&status=done").status_code == 200
    replay.assert_all_used()


def test_extra_and_missing_query_values_are_both_named(tmp_path: Path) -> None:
    replay = _replay(tmp_path, _interaction("GET", f"{BASE}?status=error&limit=2"))
    with httpx.Client(transport=replay) as client, pytest.raises(CassetteMismatch) as info:
        client.get(f"{BASE}?status=done&limit=2")
    assert "query: missing status=error; extra status=done" in str(info.value)


def test_rate_limited_then_ok_replays_in_order(tmp_path: Path) -> None:
    url = f"{BASE}/abc"
    replay = _replay(
        tmp_path,
        _interaction(
            "GET",
            url,
            status=429,
            response_headers={"content-type": "application/json", "retry-after": "1"},
            response_body={"json": {"message": "Too many requests"}},
        ),
        _interaction("GET", url, response_body={"json": {"id": "abc"}}),
    )
    with httpx.Client(transport=replay) as client:
        first = client.get(url)
        second = client.get(url)
        assert first.status_code == 429
        assert first.headers["retry-after"] == "1"
        assert second.status_code == 200
        assert second.json() == {"id": "abc"}
        with pytest.raises(CassetteMismatch, match=r"every recorded interaction \(2\) has already"):
            client.get(url)
    replay.assert_all_used()


def test_mismatch_names_closest_request_and_json_path(tmp_path: Path) -> None:
    replay = _replay(
        tmp_path,
        LIST,
        _interaction(
            "POST",
            BASE,
            request_body={"json": {"language_config": {"languages": ["fr"], "code_switching": 0}}},
        ),
    )
    with httpx.Client(transport=replay) as client, pytest.raises(CassetteMismatch) as info:
        client.post(BASE, json={"language_config": {"languages": ["en"], "code_switching": False}})
    message = str(info.value)
    assert "scenario.json" in message
    assert f"matches POST {BASE}" in message
    assert f"closest unused recorded request (interaction #1): POST {BASE}" in message
    assert "body: $.language_config.languages[0]: got 'en', recorded 'fr'" in message
    # false is not 0 in JSON.
    assert "$.language_config.code_switching: got False, recorded 0" in message


def test_mismatch_picks_the_closest_by_method_and_path(tmp_path: Path) -> None:
    replay = _replay(
        tmp_path,
        _interaction("POST", BASE, request_body={"json": {}}),
        _interaction("GET", f"{BASE}/other"),
        _interaction("GET", f"{BASE}?status=done&limit=5"),
    )
    with httpx.Client(transport=replay) as client, pytest.raises(CassetteMismatch) as info:
        client.get(f"{BASE}?status=done&limit=2")
    message = str(info.value)
    assert "interaction #2" in message
    assert "query: missing limit=5; extra limit=2" in message


def test_mismatch_message_hides_credentials(tmp_path: Path) -> None:
    replay = _replay(tmp_path, LIST)
    secret = "sekrit-value-123"
    with (
        httpx.Client(transport=ReplayTransport(replay.cassette)) as client,
        pytest.raises(CassetteMismatch) as info,
    ):
        client.get(f"https://user:pw@api.gladia.io/v2/live?token={secret}&limit=2")
    message = str(info.value)
    assert secret not in message
    assert "pw@" not in message
    assert "extra token=[REDACTED]" in message


def test_mismatch_message_hides_known_secrets_in_bodies(tmp_path: Path) -> None:
    secret = "known-secret-abcdef"
    cassette = _cassette(tmp_path, _interaction("POST", BASE, request_body={"json": {"a": "x"}}))
    replay = ReplayTransport(cassette, redactor=Redactor([secret]))
    with httpx.Client(transport=replay) as client, pytest.raises(CassetteMismatch) as info:
        client.post(BASE, json={"a": secret})
    assert secret not in str(info.value)
    assert "$.a: got '[REDACTED]'" in str(info.value)


def test_mismatch_diff_is_capped(tmp_path: Path) -> None:
    recorded = {f"k{i}": i for i in range(25)}
    replay = _replay(tmp_path, _interaction("POST", BASE, request_body={"json": recorded}))
    with httpx.Client(transport=replay) as client, pytest.raises(CassetteMismatch) as info:
        client.post(BASE, json={k: v + 1 for k, v in recorded.items()})
    message = str(info.value)
    assert message.count("  - body: $.k") == 10
    assert "... and 15 more" in message


def test_mismatch_is_an_assertion_not_a_network_error(tmp_path: Path) -> None:
    replay = _replay(tmp_path)
    with httpx.Client(transport=replay) as client, pytest.raises(AssertionError) as info:
        client.get(BASE)
    assert isinstance(info.value, CassetteMismatch)
    assert not isinstance(info.value, httpx.HTTPError)
    assert "the cassette has no interactions" in str(info.value)


def test_unused_interactions_fail_assert_all_used(tmp_path: Path) -> None:
    other = _interaction("DELETE", f"{BASE}/abc", status=204, response_headers={})
    replay = _replay(tmp_path, LIST, other)
    with httpx.Client(transport=replay) as client:
        client.get(f"{BASE}?limit=2&status=done")
    assert [i.request.method for i in replay.unused()] == ["DELETE"]
    with pytest.raises(CassetteMismatch) as info:
        replay.assert_all_used()
    message = str(info.value)
    assert "1 recorded interaction(s) in cassette" in message
    assert "scenario.json" in message
    assert f"#1: DELETE {BASE}/abc" in message
    assert "#0" not in message


@pytest.mark.anyio
async def test_chunk_size_streams_several_chunks(tmp_path: Path) -> None:
    body = "data: 1\n\ndata: 2\n\n"
    replay = _replay(
        tmp_path,
        _interaction(
            "GET",
            f"{BASE}/abc/events",
            response_headers={"content-type": "text/event-stream"},
            response_body={"text": body},
            chunk_size=4,
        ),
    )
    async with (
        httpx.AsyncClient(transport=replay) as client,
        client.stream("GET", f"{BASE}/abc/events") as response,
    ):
        chunks = [chunk async for chunk in response.aiter_bytes()]
    assert len(chunks) == 5
    assert all(len(c) == 4 for c in chunks[:-1])
    assert b"".join(chunks) == body.encode()
    assert response.headers["content-length"] == str(len(body))


def test_sync_streaming_and_whole_body_by_default(tmp_path: Path) -> None:
    replay = _replay(
        tmp_path,
        _interaction(
            "GET",
            f"{BASE}/a.wav",
            response_headers={"content-type": "audio/wav"},
            response_body={"base64": "AAECAwQFBgc="},
            chunk_size=3,
        ),
        _interaction(
            "GET",
            f"{BASE}/b.wav",
            response_headers={"content-type": "audio/wav"},
            response_body={"base64": "AAECAwQFBgc="},
        ),
    )
    with httpx.Client(transport=replay) as client:
        with client.stream("GET", f"{BASE}/a.wav") as response:
            assert list(response.iter_bytes()) == [b"\x00\x01\x02", b"\x03\x04\x05", b"\x06\x07"]
        with client.stream("GET", f"{BASE}/b.wav") as response:
            assert list(response.iter_bytes()) == [bytes(range(8))]


def test_null_body_matches_empty_body_only(tmp_path: Path) -> None:
    replay = _replay(tmp_path, _interaction("POST", f"{BASE}/abc/stop", status=202))
    with httpx.Client(transport=replay) as client:
        with pytest.raises(CassetteMismatch, match="body: got 2 bytes, recorded no body"):
            client.post(f"{BASE}/abc/stop", content=b"{}")
        assert client.post(f"{BASE}/abc/stop").status_code == 202


def test_text_and_binary_bodies(tmp_path: Path) -> None:
    replay = _replay(
        tmp_path,
        _interaction("POST", f"{BASE}/t", request_body={"text": "a,b\n1,2\n"}),
        _interaction("POST", f"{BASE}/b", request_body={"base64": "AAEC"}),
    )
    with httpx.Client(transport=replay) as client:
        with pytest.raises(CassetteMismatch, match="text differs at character 6"):
            client.post(f"{BASE}/t", content=b"a,b\n1,3\n")
        with pytest.raises(CassetteMismatch, match=r"got 3 bytes .* recorded 3 bytes"):
            client.post(f"{BASE}/b", content=b"\x00\x01\x03")
        assert client.post(f"{BASE}/t", content=b"a,b\n1,2\n").status_code == 200
        assert client.post(f"{BASE}/b", content=b"\x00\x01\x02").status_code == 200


def test_json_compared_as_parsed_json(tmp_path: Path) -> None:
    replay = _replay(
        tmp_path, _interaction("POST", BASE, request_body={"json": {"a": 1, "b": [2]}})
    )
    with httpx.Client(transport=replay) as client:
        response = client.post(BASE, content=b'{ "b" : [2.0], "a" : 1 }')
    assert response.status_code == 200


def test_match_list_limits_what_is_compared(tmp_path: Path) -> None:
    replay = _replay(
        tmp_path,
        _interaction(
            "POST",
            BASE,
            request_body={"json": {"any": "thing"}},
            match=["method", "url", "headers:accept"],
            request_headers={"accept": "application/json"},
        ),
    )
    with httpx.Client(transport=replay) as client:
        with pytest.raises(CassetteMismatch, match="header accept: got 'text/plain'"):
            client.post(BASE, json={"other": 1}, headers={"accept": "text/plain"})
        response = client.post(BASE, json={"other": 1}, headers={"accept": "application/json"})
    assert response.status_code == 200


def test_redacted_values_are_wildcards(tmp_path: Path) -> None:
    replay = _replay(
        tmp_path,
        _interaction(
            "POST",
            f"{BASE}/[REDACTED]/x?token=[REDACTED]&limit=1",
            request_body={"json": {"token": "[REDACTED]", "note": "Bearer [REDACTED]"}},
        ),
    )
    with httpx.Client(transport=replay) as client:
        response = client.post(
            f"{BASE}/s3cr3t/x?limit=1&token=abc",
            json={"token": "real-token", "note": "Bearer abcdefgh"},
        )
    assert response.status_code == 200


def _digest(data: bytes) -> dict[str, Any]:
    return {
        "filename": "chunk-0",
        "content_type": "application/octet-stream",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }


@pytest.mark.anyio
async def test_multipart_matching(tmp_path: Path) -> None:
    audio = b"\x00RIFF\r\n--not-a-boundary\r\n" * 10
    upload = _interaction(
        "POST",
        f"{BASE}/abc/chunks",
        request_body={
            "multipart": {
                "fields": {"chunk_seq": "0", "tag": ["x", "y"]},
                "files": {"chunk": _digest(audio)},
            }
        },
    )
    replay = _replay(tmp_path, upload, upload)
    async with httpx.AsyncClient(transport=replay) as client:
        ok = await client.post(
            f"{BASE}/abc/chunks",
            data={"chunk_seq": "0", "tag": ["x", "y"]},
            files={"chunk": ("chunk-0", audio, "application/octet-stream")},
        )
        assert ok.status_code == 200

        with pytest.raises(CassetteMismatch) as info:
            await client.post(
                f"{BASE}/abc/chunks",
                data={"chunk_seq": "1", "tag": ["x", "y"]},
                files={"chunk": ("chunk-0", audio[:-1] + b"!", "application/octet-stream")},
            )
    message = str(info.value)
    assert "multipart file 'chunk': sha256 got" in message
    assert "size got" not in message  # same size, different content
    assert "multipart field 'chunk_seq': got ['1'], recorded ['0']" in message
    assert replay.unused() == [replay.cassette.interactions[1]]


def test_multipart_mismatch_on_filename_and_non_multipart_body(tmp_path: Path) -> None:
    audio = b"abc"
    upload = _interaction(
        "POST",
        f"{BASE}/up",
        request_body={"multipart": {"fields": {}, "files": {"chunk": _digest(audio)}}},
    )
    replay = _replay(tmp_path, upload)
    with httpx.Client(transport=replay) as client:
        with pytest.raises(CassetteMismatch, match="filename got 'other'"):
            client.post(f"{BASE}/up", files={"chunk": ("other", audio, "application/octet-stream")})
        with pytest.raises(CassetteMismatch, match="recorded multipart/form-data, got a body"):
            client.post(f"{BASE}/up", json={"chunk": "abc"})


def test_parse_multipart_handles_quotes_preamble_and_crlf_in_data() -> None:
    request = httpx.Request(
        "POST",
        BASE,
        data={'na"me': "va\r\nlue"},
        files={"f": ('we"ird\\name.bin', b"\r\n\r\n--x", "application/x-thing")},
    )
    body = request.read()
    parts = parse_multipart(request.headers["content-type"], b"preamble\r\n" + body)
    assert [(p.name, p.filename, p.content_type, p.data) for p in parts] == [
        ('na"me', None, None, b"va\r\nlue"),
        ("f", 'we"ird\\name.bin', "application/x-thing", b"\r\n\r\n--x"),
    ]
    with pytest.raises(ValueError, match="no closing boundary"):
        parse_multipart(request.headers["content-type"], body[:-10])
    with pytest.raises(ValueError, match="not multipart"):
        parse_multipart("application/json", body)


def test_json_diff_paths() -> None:
    assert json_diff({"a": [1, {"b c": 2}], "x": 1}, {"a": [1, {"b c": 3}], "y": 1}) == [
        "$.y: missing (recorded 1)",
        "$.x: extra (got 1)",
        '$.a[1]["b c"]: got 2, recorded 3',
    ]
    assert json_diff([1, 2], [1]) == ["$: got 2 items, recorded 1"]
    assert json_diff(1, 1.0) == []
    assert json_diff(True, 1) == ["$: got True, recorded 1"]
    assert json_diff("abc", "a[REDACTED]") == []
