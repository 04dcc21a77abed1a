"""Mutated vendor answers: an ASGI middleware around any emulator that rewrites what it sends.

:class:`Mutator` sits between an emulator's app (``EmulatorHarness.app``) and the in-process
transport. While ``enabled``, the n-th answer it sees (an HTTP response, a chunk of an event
stream, a WebSocket message) is rewritten by the n-th :class:`Mutation` of its plan (cycling):
JSON bodies get wrong types, missing keys, nulls, huge numbers, NaN/inf, garbled or naive
timestamps, deep nesting, non-JSON or a cut-short body; any answer may become an HTML error
page or an unexpected status; event streams get broken framing; WebSocket messages become
unknown or garbage frames; CSV bodies get broken quoting, NULs, wrong columns and bad cells.

Everything is decided by the plan (kinds and integer seeds drawn by hypothesis), so a failing
example replays exactly and shrinks.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import attrs
from hypothesis import strategies as st
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The JSON mutations (applied to one value somewhere in the parsed body).
VALUE_KINDS = (
    "wrong_type",
    "drop_key",
    "null",
    "huge_int",
    "nan",
    "inf",
    "bad_timestamp",
    "naive_timestamp",
    "deep_value",
    "long_string",
)
#: Whole-body mutations (any content type).
BODY_KINDS = ("deep_body", "not_json", "truncate", "html_page", "status", "empty", "bytes")
#: Event-stream mutations (a chunk of ``text/event-stream``).
SSE_KINDS = ("sse_no_blank", "sse_bad_data", "sse_deep", "sse_huge_int", "sse_garbage", "sse_cut")
#: WebSocket message mutations.
WS_KINDS = ("ws_unknown", "ws_garbage", "ws_binary", "ws_not_object")
#: CSV body mutations.
CSV_KINDS = ("csv_quote", "csv_nul", "csv_columns", "csv_cells", "csv_not_utf8")

KINDS = ("none", *VALUE_KINDS, *BODY_KINDS, *SSE_KINDS, *WS_KINDS, *CSV_KINDS)

_STATUSES = (200, 201, 204, 299, 301, 302, 304, 400, 401, 403, 404, 405, 409, 410, 418, 422,
             429, 451, 500, 501, 502, 503, 504, 599)  # fmt: skip
_TIMESTAMPS = ("2024-13-45T99:99:99Z", "yesterday", "", "0000-00-00T00:00:00Z", "2024-02-30T10Z",
               "9999-12-31T23:59:59-23:59", "1e10", "2024-01-01T00:00:00+99:00")  # fmt: skip
_NAIVE = ("2024-01-02T03:04:05", "2024-01-02 03:04:05.123456789", "2024-01-02")
_HTML = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center>"
    b"<h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)


@attrs.frozen
class Mutation:
    """One rewrite: its ``kind`` (see :data:`KINDS`) and the ``seed`` choosing where/how."""

    kind: str
    seed: int


def mutations() -> st.SearchStrategy[Mutation]:
    return st.builds(Mutation, st.sampled_from(KINDS), st.integers(0, 2**32 - 1))


def plans() -> st.SearchStrategy[list[Mutation]]:
    """A plan: the rewrites of the answers, in order (cycled)."""
    return st.lists(mutations(), min_size=1, max_size=6)


# -- JSON values -------------------------------------------------------------------------------


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:20]):
            yield from _paths(item, (*path, index))


def _set(root: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = new
    return root


def mutate_value(data: Any, kind: str, rng: random.Random) -> Any:
    """``data`` (parsed JSON) with one value rewritten by ``kind``."""
    paths = list(_paths(data))
    path = rng.choice(paths)
    if kind == "drop_key":
        keyed = [p for p in paths if p and isinstance(p[-1], str)]
        if keyed:
            path = rng.choice(keyed)
            parent = data
            for step in path[:-1]:
                parent = parent[step]
            del parent[path[-1]]
            return data
        kind = "null"
    if kind == "wrong_type":
        new: Any = rng.choice(["text", 17, -1, 3.5, True, [], {}, [1, "a"], {"x": None}])
    elif kind == "null":
        new = None
    elif kind == "huge_int":
        new = rng.choice([10**400, -(10**400), 2**64, 10**30])
    elif kind == "nan":
        new = float("nan")
    elif kind == "inf":
        new = rng.choice([float("inf"), float("-inf"), 1e308 * 10])
    elif kind == "bad_timestamp":
        new = rng.choice(_TIMESTAMPS)
    elif kind == "naive_timestamp":
        new = rng.choice(_NAIVE)
    elif kind == "deep_value":  # 100,000 levels, put in textually by mutate_json
        return _set(data, path, "__DEEP__")
    else:  # long_string
        new = "x" * rng.choice([70_000, 1_000_000])
    return _set(data, path, new)


def mutate_json(body: bytes, kind: str, rng: random.Random) -> bytes:
    try:
        data = json.loads(body)
    except ValueError:
        return body
    data = mutate_value(data, kind, rng)
    text = json.dumps(data)  # NaN/Infinity/10**400 are written as Python writes them
    if "__DEEP__" in text:
        text = text.replace('"__DEEP__"', "[" * 100_000 + "]" * 100_000, 1)
    return text.encode()


# -- whole bodies ------------------------------------------------------------------------------


def mutate_body(
    status: int, headers: list[tuple[bytes, bytes]], body: bytes, m: Mutation
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One buffered HTTP answer rewritten by ``m`` (status, headers, body)."""
    rng = random.Random(m.seed)
    kind = m.kind
    content_type = _header(headers, b"content-type")
    if kind in VALUE_KINDS:
        if b"json" not in content_type:
            kind = "truncate"
        else:
            return status, headers, mutate_json(body, kind, rng)
    if kind in CSV_KINDS:
        if b"csv" not in content_type and b"text/plain" not in content_type:
            kind = "not_json"
        else:
            return status, headers, mutate_csv(body, kind, rng)
    if kind == "deep_body":
        return status, _typed(headers, b"application/json"), b"[" * 100_000 + b"]" * 99_999
    if kind == "not_json":
        return status, headers, rng.choice([b"{nope", b"undefined", b"\xff\xfe\x00garbage", b"[1,"])
    if kind == "truncate":
        return status, headers, body[: rng.randrange(0, max(1, len(body)))]
    if kind == "html_page":
        return rng.choice([200, 500, 502, 503]), _typed(headers, b"text/html"), _HTML
    if kind == "status":
        new = rng.choice(_STATUSES)
        extra: list[tuple[bytes, bytes]] = []
        if new == 429 or new == 503:
            extra.append((b"retry-after", rng.choice([b"nope", b"-5", b"1e400", b"0.01"])))
        return new, [*headers, *extra], body
    if kind == "empty":
        return status, headers, b""
    if kind == "bytes":
        return status, headers, rng.randbytes(rng.randrange(1, 300))
    return status, headers, body


