"""The Murmur Notes adapter: catalog list/get and transcripts."""

from typing import Any

import attrs
import httpx

from convoport import Capabilities, Capability, QueryFilter, Session, SessionQuery, Transcript
from convoport.spi import Adapter, ErrorInfo, Page, setting
from convoport_murmur.translate import NEUTRAL_TO_STATE, session_from_call, transcript_from_payload


@attrs.frozen(kw_only=True)
class MurmurConfig:
    api_token: str = setting(env="MURMUR_API_TOKEN", secret=True, help="a Murmur API token")
    base_url: str = setting(default="https://api.murmur.example", env="MURMUR_BASE_URL")


def parse_error(response: httpx.Response, body: bytes) -> ErrorInfo | None:
    """Murmur's envelope: ``{"error": {"type", "message"}}``."""
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return None
    if not isinstance(error, dict):
        return None
    return ErrorInfo(message=error.get("message"), code=error.get("type"))


class MurmurAdapter(Adapter):
    name = "murmur"
    display_name = "Murmur Notes (example)"
    capabilities = Capabilities(
        ports={Capability.CATALOG_LIST, Capability.CATALOG_GET, Capability.TRANSCRIPTS},
        filters={QueryFilter.STATUS},
    )
    config_class = MurmurConfig
    default_page_size = 20
    emulator = "convoport_murmur.emulator:MurmurEmulator"

    def __init__(self, config: MurmurConfig, options: Any = None) -> None:
        super().__init__(config, options)
        self.http = self.make_http(
            base_url=config.base_url,
            credentials={"authorization": f"Bearer {config.api_token}"},
            error_parser=parse_error,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _list_sessions_page(
        self, query: SessionQuery, cursor: Any, page_size: int
    ) -> Page[Session]:
        params: list[tuple[str, str | int]] = [("limit", page_size)]
        if cursor:
            params.append(("cursor", cursor))
        if query.statuses is not None:
            states = sorted(NEUTRAL_TO_STATE[s] for s in query.statuses if s in NEUTRAL_TO_STATE)
            if not states:  # Murmur has no call in the asked states
                return Page(items=[])
            params.extend(("state", state) for state in states)
        body = await self.http.json("GET", "/v1/calls", params=params)
        items = [session_from_call(item) for item in body["data"]]
        return Page(items=items, next=body.get("next_cursor"))

    async def _get_session(self, session_id: str) -> Session:
        body = await self.http.json("GET", f"/v1/calls/{_quote(session_id)}")
        return session_from_call(body)

    async def _get_transcript(self, session: Session) -> Transcript:
        body = await self.http.json("GET", f"/v1/calls/{_quote(session.id)}/transcript")
        return transcript_from_payload(body)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
