"""WebSocket sessions in cassettes, replayed through httpx-ws.

The cassette format (:mod:`convoport.contracts.cassette`) reserves the top-level key
``"websocket"``. This module defines it and replays it.

Format
======

``"websocket"`` is a list of sessions, in the order they were opened (a reconnect to the same
URL is a second session)::

    "websocket": [
      {
        "url": "wss://api.gladia.io/v2/live?token=test-ws-token",
        "frames": [
          {"dir": "send", "type": "binary", "data": {"sha256": "…", "size": 32000}},
          {"dir": "recv", "type": "text", "data": {"type": "audio_chunk", "…": "…"}},
          {"dir": "send", "type": "text", "data": {"type": "stop_recording"}},
          {"dir": "recv", "type": "close", "data": {"code": 1000, "reason": ""}}
        ]
      }
    ]

``url`` (required)
    The absolute ``ws://``/``wss://`` URL, query included; no credentials (a token in the query
    is a placeholder such as ``test-…`` or ``[REDACTED]``, which matches anything).
``frames`` (required, ordered)
    ``dir`` is ``"send"`` (client to server) or ``"recv"`` (server to client); ``type`` is
    ``"text"``, ``"binary"`` or ``"close"``; ``data`` depends on the type:

    * text: a string (the frame's text as is) or any other JSON value (an object, a list: the
      frame is that JSON document, sent compactly as
      ``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``);
    * binary: standard base64 of the bytes, or — for ``send`` frames only — a digest
      ``{"sha256": "<64 lower-case hex>", "size": <bytes>}`` (audio need not be stored);
    * close: ``{"code": <int>, "reason": "<text>"}``.

Replay
======

:class:`WebSocketReplayApp` is an ASGI app that plays the sessions; :class:`CassetteTransport`
routes WebSocket upgrades to it (through :class:`convoport.sandbox.InProcessTransport`, which
httpx-ws drives as it drives a real socket) and every other request to the HTTP
:class:`~convoport.contracts.transport.ReplayTransport`. Each upgrade takes the first unused
session whose URL matches (scheme, host, port and path exactly, the query as a multiset; an
unmatched URL is refused with close code 4404). Then the frames play in order:

* ``recv`` frames are sent to the client;
* a ``send`` text frame waits for the client's next message, which must be text and equal
  (compared as JSON when both sides parse, else as text);
* ``send`` binary frames are compared as a **byte stream**, not frame by frame: the client may
  cut its audio differently (larger or smaller frames) as long as the concatenated bytes match
  the recorded frames, each recorded frame's slice checked by SHA-256 and size;
* a ``send`` close waits for the client to close (the code is compared);
* a ``recv`` close closes the socket with the recorded code and ends the session; client
  messages still in flight are ignored, as a real server that dropped them would.

Any difference is recorded, the socket is closed with code 4499, and
:meth:`CassetteTransport.assert_all_used` (like ``ReplayTransport.assert_all_used``) raises
:class:`~convoport.contracts.transport.CassetteMismatch` naming the session, the frame and what
differed, together with sessions never opened or not played to the end.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import attrs
import httpx
from starlette.types import Message, Receive, Scope, Send

from convoport.contracts.cassette import Cassette, CassetteError
from convoport.contracts.transport import CassetteMismatch, ReplayTransport
from convoport.redact import REDACTED, Redactor
from convoport.sandbox import InProcessTransport, is_websocket_request

#: The cassette's top-level key for WebSocket sessions.
WEBSOCKET_KEY = "websocket"
#: Close code the replay uses when the client does not do what the recording says.
MISMATCH_CLOSE_CODE = 4499
#: Close code the replay uses when no recorded session matches the URL.
NO_SESSION_CLOSE_CODE = 4404

_SHA256 = re.compile(r"[0-9a-f]{64}")

Direction = Literal["send", "recv"]
FrameType = Literal["text", "binary", "close"]


@attrs.frozen(kw_only=True)
class WebSocketFrame:
    """One recorded frame. Exactly one payload field is set for the type:

    * text: ``text`` (a verbatim string) or ``json`` (with ``is_json`` true);
    * binary: ``data`` (the bytes), or ``sha256``/``size`` (a digest, ``send`` only);
    * close: ``code`` and ``reason``.
    """

    dir: Direction
    type: FrameType
    text: str | None = None
    json: Any = None
    is_json: bool = False
    data: bytes | None = None
    sha256: str | None = None
    size: int | None = None
    code: int | None = None
    reason: str = ""

    def wire_text(self) -> str:
        """The text a text frame carries on the wire."""
        if self.is_json:
            return json.dumps(self.json, separators=(",", ":"), ensure_ascii=False)
        return self.text or ""

    def digest(self) -> tuple[str, int]:
        """(sha256, size) of a binary frame."""
        if self.data is not None:
            return hashlib.sha256(self.data).hexdigest(), len(self.data)
        assert self.sha256 is not None
        assert self.size is not None
        return self.sha256, self.size


@attrs.frozen(kw_only=True)
class WebSocketRecording:
    """One recorded WebSocket session: its URL and its frames in order."""

    url: str
    frames: tuple[WebSocketFrame, ...] = ()


# -- reading and writing --------------------------------------------------------------------


def websocket_sessions(cassette: Cassette) -> list[WebSocketRecording]:
    """The cassette's WebSocket sessions (``[]`` when it has none)."""
    raw = cassette.extensions.get(WEBSOCKET_KEY)
    if raw is None:
        return []
    return parse_websocket(raw, name=cassette.name)


