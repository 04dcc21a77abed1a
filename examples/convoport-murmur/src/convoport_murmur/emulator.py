"""An in-process Murmur Notes emulator: seeded calls, cursor pagination, bearer auth, faults."""

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from convoport.sandbox import EmulatorHarness
from convoport_murmur.media import MurmurMediaMixin

TOKEN = "sandbox-token"
STATES = ["ready", "ready", "transcribing", "ready", "failed", "recording", "ready"]
WORDS = ["hello", "thanks", "for", "calling", "murmur", "how", "can", "we", "help", "today"]
_KINDS = {401: "unauthorized", 404: "not_found"}


def _seed() -> dict[str, dict[str, Any]]:
    calls = {}
    for i, state in enumerate(STATES):
        call_id = f"call_{i:03d}"
        calls[call_id] = {
            "id": call_id,
            "state": state,
            "started_at": f"2026-10-{i + 1:02d}T09:00:00Z",
            "ended_at": None if state == "recording" else f"2026-10-{i + 1:02d}T09:05:00Z",
            "duration_ms": None if state == "recording" else 300_000,
            "title": f"Call {i}",
            "tags": {"team": "support" if i % 2 else "sales"},
        }
    return calls


class MurmurEmulator(MurmurMediaMixin, EmulatorHarness):
    """The harness the kit, ``sandbox=True`` and ``convoport emulate murmur`` use: the hooks
    of :class:`convoport.sandbox.EmulatorHarness` set for Murmur (bearer token, its error
    envelope), and three routes."""

    provider = "murmur"
    base_url = "https://api.murmur.example"
    sandbox_key = TOKEN
    credential_option = "api_token"
    credential_header = "authorization"
    credential_scheme = "Bearer"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.calls = _seed()

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/v1/calls", self._list),
            Route("/v1/calls/{call_id}", self._get),
            Route("/v1/calls/{call_id}/transcript", self._transcript),
            *self.media_routes(),
        ]

    def error_body(self, status: int, message: str, *, path: str = "", **extra: Any) -> Any:
        return {"error": {"type": _KINDS.get(status, "unavailable"), "message": message}}

    def auth_failure_message(self, presented: str | None) -> str:
        return "invalid token"

    def fault_message(self, status: int) -> str:
        return "try again"

    def scenario_args(self, scenario: str) -> dict[str, Any] | None:
        ready = next(c for c in self.calls.values() if c["state"] == "ready")
        args: dict[str, dict[str, Any]] = {
            "list_sessions_two_pages": {"page_size": 3},
            "get_session_completed": {"session_id": ready["id"]},
            "get_session_not_found": {"session_id": "call_999"},
            "get_transcript": {"session_id": ready["id"]},
            "rate_limited_then_ok": {"session_id": ready["id"]},
            "server_error_then_ok": {"session_id": ready["id"]},
            "auth_failure": {"session_id": ready["id"]},
        }
        return args.get(scenario) or self.media_scenario_args(scenario)

    async def _list(self, request: Request) -> Response:
        if (denied := self.check_auth(request)) is not None:
            return denied
        limit = int(request.query_params.get("limit", "20"))
        states = request.query_params.getlist("state")
        calls = [c for c in self.calls.values() if not states or c["state"] in states]
        start = int(request.query_params.get("cursor") or 0)
        page = calls[start : start + limit]
        following = start + limit
        return JSONResponse(
            {"data": page, "next_cursor": str(following) if following < len(calls) else None}
        )

    async def _get(self, request: Request) -> Response:
        if (denied := self.check_auth(request)) is not None:
            return denied
        call = self.calls.get(request.path_params["call_id"])
        if call is None:
            return self.error_response(404, "no such call")
        return JSONResponse(call)

    async def _transcript(self, request: Request) -> Response:
        if (denied := self.check_auth(request)) is not None:
            return denied
        call_id = request.path_params["call_id"]
        if call_id not in self.calls:
            return self.error_response(404, "no such call")
        segments = [
            {
                "speaker": "agent" if n % 2 == 0 else "caller",
                "start_ms": n * 2000,
                "end_ms": n * 2000 + 1800,
                "text": " ".join(WORDS[(n + k) % len(WORDS)] for k in range(4)),
            }
            for n in range(4)
        ]
        return JSONResponse({"call_id": call_id, "language": "en", "segments": segments})
