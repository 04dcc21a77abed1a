"""The Murmur emulator's participants, chat, recordings and media host (a mixin).

:class:`MurmurMediaMixin` adds to the emulator harness what the kit's participants, chat and
recording scenarios need, from the seeded calls:

* ``GET /v1/calls/{id}/participants``, ``/messages`` and ``/recordings`` on the API host;
* the media host ``https://media.murmur.example``: ``GET /r/{recording_id}?exp=…&sig=…``
  serves a one-second WAV. Each listing of recordings signs a fresh link (``sig`` and ``exp``
  from a counter, so runs are reproducible; ``exp`` far in the future, one second later for
  each new link). The host refuses a request
  that carries an ``Authorization`` header (400: pre-signed links take no token), an unknown
  signature (403) and an expired link (403); it honours ``Range: bytes=N-`` with 206;
* the fault ``expire_links_mid_download`` (the kit's ``signed_link_refreshed`` scenario sets
  it to 1): the next download ends after half of its bytes (the declared ``Content-Length``
  is the whole file's) and its link expires, so the client must ask for a fresh link and
  resume with ``Range``.
"""

import hashlib
import io
import math
import struct
import wave
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MEDIA_HOST = "media.murmur.example"
#: When the first link expires (2099-01-01T00:00:00Z, epoch seconds); each next one a second later.
LINK_EXPIRY = 4070908800
AUDIO_SECONDS = 1.0
AUDIO_RATE = 8000


def call_audio(call_id: str) -> bytes:
    """The WAV bytes of a call's recording: a tone whose pitch depends on the call."""
    pitch = 200 + int(hashlib.sha256(call_id.encode()).hexdigest()[:2], 16)
    frames = int(AUDIO_SECONDS * AUDIO_RATE)
    samples = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * pitch * n / AUDIO_RATE)))
        for n in range(frames)
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(AUDIO_RATE)
        wav.writeframes(samples)
    return out.getvalue()


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status)