def parse_websocket(value: Any, *, name: str = "<memory>") -> list[WebSocketRecording]:
    """Reads the ``"websocket"`` value; ``CassetteError`` names the session and frame."""
    if not isinstance(value, list):
        raise CassetteError(f"{name}: 'websocket' must be a list of sessions")
    sessions = []
    for s_index, item in enumerate(value):
        where = f"{name}: websocket[{s_index}]"
        if not isinstance(item, Mapping) or set(item) != {"url", "frames"}:
            raise CassetteError(f"{where} must be an object with exactly 'url' and 'frames'")
        url = item["url"]
        if not isinstance(url, str) or urlsplit(url).scheme not in ("ws", "wss"):
            raise CassetteError(f"{where}.url must be a ws:// or wss:// URL")
        frames = item["frames"]
        if not isinstance(frames, list):
            raise CassetteError(f"{where}.frames must be a list")
        parsed = tuple(_frame(f, f"{where}.frames[{i}]") for i, f in enumerate(frames))
        sessions.append(WebSocketRecording(url=url, frames=parsed))
    return sessions


def _frame(item: Any, where: str) -> WebSocketFrame:
    if not isinstance(item, Mapping) or set(item) != {"dir", "type", "data"}:
        raise CassetteError(f"{where} must be an object with exactly 'dir', 'type' and 'data'")
    direction, kind, data = item["dir"], item["type"], item["data"]
    if direction not in ("send", "recv"):
        raise CassetteError(f"{where}.dir must be 'send' or 'recv'")
    if kind == "text":
        if isinstance(data, str):
            return WebSocketFrame(dir=direction, type="text", text=data)
        return WebSocketFrame(dir=direction, type="text", json=data, is_json=True)
    if kind == "binary":
        if isinstance(data, str):
            try:
                raw = base64.b64decode(data.encode("ascii"), validate=True)
            except (binascii.Error, UnicodeEncodeError):
                raise CassetteError(f"{where}.data is not valid base64") from None
            return WebSocketFrame(dir=direction, type="binary", data=raw)
        if (
            direction == "send"
            and isinstance(data, Mapping)
            and set(data) == {"sha256", "size"}
            and isinstance(data["sha256"], str)
            and _SHA256.fullmatch(data["sha256"])
            and isinstance(data["size"], int)
            and data["size"] >= 0
        ):
            return WebSocketFrame(
                dir=direction, type="binary", sha256=data["sha256"], size=data["size"]
            )
        raise CassetteError(
            f"{where}.data must be base64, or for a 'send' frame {{'sha256': <hex>, 'size': <int>}}"
        )
    if kind == "close":
        if (
            not isinstance(data, Mapping)
            or set(data) != {"code", "reason"}
            or not isinstance(data["code"], int)
            or not isinstance(data["reason"], str)
        ):
            raise CassetteError(f"{where}.data must be {{'code': <int>, 'reason': <str>}}")
        return WebSocketFrame(dir=direction, type="close", code=data["code"], reason=data["reason"])
    raise CassetteError(f"{where}.type must be 'text', 'binary' or 'close'")


def frame_to_json(frame: WebSocketFrame) -> dict[str, Any]:
    """The JSON form of a frame."""
    data: Any
    if frame.type == "text":
        data = frame.json if frame.is_json else frame.text
    elif frame.type == "binary":
        if frame.data is not None:
            data = base64.b64encode(frame.data).decode("ascii")
        else:
            data = {"sha256": frame.sha256, "size": frame.size}
    else:
        data = {"code": frame.code, "reason": frame.reason}
    return {"dir": frame.dir, "type": frame.type, "data": data}