def mutate_csv(body: bytes, kind: str, rng: random.Random) -> bytes:
    lines = body.split(b"\n")
    where = rng.randrange(0, len(lines))
    if kind == "csv_quote":
        lines[where] += b',"unterminated'
    elif kind == "csv_nul":
        lines[where] += b"\x00"
    elif kind == "csv_columns":
        lines[where] = b",".join([b"a"] * rng.randrange(0, 40))
    elif kind == "csv_cells":
        lines[where] = b",".join(
            rng.choice([b"nan", b"-1", b"1e400", b"9" * 5000, b"2024-13-99", b""]) for _ in range(8)
        )
    else:  # csv_not_utf8
        lines[where] += b"\xff\xfe\xc3"
    return b"\n".join(lines)


def mutate_sse(chunk: bytes, m: Mutation) -> bytes:
    """One chunk of an event stream rewritten by ``m``."""
    rng = random.Random(m.seed)
    kind = m.kind
    if kind == "sse_no_blank":
        return chunk.replace(b"\n\n", b"\n")
    if kind == "sse_bad_data":
        return chunk.replace(b"data: {", b"data: {{", 1) or b"data: {nope\n\n"
    if kind == "sse_deep":
        return b"event: final_transcript\ndata: " + b"[" * 100_000 + b"\n\n" + chunk
    if kind == "sse_huge_int":
        return b'event: final_transcript\ndata: {"start_ms": ' + b"9" * 401 + b"}\n\n" + chunk
    if kind == "sse_garbage":
        return rng.randbytes(rng.randrange(1, 200)) + b"\n\n" + chunk
    if kind == "sse_cut":
        return chunk[: rng.randrange(0, max(1, len(chunk)))]
    if kind in VALUE_KINDS:  # a value inside the event's JSON
        out = []
        for line in chunk.split(b"\n"):
            if line.startswith(b"data: {"):
                line = b"data: " + mutate_json(line[6:], kind, rng)
            out.append(line)
        return b"\n".join(out)
    return chunk