class MurmurMediaMixin:
    """Mixed into the emulator harness (a :class:`convoport.sandbox.EmulatorHarness`, which
    provides ``check_auth``), which holds ``calls`` (id -> call)."""

    calls: dict[str, dict[str, Any]]
    check_auth: Callable[[Request], Response | None]
    #: fault: how many next downloads end half-way with their link expired
    expire_links_mid_download: int = 0

    # -- state ------------------------------------------------------------------------------

    def _media(self) -> dict[str, Any]:
        state: dict[str, Any] | None = self.__dict__.get("_media_state")
        if state is None:
            state = {"serial": 0, "links": {}, "expired": set()}
            self.__dict__["_media_state"] = state
        return state

    def _ready(self, call_id: str) -> bool:
        return self.calls[call_id]["state"] == "ready"

    def _sign(self, recording_id: str) -> tuple[str, int]:
        """A fresh signature and expiry (epoch seconds) for a link to ``recording_id``."""
        state = self._media()
        state["serial"] += 1
        sig = hashlib.sha256(f"{recording_id}:{state['serial']}".encode()).hexdigest()[:24]
        state["links"][sig] = recording_id
        return sig, LINK_EXPIRY + state["serial"] - 1

    # -- the kit's data ---------------------------------------------------------------------

    def media_scenario_args(self, scenario: str) -> dict[str, Any] | None:
        """Arguments for the kit scenarios this mixin serves (None for the others)."""
        ready = next(c for c in self.calls.values() if c["state"] == "ready")
        call = {"session_id": ready["id"]}
        digest = hashlib.sha256(call_audio(ready["id"])).hexdigest()
        args: dict[str, dict[str, Any]] = {
            "list_sessions_three_pages": {"page_size": 2},
            "list_participants": call,
            "list_chat": call,
            "list_recordings": call,
            "download_recording": {**call, "sha256": digest},
            "download_signed_recording": {**call, "sha256": digest},
            "signed_link_refreshed": {**call, "sha256": digest},
        }
        return args.get(scenario)

    # -- routes -----------------------------------------------------------------------------

    def media_routes(self) -> list[Route]:
        return [
            Route("/v1/calls/{call_id}/participants", self._participants),
            Route("/v1/calls/{call_id}/messages", self._messages),
            Route("/v1/calls/{call_id}/recordings", self._recordings),
            Route("/r/{recording_id}", self._download),
        ]

    def _call_or_error(self, request: Request) -> Response | str:
        if request.url.hostname == MEDIA_HOST:
            return _error(404, "not_found", "the media host serves recordings only")
        denied = self.check_auth(request)
        if denied is not None:
            return denied
        call_id = request.path_params["call_id"]
        if call_id not in self.calls:
            return _error(404, "not_found", "no such call")
        return str(call_id)

    async def _participants(self, request: Request) -> Response:
        call_id = self._call_or_error(request)
        if isinstance(call_id, Response):
            return call_id
        call = self.calls[call_id]
        people = [
            {
                "id": f"{call_id}-agent",
                "name": "Avery (agent)",
                "role": "agent",
                "joined_at": call["started_at"],
                "left_at": call["ended_at"],
            },
            {
                "id": f"{call_id}-caller",
                "name": "Casey",
                "role": "caller",
                "joined_at": call["started_at"],
                "left_at": call["ended_at"],
            },
        ]
        return JSONResponse({"data": people})

    async def _messages(self, request: Request) -> Response:
        call_id = self._call_or_error(request)
        if isinstance(call_id, Response):
            return call_id
        day = self.calls[call_id]["started_at"][:10]
        texts = ["hi, can you hear me?", "yes, loud and clear", "sending the invoice link now"]
        messages = [
            {
                "id": f"{call_id}-m{n}",
                "author_id": f"{call_id}-{'caller' if n % 2 == 0 else 'agent'}",
                "author_name": "Casey" if n % 2 == 0 else "Avery (agent)",
                "text": text,
                "sent_at": f"{day}T09:0{n + 1}:00Z",
            }
            for n, text in enumerate(texts)
        ]
        return JSONResponse({"data": messages})

    async def _recordings(self, request: Request) -> Response:
        call_id = self._call_or_error(request)
        if isinstance(call_id, Response):
            return call_id
        if not self._ready(call_id):
            return JSONResponse({"data": []})
        recording_id = f"{call_id}-rec"
        sig, expires = self._sign(recording_id)
        item = {
            "id": recording_id,
            "content_type": "audio/wav",
            "size": len(call_audio(call_id)),
            "duration_ms": int(AUDIO_SECONDS * 1000),
            "url": f"https://{MEDIA_HOST}/r/{recording_id}?exp={expires}&sig={sig}",
            "url_expires_at": datetime.fromtimestamp(expires, UTC).isoformat(),
        }
        return JSONResponse({"data": [item]})

    async def _download(self, request: Request) -> Response:
        if request.url.hostname != MEDIA_HOST:
            return _error(404, "not_found", "no such route")
        if "authorization" in request.headers:
            return _error(400, "invalid", "pre-signed links take no Authorization header")
        state = self._media()
        sig = request.query_params.get("sig", "")
        recording_id = request.path_params["recording_id"]
        if state["links"].get(sig) != recording_id:
            return _error(403, "forbidden", "bad signature")
        if sig in state["expired"]:
            return _error(403, "forbidden", "the link has expired")
        data = call_audio(recording_id.removesuffix("-rec"))
        headers = {"content-type": "audio/wav", "accept-ranges": "bytes"}
        ranged = request.headers.get("range", "")
        if ranged.startswith("bytes=") and ranged.endswith("-"):
            start = int(ranged[len("bytes=") : -1] or 0)
            headers["content-range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            return Response(data[start:], status_code=206, headers=headers)
        if self.expire_links_mid_download > 0:
            self.expire_links_mid_download -= 1
            state["expired"].add(sig)
            headers["content-length"] = str(len(data))  # the whole file; half of it is sent
            return Response(data[: len(data) // 2], headers=headers)
        return Response(data, headers=headers)