def websocket_to_json(sessions: Sequence[WebSocketRecording]) -> list[dict[str, Any]]:
    """The ``"websocket"`` value for ``sessions``."""
    return [{"url": s.url, "frames": [frame_to_json(f) for f in s.frames]} for s in sessions]


def text_frame(direction: Direction, text: str) -> WebSocketFrame:
    """A text frame, stored as JSON when ``text`` is a JSON object or list."""
    try:
        value = json.loads(text)
    except ValueError:
        return WebSocketFrame(dir=direction, type="text", text=text)
    if isinstance(value, (dict, list)):
        return WebSocketFrame(dir=direction, type="text", json=value, is_json=True)
    return WebSocketFrame(dir=direction, type="text", text=text)


# -- replay -------------------------------------------------------------------------------


def _url_key(url: str) -> tuple[str, str, int | None, str, list[tuple[str, str]]]:
    parts = urlsplit(url)
    port = parts.port or {"ws": 80, "wss": 443, "http": 80, "https": 443}.get(parts.scheme)
    return (
        parts.scheme,
        (parts.hostname or "").lower(),
        port,
        parts.path,
        sorted(parse_qsl(parts.query, keep_blank_values=True)),
    )


def _wild(recorded: str, actual: str) -> bool:
    if REDACTED not in recorded:
        return recorded == actual
    pattern = ".*".join(re.escape(p) for p in recorded.split(REDACTED))
    return re.fullmatch(pattern, actual, flags=re.DOTALL) is not None


def urls_match(recorded: str, actual: str) -> bool:
    """Whether a recorded WebSocket URL matches an actual one (``[REDACTED]`` is a wildcard)."""
    r, a = _url_key(recorded), _url_key(actual)
    if r[:4] != a[:4] or len(r[4]) != len(a[4]):
        return False
    remaining = list(a[4])
    for name, value in r[4]:
        for index, (a_name, a_value) in enumerate(remaining):
            if a_name == name and _wild(value, a_value):
                del remaining[index]
                break
        else:
            return False
    return True


def _scope_url(scope: Scope) -> str:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    host = headers.get("host")
    if host is None:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scope.get('scheme', 'ws')}://{host}{scope['path']}" + (f"?{query}" if query else "")


def _same_text(got: str, recorded: WebSocketFrame) -> bool:
    if recorded.is_json:
        try:
            return bool(json.loads(got) == recorded.json)
        except ValueError:
            return False
    if got == recorded.text:
        return True
    try:
        return bool(json.loads(got) == json.loads(recorded.text or ""))
    except ValueError:
        return False


class _Mismatch(Exception):
    pass


