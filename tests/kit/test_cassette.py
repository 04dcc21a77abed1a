"""The cassette file format: loading, validation and byte-stable saving."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from convoport.contracts.cassette import (
    CASSETTE_VERSION,
    BinaryBody,
    Cassette,
    CassetteError,
    Interaction,
    JsonBody,
    MultipartBody,
    MultipartFile,
    RecordedRequest,
    RecordedResponse,
    TextBody,
    load_cassette,
    loads_cassette,
)
from convoport.errors import ConvoportError


def _canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _full_document() -> dict[str, Any]:
    audio = b"\x00\x01RIFF\xff"
    return {
        "convoport_cassette": 1,
        "meta": {
            "provider": "gladia",
            "scenario": "get_session_completed",
            "source": "written from the vendor reference (no vendor account was used)",
            "args": {"session_id": "abc", "limit": 2, "note": "Grüße, 東京"},
        },
        "interactions": [
            {
                "request": {
                    "method": "GET",
                    "url": "https://api.gladia.io/v2/live?limit=2&status=done&status=error",
                    "headers": {"accept": "application/json"},
                    "body": None,
                },
                "response": {
                    "status": 429,
                    "headers": {"content-type": "application/json", "retry-after": "1"},
                    "body": {"json": {"message": "slow down", "ratio": 1.5, "ok": False}},
                },
            },
            {
                "request": {
                    "method": "POST",
                    "url": "https://api.gladia.io/v2/live/abc/chunks",
                    "headers": {"content-type": "multipart/form-data"},
                    "body": {
                        "multipart": {
                            "fields": {"chunk_seq": "0", "tag": ["a", "b"]},
                            "files": {
                                "chunk": {
                                    "filename": "chunk-0",
                                    "content_type": "application/octet-stream",
                                    "sha256": hashlib.sha256(audio).hexdigest(),
                                    "size": len(audio),
                                }
                            },
                        }
                    },
                    "match": ["method", "url", "body", "headers:content-type"],
                },
                "response": {
                    "status": 200,
                    "headers": {"content-type": "text/event-stream", "x-ratelimit-remaining": "9"},
                    "body": {"text": "event: done\ndata: {}\n\n"},
                    "chunk_size": 4,
                },
            },
            {
                "request": {
                    "method": "GET",
                    "url": "https://api.gladia.io/v2/live/abc/file",
                    "headers": {},
                    "body": None,
                },
                "response": {
                    "status": 200,
                    "headers": {"content-type": "audio/wav", "content-length": str(len(audio))},
                    "body": {"base64": base64.b64encode(audio).decode()},
                },
            },
        ],
        "websocket": [{"direction": "send", "json": {"type": "stop_recording"}}],
    }


def test_load_then_save_is_byte_stable(tmp_path: Path) -> None:
    text = _canonical(_full_document())
    source = tmp_path / "in.json"
    source.write_text(text, encoding="utf-8")

    cassette = load_cassette(source)
    assert cassette.dumps() == text
    target = tmp_path / "nested" / "out.json"
    cassette.save(target)
    assert target.read_bytes() == source.read_bytes()
    assert target.read_bytes().endswith(b"}\n")
    assert "東京".encode() in target.read_bytes()  # ensure_ascii=False


def test_loaded_model_reflects_the_file(tmp_path: Path) -> None:
    source = tmp_path / "c.json"
    source.write_text(_canonical(_full_document()), encoding="utf-8")
    cassette = load_cassette(source)

    assert cassette.version == CASSETTE_VERSION
    assert cassette.path == source
    assert cassette.meta["scenario"] == "get_session_completed"
    assert cassette.extensions == {
        "websocket": [{"direction": "send", "json": {"type": "stop_recording"}}]
    }
    first, second, third = cassette.interactions
    assert first.request.body is None
    assert first.request.match is None
    assert first.request.match_on == ("method", "url", "body")
    assert first.response.body == JsonBody(
        value={"message": "slow down", "ratio": 1.5, "ok": False}
    )
    assert isinstance(second.request.body, MultipartBody)
    assert second.request.body.fields == {"chunk_seq": ("0",), "tag": ("a", "b")}
    assert second.request.body.files["chunk"][0].filename == "chunk-0"
    assert second.request.match_on[-1] == "headers:content-type"
    assert second.response.chunk_size == 4
    assert second.response.body == TextBody(text="event: done\ndata: {}\n\n")
    assert third.response.body == BinaryBody(data=b"\x00\x01RIFF\xff")
    assert third.response.content() == b"\x00\x01RIFF\xff"


def test_built_cassette_round_trips() -> None:
    digest = MultipartFile(filename=None, content_type=None, sha256="0" * 64, size=0)
    cassette = Cassette(
        meta={"provider": "syllable"},
        interactions=(
            Interaction(
                request=RecordedRequest(
                    method="PUT",
                    url="https://api.syllable.ai/x?a=1",
                    body=MultipartBody(fields={"f": ("1",)}, files={"g": (digest, digest)}),
                ),
                response=RecordedResponse(status=204),
            ),
            Interaction(
                request=RecordedRequest(
                    method="POST", url="https://api.syllable.ai/y", body=JsonBody(value=None)
                ),
                response=RecordedResponse(status=200, body=JsonBody(value=[1, "two", None])),
            ),
        ),
    )
    text = cassette.dumps()
    again = loads_cassette(text)
    assert again == cassette
    assert again.dumps() == text
    # {"json": null} is a JSON document, not the absence of a body.
    assert json.loads(text)["interactions"][1]["request"]["body"] == {"json": None}


def _write(tmp_path: Path, document: Any, name: str = "broken.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_missing_version_names_the_file_and_supported_versions(tmp_path: Path) -> None:
    document = _full_document()
    del document["convoport_cassette"]
    path = _write(tmp_path, document, "no_version.json")
    with pytest.raises(CassetteError) as info:
        load_cassette(path)
    message = str(info.value)
    assert "no_version.json" in message
    assert "convoport_cassette" in message
    assert "supported versions: 1" in message
    assert isinstance(info.value, ConvoportError)
    assert info.value.path == path


@pytest.mark.parametrize("version", [2, 0, "1", True, None])
def test_unsupported_version_is_refused(tmp_path: Path, version: Any) -> None:
    document = _full_document()
    document["convoport_cassette"] = version
    path = _write(tmp_path, document, "future.json")
    with pytest.raises(CassetteError) as info:
        load_cassette(path)
    message = str(info.value)
    assert "future.json" in message
    assert f"version {version!r}" in message
    assert "supported versions: 1" in message


def test_not_json_reports_the_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "convoport_cassette": 1,\n  oops\n}\n', encoding="utf-8")
    with pytest.raises(CassetteError, match=r"bad\.json is not valid JSON: .* line 3"):
        load_cassette(path)


def test_missing_required_top_level_key(tmp_path: Path) -> None:
    document = _full_document()
    del document["interactions"]
    with pytest.raises(CassetteError, match="'interactions' is missing"):
        load_cassette(_write(tmp_path, document))


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["request"].pop("url"), r"interaction #1 request: .*'url' is missing"),
        (
            lambda d: d["response"].__setitem__("body", {"json": 1, "text": "x"}),
            r"interaction #1 response: 'body' must be null or an object with exactly one of",
        ),
        (
            lambda d: d["response"].__setitem__("body", {"xml": "<a/>"}),
            r"interaction #1 response: 'body' must be null or an object with exactly one of",
        ),
        (
            lambda d: d["response"].__setitem__("body", {"base64": "***"}),
            r"not valid base64",
        ),
        (
            lambda d: d["response"].__setitem__("body", {"multipart": {"fields": {}}}),
            r"exactly one of 'json', 'text', 'base64'",
        ),
        (
            lambda d: d["request"]["headers"].__setitem__("authorization", "Bearer x"),
            r"interaction #1 request: header 'authorization' is not in the allow-list",
        ),
        (
            lambda d: d["request"]["headers"].__setitem__("content-length", "3"),
            r"header 'content-length' is not in the allow-list",
        ),
        (
            lambda d: d["response"]["headers"].__setitem__("Content-Type", "a/b"),
            r"header name 'Content-Type' must be lower case",
        ),
        (lambda d: d["response"].__setitem__("status", 99), r"'status' must be an integer"),
        (lambda d: d["response"].__setitem__("chunk_size", 0), r"'chunk_size' must be a positive"),
        (lambda d: d["request"].__setitem__("match", ["query"]), r"'match' entry 'query'"),
        (lambda d: d["request"].__setitem__("matches", ["url"]), r"unknown key\(s\) 'matches'"),
        (
            lambda d: d["request"].__setitem__("url", "/v2/live"),
            r"'url' must be absolute",
        ),
        (
            lambda d: d["request"].__setitem__("url", "https://u:p@api.gladia.io/v2"),
            r"must not carry user info",
        ),
    ],
)
def test_invalid_interaction_names_file_and_index(
    tmp_path: Path, mutate: Any, expected: str
) -> None:
    document = _full_document()
    mutate(document["interactions"][1])
    path = _write(tmp_path, document, "scenario.json")
    with pytest.raises(CassetteError, match=expected) as info:
        load_cassette(path)
    assert "scenario.json" in str(info.value)
    assert "interaction #1" in str(info.value)


def test_invalid_multipart_digest(tmp_path: Path) -> None:
    document = _full_document()
    files = document["interactions"][1]["request"]["body"]["multipart"]["files"]
    files["chunk"]["sha256"] = "not-hex"
    with pytest.raises(CassetteError, match=r"'sha256' must be 64 lower-case hex digits"):
        load_cassette(_write(tmp_path, document))


def test_empty_interaction_list_is_a_valid_cassette() -> None:
    cassette = loads_cassette('{"convoport_cassette": 1, "meta": {}, "interactions": []}')
    assert cassette.interactions == ()
    assert cassette.name == "<memory>"