def mutate_ws(message: Message, m: Mutation) -> Message:
    """One WebSocket message (``websocket.send``) rewritten by ``m``."""
    rng = random.Random(m.seed)
    kind = m.kind
    text = message.get("text")
    if kind == "ws_unknown":
        return {"type": "websocket.send", "text": json.dumps({"type": "from_the_future", "x": 1})}
    if kind == "ws_garbage":
        return {"type": "websocket.send", "text": rng.choice(["{nope", "", "[[[", "null"])}
    if kind == "ws_binary":
        return {"type": "websocket.send", "bytes": rng.randbytes(rng.randrange(1, 64))}
    if kind == "ws_not_object":
        return {"type": "websocket.send", "text": rng.choice(["1", '"x"', "[1, 2]", "true"])}
    if kind == "deep_body":
        return {"type": "websocket.send", "text": "[" * 100_000}
    if kind in VALUE_KINDS and isinstance(text, str):
        return {"type": "websocket.send", "text": mutate_json(text.encode(), kind, rng).decode()}
    return message


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes:
    for key, value in headers:
        if key.lower() == name:
            return value.lower()
    return b""


def _typed(headers: list[tuple[bytes, bytes]], content_type: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.lower() != b"content-type"] + [
        (b"content-type", content_type)
    ]


class Mutator:
    """ASGI middleware rewriting an emulator's answers by a plan (see the module docstring).
    ``enabled`` switches it on and off; ``applied`` lists what was done (for messages)."""

    def __init__(self, app: ASGIApp, plan: list[Mutation]) -> None:
        self.app = app
        self.plan = plan
        self.enabled = False
        self.applied: list[str] = []
        self._count = 0

    def _next(self) -> Mutation | None:
        if not self.enabled:
            return None
        m = self.plan[self._count % len(self.plan)]
        self._count += 1
        return None if m.kind == "none" else m

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.app(scope, receive, self._ws_send(send))
        elif scope["type"] == "http":
            await self.app(scope, receive, self._http_send(send, scope.get("path", "")))
        else:
            await self.app(scope, receive, send)

    def _ws_send(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "websocket.send":
                m = self._next()
                if m is not None:
                    self.applied.append(f"ws:{m.kind}")
                    message = mutate_ws(message, m)
            await send(message)

        return wrapped

    def _http_send(self, send: Send, path: str) -> Send:
        start: Message | None = None
        chunks: list[bytes] = []
        streaming = False
        mutation: Mutation | None = None

        async def wrapped(message: Message) -> None:
            nonlocal start, streaming, mutation
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if b"text/event-stream" in _header(headers, b"content-type"):
                    streaming = True
                    await send(message)
                    return
                start = message
                mutation = self._next()
                if mutation is None:
                    start = None
                    await send(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            if streaming:
                body = message.get("body", b"")
                m = self._next() if body else None
                if m is not None:
                    self.applied.append(f"sse {path}:{m.kind}")
                    body = mutate_sse(body, m)
                await send({**message, "body": body})
                return
            if start is None:  # not mutated: pass through
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert mutation is not None
            self.applied.append(f"http {path}:{mutation.kind}")
            status, headers, body = mutate_body(
                start["status"], list(start.get("headers", [])), b"".join(chunks), mutation
            )
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        return wrapped