class WebSocketReplayApp:
    """An ASGI app playing recorded WebSocket sessions (see the module docstring)."""

    def __init__(
        self,
        sessions: Sequence[WebSocketRecording],
        *,
        name: str = "<memory>",
        redactor: Redactor | None = None,
    ) -> None:
        self.sessions = list(sessions)
        self.name = name
        self._redactor = redactor or Redactor()
        self._used = [False] * len(self.sessions)
        self._done = [False] * len(self.sessions)
        self.errors: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b"not a websocket request"})
            return
        url = _scope_url(scope)
        index = next(
            (
                i
                for i, s in enumerate(self.sessions)
                if not self._used[i] and urls_match(s.url, url)
            ),
            None,
        )
        await receive()  # websocket.connect
        if index is None:
            self.errors.append(
                f"no unused recorded websocket session matches {self._redactor.url(url)} "
                f"(recorded: {', '.join(self._redactor.url(s.url) for s in self.sessions)})"
            )
            await send({"type": "websocket.close", "code": NO_SESSION_CLOSE_CODE, "reason": ""})
            return
        self._used[index] = True
        await send({"type": "websocket.accept"})
        try:
            await self._play(index, receive, send)
        except _Mismatch as exc:
            self.errors.append(f"websocket[{index}]: {exc}")
            with contextlib.suppress(Exception):
                await send(
                    {
                        "type": "websocket.close",
                        "code": MISMATCH_CLOSE_CODE,
                        "reason": "cassette mismatch",
                    }
                )

    async def _play(self, index: int, receive: Receive, send: Send) -> None:
        pending = bytearray()
        audio_offset = 0
        frames = self.sessions[index].frames
        for f_index, frame in enumerate(frames):
            where = f"frame #{f_index}"
            if frame.dir == "recv":
                if frame.type == "close":
                    await send(
                        {"type": "websocket.close", "code": frame.code, "reason": frame.reason}
                    )
                    self._done[index] = True
                    return
                if frame.type == "text":
                    await send({"type": "websocket.send", "text": frame.wire_text()})
                else:
                    await send({"type": "websocket.send", "bytes": frame.data or b""})
                continue
            if frame.type == "binary":
                sha, size = frame.digest()
                while len(pending) < size:
                    kind, value = await self._client(receive)
                    if kind != "bytes":
                        raise _Mismatch(
                            f"{where}: expected {size - len(pending)} more audio bytes, "
                            f"the client sent {kind}"
                        )
                    pending += value
                piece = bytes(pending[:size])
                del pending[:size]
                if hashlib.sha256(piece).hexdigest() != sha:
                    raise _Mismatch(
                        f"{where}: the {size} audio bytes from offset {audio_offset} differ "
                        "from the recording"
                    )
                audio_offset += size
                continue
            if pending:
                raise _Mismatch(
                    f"{where}: the client sent {len(pending)} audio bytes more than recorded "
                    f"(after offset {audio_offset})"
                )
            kind, value = await self._client(receive)
            if frame.type == "text":
                if kind != "text":
                    raise _Mismatch(f"{where}: expected a text frame, the client sent {kind}")
                if not _same_text(value, frame):
                    raise _Mismatch(
                        f"{where}: text differs: got {self._redactor.text(value)[:200]!r}, "
                        f"recorded {self._redactor.text(frame.wire_text())[:200]!r}"
                    )
            elif kind != "close" or (frame.code is not None and value != frame.code):
                raise _Mismatch(f"{where}: expected the client to close ({frame.code}), got {kind}")
            else:
                self._done[index] = True
                return
        if pending:
            raise _Mismatch(f"the client sent {len(pending)} audio bytes more than recorded")
        self._done[index] = True
        await send({"type": "websocket.close", "code": 1000, "reason": ""})

    @staticmethod
    async def _client(receive: Receive) -> tuple[str, Any]:
        message: Message = await receive()
        if message["type"] == "websocket.disconnect":
            return "close", message.get("code", 1000)
        if message.get("bytes") is not None:
            return "bytes", message["bytes"]
        return "text", message.get("text") or ""

    def problems(self) -> list[str]:
        """Every difference seen and every session not opened or not played to the end."""
        lines = list(self.errors)
        for index, session in enumerate(self.sessions):
            url = self._redactor.url(session.url)
            if not self._used[index]:
                lines.append(f"websocket[{index}] ({url}) was never opened")
            elif not self._done[index] and not any(
                e.startswith(f"websocket[{index}]") for e in self.errors
            ):
                lines.append(f"websocket[{index}] ({url}) was not played to the end")
        return lines

    def assert_all_used(self) -> None:
        """Raises ``CassetteMismatch`` listing :meth:`problems`."""
        problems = self.problems()
        if problems:
            raise CassetteMismatch(
                f"websocket replay of cassette {self.name} failed:\n"
                + "\n".join(f"  - {p}" for p in problems)
            )


class CassetteTransport(httpx.AsyncBaseTransport):
    """Replays a whole cassette: WebSocket upgrades from its ``"websocket"`` sessions, every
    other request through :class:`~convoport.contracts.transport.ReplayTransport`."""

    def __init__(self, cassette: Cassette, *, redactor: Redactor | None = None) -> None:
        self.cassette = cassette
        self.http = ReplayTransport(cassette, redactor=redactor)
        self.websocket = WebSocketReplayApp(
            websocket_sessions(cassette), name=cassette.name, redactor=redactor
        )
        self._ws = InProcessTransport(self.websocket)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if is_websocket_request(request):
            return await self._ws.handle_async_request(request)
        return await self.http.handle_async_request(request)

    def assert_all_used(self) -> None:
        """Fails on unused HTTP interactions, then on WebSocket problems."""
        self.http.assert_all_used()
        self.websocket.assert_all_used()

    async def aclose(self) -> None:
        await self._ws.aclose()


def replay_transport(cassette: Cassette, *, redactor: Redactor | None = None) -> CassetteTransport:
    """The transport that replays ``cassette``, WebSocket sessions included."""
    return CassetteTransport(cassette, redactor=redactor)


__all__ = [
    "MISMATCH_CLOSE_CODE",
    "NO_SESSION_CLOSE_CODE",
    "WEBSOCKET_KEY",
    "CassetteTransport",
    "InProcessTransport",
    "WebSocketFrame",
    "WebSocketRecording",
    "WebSocketReplayApp",
    "frame_to_json",
    "is_websocket_request",
    "parse_websocket",
    "replay_transport",
    "text_frame",
    "urls_match",
    "websocket_sessions",
    "websocket_to_json",
]
