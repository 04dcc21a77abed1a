"""A Cloudflare RealtimeKit emulator: the sessions and recordings API from seeded state, and a
separate storage host serving pre-signed downloads.

Built from ``shared/vendors/realtimekit.md`` and the OpenAPI document on
:class:`convoport.sandbox.EmulatorHarness`; every API answer validates against that document
(a test checks it). Use it through :class:`RealtimeKitEmulator`::

    harness = RealtimeKitEmulator(settings=HarnessSettings(sessions=200, seed=7))
    client = convoport.connect("realtimekit", transport=harness.transport(),
                               **harness.connect_options())

What it does:

* **Seeded sessions** (``settings.sessions``, default 40, deterministic from the seed, default
  11; 10,000 seed in seconds): meetings and livestreams (and one ``participant`` type in 17),
  ``LIVE`` and ``ENDED``, two sessions of one meeting now and then, breakout rooms on every
  sixth ended meeting (reachable by id, listed in the parent's ``breakout_rooms``);
  participants who join, leave and re-join (a second row with the same ``user_id``); chat
  dumps (columns in the documented order or shuffled, rows not in time order, text, image and
  file messages); transcripts in the current CSV layout (even sessions) and the legacy one
  with a header and ISO timestamps (odd sessions), some with a row whose peer id matches no
  participant; summaries on half the transcribed sessions, the others absent until
  ``POST …/summary``; recordings (uploaded, errored, or still recording with a null link),
  several per meeting when it has several sessions; a live session's recording is still
  ``RECORDING``, without a link.
* **The API** under ``/client/v4/accounts/{account_id}/realtime/kit/{app_id}``: ``GET
  /sessions`` (``page_no`` from 1, ``per_page`` up to 100, ``sort_by``, ``sort_order``,
  ``start_time`` inclusive and ``end_time`` exclusive on ``created_at``, ``status``,
  ``search`` over title, meeting id and session id, ``associated_id``, ``participants``
  ``min:max``), ``paging`` beside ``data``; ``GET /sessions/{id}`` (``include_breakout_rooms``;
  the legacy ``data.session`` shape on demand: :attr:`legacy_details_next`);
  participants (``data.paging``, ``search``, ``sort_by``, ``view=consolidated``,
  ``include_peer_events``), one participant, the peer report; chat, transcript (``format``
  CSV, JSON, SRT, VTT) and summary links; ``POST …/summary``; ``GET /recordings``
  (``meeting_id``, ``status`` repeated or comma-separated, ``expired``, ``search``, times) and
  ``GET /recordings/{id}``.
* **Errors** in both envelopes: the gateway's ``{success, errors, messages, result}`` for
  authentication (401 code 10000 for a wrong token, 400 code 6003 for a missing or malformed
  ``Authorization``), unknown routes and accounts (404 code 7003) and the global-limit block
  (:attr:`global_block_next`: 429 with ``Retry-After: 300``); RealtimeKit's
  ``{success: false, error: {code, message}}`` for everything else (404, 400 validation,
  and injected 429/5xx faults).
* **The storage host** (``https://realtimekit-storage.example``; over a real socket the API's
  host name swapped between ``127.0.0.1`` and ``localhost``, so it is another origin on the
  same server): ``GET /rtk-storage/<object>?X-Amz-…`` with an HMAC signature and an expiry
  (:data:`LINK_TTL` seconds on the harness clock). It refuses a request that carries an
  ``Authorization`` header (400, as S3 does for two auth mechanisms), a bad signature (403
  ``SignatureDoesNotMatch``) and an expired link (403 ``AccessDenied``), with S3's XML error
  bodies; it honours ``Range`` (206). Each link request signs a fresh link.
* **Faults**: the harness's (latency, 5xx, 429 with ``Retry-After``, dropped responses), plus
  :attr:`expire_links_mid_download` (the next download ends half-way and the clock moves past
  every link's expiry, so the client must ask for a fresh link and resume).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import random
import struct
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import attrs
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from convoport.sandbox import EmulatorHarness, HarnessSettings, SandboxClock, tone_pcm

from . import wire
from .translate import format_timestamp

SANDBOX_TOKEN = "sandbox-token"
#: The sandbox's Cloudflare account id (32 hex digits) and RealtimeKit app id (a UUID).
ACCOUNT_ID = "5e1f0c3a9b7d4e2f8a6c1b0d9e8f7a6b"
APP_ID = "c7a5e3b1-2d4f-4a6b-8c9d-0e1f2a3b4c5d"
API_HOST = "api.cloudflare.com"
STORAGE_HOST = "realtimekit-storage.example"
STORAGE_PREFIX = "/rtk-storage"
#: Seconds a pre-signed link is valid.
LINK_TTL = 3600
_SIGNING_KEY = b"realtimekit-emulator-signing-key"
_BASE = "/client/v4/accounts/{account_id}/realtime/kit/{app_id}"
_START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)

_TITLES = (
    "Weekly sync",
    "Design review",
    "Customer onboarding",
    "Town hall",
    "Sprint planning",
    "Support escalation",
    "Sales demo",
    "Office hours",
)
_PEOPLE = (
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Katherine Johnson",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Frances Allen",
)
_PRESETS = ("group_call_host", "group_call_participant", "webinar_viewer")
_LINES = (
    "Good morning, everyone",
    "Can you all hear me?",
    "Let's start with the roadmap",
    'The "beta" ships on Friday, if QA agrees',
    "I have one question about pricing",
    "We should follow up by email",
    "Thanks, that's all from me",
    "Next item: the migration plan",
    "Numbers look good, up 12%",
    "Let's wrap up here",
)
_CHAT = (
    "hi all",
    "slides are in the doc, page 3",
    "can you share the link?",
    "thanks, see you next week",
    "one more thing: budget, timeline",
)
Endpoint = Callable[[Request], Awaitable[Response]]


def _stamp(value: datetime) -> str:
    return format_timestamp(value)


def media_bytes(recording_id: str) -> bytes:
    """The bytes of a seeded recording: an MP4-shaped file (``ftyp`` then ``mdat`` holding a
    second of PCM tone whose pitch depends on the id)."""
    pitch = 220 + int(hashlib.sha256(recording_id.encode()).hexdigest()[:2], 16)
    pcm = tone_pcm(1.0, sample_rate=8000, channels=1, frequency=float(pitch))
    ftyp = b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2mp41"
    boxes = struct.pack(">I", 8 + len(ftyp)) + ftyp
    return boxes + struct.pack(">I", 8 + len(pcm)) + b"mdat" + pcm


#: The size of every seeded recording (they differ only in pitch).
MEDIA_SIZE = len(media_bytes(""))


def _stable_uuid(text: str) -> str:
    return str(uuid.UUID(hashlib.sha256(text.encode()).hexdigest()[:32], version=4))


def peer_events(row: dict[str, Any], session_id: str) -> list[dict[str, Any]]:
    """A participant row's ``PEER_CREATED``/``PEER_JOINING``/``PEER_LEAVING`` events (made
    when asked for, with ids derived from the peer id)."""
    join = _parse(row["joined_at"])
    leave = _parse(row["left_at"]) if "left_at" in row else None
    events = [("PEER_CREATED", join - timedelta(seconds=2)), ("PEER_JOINING", join)]
    if leave is not None:
        events.append(("PEER_LEAVING", leave))
    peer = row["id"]
    return [
        {
            "id": _stable_uuid(f"{peer}:{name}"),
            "created_at": _stamp(at),
            "updated_at": _stamp(at),
            "event_name": name,
            "minutes_consumed": row["duration"] if name == "PEER_LEAVING" else 0,
            "participant_id": peer,
            "peer_id": peer,
            "session_id": session_id,
            "socket_session_id": _stable_uuid(f"{peer}:socket"),
            "preset_view_type": "GROUP_CALL",
        }
        for name, at in events
    ]


class _Invalid(Exception):
    """A request RealtimeKit refuses with 400 (its validation message)."""


@attrs.define(kw_only=True)
class Seeded:
    """One emulated session and what it left behind."""

    raw: dict[str, Any]
    participants: list[dict[str, Any]] = attrs.field(factory=list)
    chat: list[dict[str, Any]] | None = None
    chat_columns: tuple[str, ...] = wire.CHAT_COLUMNS
    transcript: list[dict[str, Any]] | None = None
    legacy_transcript: bool = False
    summary: str | None = None
    breakout: list[str] = attrs.field(factory=list)
    parent: str | None = None

    @property
    def id(self) -> str:
        return str(self.raw["id"])


class RealtimeKitEmulator(EmulatorHarness):
    """The harness: seeded sessions, the Starlette app, its faults and the kit's arguments.

    ``settings`` sizes and degrades it (``sessions``, ``seed``, latency and fault rates);
    ``seed`` and ``sessions`` are shorthands that win over the settings; ``clock`` replaces
    the wall clock (link signing and expiry).
    """

    provider = wire.PROVIDER
    base_url = wire.DEFAULT_BASE_URL
    sandbox_key = SANDBOX_TOKEN
    credential_option = "api_token"
    credential_header = "authorization"
    credential_scheme = "Bearer"
    default_seed = 11
    default_sessions = 40

    def __init__(
        self,
        *,
        seed: int | None = None,
        sessions: int | None = None,
        clock: SandboxClock | None = None,
        settings: HarnessSettings | None = None,
        **kwargs: Any,
    ) -> None:
        settings = (settings or HarnessSettings()).merged(seed=seed, sessions=sessions)
        super().__init__(settings=settings, clock=clock, **kwargs)
        #: fault: how many next downloads end half-way with every link expired
        self.expire_links_mid_download = 0
        #: how many next session details answer in the legacy ``data.session`` shape
        self.legacy_details_next = 0
        #: how many next API requests meet Cloudflare's five-minute global-limit block
        self.global_block_next = 0
        self.rng = random.Random(self.seed)
        self.sessions: dict[str, Seeded] = {}
        self.listed: list[str] = []
        self.meetings: dict[str, dict[str, Any]] = {}
        self.recordings: dict[str, dict[str, Any]] = {}
        self.peers: dict[str, tuple[str, dict[str, Any]]] = {}
        self._seed(self.session_count)

    # -- harness API ----------------------------------------------------------------------

    def connect_options(self) -> dict[str, Any]:
        return {**super().connect_options(), "account_id": ACCOUNT_ID, "app_id": APP_ID}

    def session(self, session_id: str) -> Seeded:
        return self.sessions[session_id]

    def top_level(self, status: str | None = None) -> list[Seeded]:
        out = [self.sessions[s] for s in self.listed]
        return [s for s in out if status is None or s.raw["status"] == status]

    def recordings_of(self, session_id: str) -> list[dict[str, Any]]:
        return [r for r in self.recordings.values() if r["session_id"] == session_id]

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def scenario_args(self, scenario: str) -> dict[str, Any] | None:
        """Arguments for the kit's scenarios (and RealtimeKit's own), from the seeded data."""
        ended = self.top_level("ENDED")
        if not ended:
            return None

        def first(test: Callable[[Seeded], bool]) -> Seeded | None:
            return next((s for s in ended if test(s)), None)

        def ids(s: Seeded | None) -> dict[str, Any] | None:
            return None if s is None else {"session_id": s.id}

        def uploaded(s: Seeded) -> bool:
            return any(
                r["status"] == wire.RECORDING_UPLOADED and r["download_url"]
                for r in self.recordings_of(s.id)
            )

        transcribed = first(
            lambda s: bool(s.transcript) and not s.legacy_transcript and not _unknown_peer(s)
        )
        legacy = first(lambda s: bool(s.transcript) and s.legacy_transcript)
        unknown = first(lambda s: bool(s.transcript) and _unknown_peer(s))
        summarized = first(lambda s: s.summary is not None)
        unsummarized = first(lambda s: bool(s.transcript) and s.summary is None)
        rejoined = first(
            lambda s: len({p["user_id"] for p in s.participants}) < len(s.participants)
        )
        chatty = first(lambda s: bool(s.chat) and s.chat_columns != wire.CHAT_COLUMNS)
        recorded = first(uploaded)
        pending = next(
            (
                s
                for s in self.top_level("LIVE")
                if any(r["download_url"] is None for r in self.recordings_of(s.id))
            ),
            None,
        )
        plain = ended[0]
        download: dict[str, Any] | None = None
        if recorded is not None:
            rec = next(r for r in self.recordings_of(recorded.id) if r["download_url"])
            digest = hashlib.sha256(media_bytes(rec["id"])).hexdigest()
            download = {"session_id": recorded.id, "recording_id": rec["id"], "sha256": digest}
        search = {"search": plain.raw["meeting_display_name"]}
        args: dict[str, dict[str, Any] | None] = {
            "list_sessions_two_pages": {"page_size": 5, "query": {"statuses": ["completed"]}},
            "list_sessions_three_pages": {"page_size": 4},
            "list_sessions_each_filter": {
                "page_size": 50,
                "baseline_limit": 100,
                "queries": {"search": search},
            },
            "get_session_completed": ids(plain),
            "get_session_not_found": {"session_id": "00000000-0000-4000-8000-000000000000"},
            "get_transcript": ids(transcribed),
            "get_summary": ids(summarized),
            "list_participants": ids(rejoined),
            "list_chat": ids(chatty),
            "list_recordings": ids(recorded),
            "download_recording": download,
            "download_signed_recording": download,
            "signed_link_refreshed": download,
            "rate_limited_then_ok": ids(plain),
            "server_error_then_ok": ids(plain),
            "auth_failure": ids(plain),
            # RealtimeKit's own scenarios
            "get_session_legacy_details": ids(first(lambda s: bool(s.breakout))),
            "get_transcript_legacy_layout": ids(legacy),
            "transcript_unknown_speaker": ids(unknown),
            "transcript_link_refreshed": ids(transcribed),
            "chat_link_without_credentials": ids(chatty),
            "recording_not_uploaded": ids(pending),
            "summary_not_generated": ids(unsummarized),
            "summary_generated_on_request": ids(unsummarized),
            "global_rate_limit_block": ids(plain),
        }
        return args.get(scenario)

    # -- seeded state ---------------------------------------------------------------------

    def _person(self, index: int) -> dict[str, str]:
        name = _PEOPLE[index % len(_PEOPLE)]
        user = str(uuid.UUID(hashlib.sha256(name.encode()).hexdigest()[:32], version=4))
        return {"name": name, "user_id": user, "custom": f"cust-{index % len(_PEOPLE) + 1:03d}"}

    def _meeting(self, meeting_id: str, title: str, created: datetime, i: int) -> dict[str, Any]:
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            meeting = {
                "id": meeting_id,
                "title": title,
                "status": "ACTIVE",
                "record_on_start": i % 3 == 0,
                "transcribe_on_end": i % 4 != 3,
                "summarize_on_end": i % 2 == 0,
                "persist_chat": i % 3 != 2,
                "live_stream_on_start": False,
                "session_keep_alive_time_in_secs": 60,
                "created_at": _stamp(created - timedelta(days=1)),
                "updated_at": _stamp(created - timedelta(days=1)),
            }
            self.meetings[meeting_id] = meeting
        return meeting

    def _seed(self, count: int) -> None:
        rng = self.rng
        moment = _START
        meeting_id = self.new_uuid()
        for i in range(count):
            moment += timedelta(hours=rng.uniform(3, 9), seconds=rng.randint(0, 59))
            started = moment.replace(microsecond=0)
            if i % 5 != 2:  # sessions i % 5 == 1 and 2 share a meeting
                meeting_id = self.new_uuid()
            title = _TITLES[(i // 2) % len(_TITLES)] + f" #{i // 2 + 1}"
            live = i % 8 == 3
            kind = "livestream" if i % 10 == 4 else "participant" if i % 17 == 9 else "meeting"
            seeded = self._session(
                i, meeting_id=meeting_id, title=title, started=started, live=live, kind=kind
            )
            self.listed.append(seeded.id)
            if not live and kind == "meeting" and i % 6 == 0:
                for room in range(2):
                    child = self._session(
                        i + room + 1,
                        meeting_id=meeting_id,
                        title=f"{title} (breakout {room + 1})",
                        started=started + timedelta(minutes=5),
                        live=False,
                        kind="meeting",
                        breakout=True,
                    )
                    child.parent = seeded.id
                    seeded.breakout.append(child.id)

    def _session(
        self,
        i: int,
        *,
        meeting_id: str,
        title: str,
        started: datetime,
        live: bool,
        kind: str,
        breakout: bool = False,
    ) -> Seeded:
        rng = self.rng
        session_id = self.new_uuid()
        minutes = rng.randint(12, 55) if not breakout else rng.randint(5, 10)
        ended = None if live else started + timedelta(minutes=minutes, seconds=rng.randint(0, 59))
        created = started - timedelta(seconds=rng.randint(1, 20))
        meeting = self._meeting(meeting_id, title.split(" (")[0], created, i)
        people = self._participants(i, session_id, started, ended, breakout)
        raw: dict[str, Any] = {
            "id": session_id,
            "associated_id": meeting_id,
            "meeting_display_name": title,
            "type": kind,
            "status": "LIVE" if live else "ENDED",
            "live_participants": sum(1 for p in people if "left_at" not in p),
            "max_concurrent_participants": len({p["user_id"] for p in people}),
            "minutes_consumed": round(sum(p["duration"] for p in people), 3),
            "organization_id": APP_ID,
            "started_at": _stamp(started),
            "created_at": _stamp(created),
            "updated_at": _stamp(ended or started),
        }
        if ended is not None:
            raw["ended_at"] = _stamp(ended)
        seeded = Seeded(raw=raw, participants=people)
        self.sessions[session_id] = seeded
        for person in people:
            self.peers[person["id"]] = (session_id, person)
        if live or breakout:
            if live and meeting["record_on_start"]:
                self._recording(seeded, started, None, status="RECORDING")
            return seeded
        if meeting["persist_chat"]:
            seeded.chat = self._chat(i, seeded, started)
            if i % 2:
                order = list(wire.CHAT_COLUMNS)
                rng.shuffle(order)
                seeded.chat_columns = tuple(order)
        if meeting["transcribe_on_end"]:
            seeded.transcript = self._transcript(i, seeded, started)
            seeded.legacy_transcript = i % 2 == 1
            if meeting["summarize_on_end"]:
                seeded.summary = self._summary_text(seeded)
        if meeting["record_on_start"]:
            assert ended is not None
            self._recording(seeded, started, ended, status=wire.RECORDING_UPLOADED)
            if i % 15 == 0:
                self._recording(seeded, started, ended, status=wire.RECORDING_ERRORED)
        return seeded

    def _participants(
        self,
        i: int,
        session_id: str,
        started: datetime,
        ended: datetime | None,
        breakout: bool,
    ) -> list[dict[str, Any]]:
        rng = self.rng
        count = 2 if breakout else 2 + i % 3
        rows: list[dict[str, Any]] = []
        for k in range(count):
            person = self._person(i + k)
            joined = started + timedelta(seconds=20 * k + rng.randint(0, 9))
            spans: list[tuple[datetime, datetime | None]]
            end = None if ended is None else ended - timedelta(seconds=15 * k)
            if k == 0 and i % 4 == 0 and end is not None:
                middle = joined + (end - joined) / 2
                spans = [(joined, middle), (middle + timedelta(seconds=40), end)]
            else:
                spans = [(joined, end)]
            for join, leave in spans:
                peer = self.new_uuid()
                row: dict[str, Any] = {
                    "id": peer,
                    "user_id": person["user_id"],
                    "custom_participant_id": person["custom"],
                    "display_name": person["name"],
                    "preset_name": _PRESETS[0 if k == 0 else 1],
                    "joined_at": _stamp(join),
                    "created_at": _stamp(join - timedelta(seconds=2)),
                    "updated_at": _stamp(leave or join),
                    "duration": 0.0,
                }
                if leave is not None:
                    row["left_at"] = _stamp(leave)
                    row["duration"] = round((leave - join).total_seconds() / 60, 3)
                rows.append(row)
        return rows

    def _chat(self, i: int, seeded: Seeded, started: datetime) -> list[dict[str, Any]]:
        people = seeded.participants
        rows = []
        for n, text in enumerate(_CHAT[: 3 + i % 3]):
            sender = people[n % len(people)]
            kind, payload = "TEXT_MESSAGE", text
            if n == 2 and i % 6 == 0:
                kind, payload = "IMAGE_MESSAGE", f"https://{STORAGE_HOST}/chat-media/{i}-{n}.png"
            elif n == 4:
                kind, payload = "FILE_MESSAGE", f"https://{STORAGE_HOST}/chat-media/{i}-{n}.pdf"
            rows.append(
                {
                    "id": self.new_uuid(),
                    "participantId": sender["id"],
                    "sessionId": seeded.id,
                    "meetingId": seeded.raw["associated_id"],
                    "displayName": sender["display_name"],
                    "pinned": "true" if n == 0 else "false",
                    "isEdited": "true" if n == 1 else "false",
                    "payloadType": kind,
                    "payload": payload,
                    "createdAt": _stamp(started + timedelta(seconds=60 + 45 * n)),
                }
            )
        return sorted(rows, key=lambda r: r["id"])  # the dump is not in time order

    def _transcript(self, i: int, seeded: Seeded, started: datetime) -> list[dict[str, Any]]:
        people = seeded.participants
        rows = []
        for n in range(4 + i % 5):
            person = people[n % len(people)]
            rows.append(
                {
                    "start_ms": 800 + 2500 * n + self.rng.randint(0, 400),
                    "peer_id": person["id"],
                    "user_id": person["user_id"],
                    "custom_participant_id": person["custom_participant_id"],
                    "participant_name": person["display_name"],
                    "text": _LINES[(i + n) % len(_LINES)],
                }
            )
        if i % 7 == 0:
            rows.append(
                {
                    "start_ms": rows[-1]["start_ms"] + 1900,
                    "peer_id": self.new_uuid(),
                    "user_id": self.new_uuid(),
                    "custom_participant_id": "",
                    "participant_name": "Guest",
                    "text": "Sorry, joining from the phone",
                }
            )
        if i % 3 == 0:  # grouped by speaker (each participant is transcribed on its own)
            rows.sort(key=lambda r: str(r["peer_id"]))
        return rows

    def _summary_text(self, seeded: Seeded) -> str:
        lines = [r["text"] for r in seeded.transcript or []]
        names = sorted({p["display_name"] for p in seeded.participants})
        return (
            "## Meeting Summary\n\n"
            f"{seeded.raw['meeting_display_name']} with {', '.join(names)}.\n\n"
            "### Key Discussion Points\n\n"
            + "".join(f"- {line}\n" for line in lines[:3])
            + "\n### Action Items\n\n- Follow up by email\n"
        )

    def _recording(
        self, seeded: Seeded, started: datetime, ended: datetime | None, *, status: str
    ) -> None:
        rec_id = self.new_uuid()
        meeting = self.meetings[seeded.raw["associated_id"]]
        invoked = started + timedelta(seconds=3)
        epoch = int(invoked.timestamp() * 1000)
        name = f"{meeting['id']}_{epoch}.mp4"
        ready = status == wire.RECORDING_UPLOADED
        size = MEDIA_SIZE if ready else None
        self.recordings[rec_id] = {
            "id": rec_id,
            "session_id": seeded.id,
            "meeting_id": meeting["id"],
            "status": status,
            "output_file_name": name,
            "download_url": "pending" if ready else None,  # signed per answer
            "audio_download_url": None,
            "download_url_expiry": None,
            "file_size": size,
            "invoked_time": _stamp(invoked),
            "started_time": _stamp(invoked + timedelta(seconds=4)),
            "stopped_time": _stamp(ended) if ended and status != "RECORDING" else None,
            "recording_duration": int((ended - invoked).total_seconds()) if ended else 0,
        }

    # -- signing and the storage host --------------------------------------------------------

    def _storage_origin(self, request: Request) -> str:
        host = request.url.hostname or ""
        port = request.url.port
        if host in ("127.0.0.1", "localhost"):
            other = "localhost" if host == "127.0.0.1" else "127.0.0.1"
            return f"{request.url.scheme}://{other}" + (f":{port}" if port else "")
        return f"https://{STORAGE_HOST}"

    @staticmethod
    def _signature(path: str, date: str, expires: str) -> str:
        message = f"{path}\n{date}\n{expires}".encode()
        return hmac.new(_SIGNING_KEY, message, hashlib.sha256).hexdigest()

    def sign(self, request: Request, key: str) -> tuple[str, str]:
        """A fresh pre-signed link to the storage object ``key`` and its expiry (ISO 8601)."""
        now = self.now()
        date = now.strftime("%Y%m%dT%H%M%SZ")
        path = f"{STORAGE_PREFIX}/{key}"
        query = urlencode(
            [
                ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
                ("X-Amz-Credential", f"EMULATOR/{now:%Y%m%d}/auto/s3/aws4_request"),
                ("X-Amz-Date", date),
                ("X-Amz-Expires", str(LINK_TTL)),
                ("X-Amz-SignedHeaders", "host"),
                ("X-Amz-Signature", self._signature(path, date, str(LINK_TTL))),
            ]
        )
        expiry = now.replace(microsecond=0) + timedelta(seconds=LINK_TTL)
        return f"{self._storage_origin(request)}{path}?{query}", _stamp(expiry)

    def _object(self, key: str) -> tuple[bytes, str] | None:
        """The bytes and media type of a storage object, or None."""
        kind, _, name = key.partition("/")
        if kind == "recordings":
            rec_id = name.split("/", 1)[0]
            rec = self.recordings.get(rec_id)
            if rec is None or rec["status"] != wire.RECORDING_UPLOADED:
                return None
            return media_bytes(rec_id), "video/mp4"
        stem, _, ext = name.rpartition(".")
        seeded = self.sessions.get(stem)
        if seeded is None:
            return None
        if kind == "chat" and seeded.chat is not None:
            return _chat_csv(seeded), "text/csv"
        if kind == "transcripts" and seeded.transcript is not None:
            return _transcript_file(seeded, ext)
        if kind == "summaries" and seeded.summary is not None:
            return seeded.summary.encode(), "text/markdown; charset=utf-8"
        return None

    async def _storage(self, request: Request) -> Response:
        if request.url.hostname == API_HOST:
            return self.not_found(request)
        if "authorization" in request.headers:
            return _s3_error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be specified",
            )
        query = request.query_params
        path = request.url.path
        date = query.get("X-Amz-Date", "")
        expires = query.get("X-Amz-Expires", "")
        given = query.get("X-Amz-Signature", "")
        if not hmac.compare_digest(given, self._signature(path, date, expires)):
            return _s3_error(403, "SignatureDoesNotMatch", "The request signature does not match")
        try:
            issued = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            lifetime = timedelta(seconds=int(expires))
        except ValueError:
            return _s3_error(403, "AccessDenied", "Invalid date or expiry")
        if self.now() > issued + lifetime:
            return _s3_error(403, "AccessDenied", "Request has expired")
        found = self._object(path[len(STORAGE_PREFIX) + 1 :])
        if found is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        data, media_type = found
        etag = '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'
        headers = {"content-type": media_type, "accept-ranges": "bytes", "etag": etag}
        ranged = request.headers.get("range", "")
        if ranged.startswith("bytes=") and "-" in ranged:
            first, _, last = ranged[len("bytes=") :].partition("-")
            try:
                begin = int(first)
                end = int(last) if last else len(data) - 1
            except ValueError:
                return _s3_error(416, "InvalidRange", "The requested range is not satisfiable")
            if begin >= len(data) or end < begin:
                return _s3_error(416, "InvalidRange", "The requested range is not satisfiable")
            end = min(end, len(data) - 1)
            headers["content-range"] = f"bytes {begin}-{end}/{len(data)}"
            return Response(data[begin : end + 1], status_code=206, headers=headers)
        if self.expire_links_mid_download > 0:
            self.expire_links_mid_download -= 1
            self.clock.advance(LINK_TTL + 1)
            headers["content-length"] = str(len(data))  # the whole file; half of it is sent
            return Response(data[: len(data) // 2], headers=headers)
        return Response(data, headers=headers)

    # -- the harness hooks: errors, auth, routes --------------------------------------------

    def error_body(
        self,
        status: int,
        message: str,
        *,
        path: str = "",
        envelope: str = "realtimekit",
        code: int | None = None,
        chain: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """RealtimeKit's ``{success: false, error: {code, message}}`` (``code`` is the status),
        or with ``envelope="cloudflare"`` the gateway's ``{success: false, errors: [{code,
        message[, error_chain]}], messages: [], result: null}``."""
        if envelope == "cloudflare":
            error: dict[str, Any] = {
                "code": code or wire.CF_AUTHENTICATION_ERROR,
                "message": message,
            }
            if chain:
                error["error_chain"] = chain
            return {"success": False, "errors": [error], "messages": [], "result": None}
        return {"success": False, "error": {"code": status, "message": message}}

    def _gateway(
        self,
        status: int,
        code: int,
        message: str,
        *,
        chain: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        return self.error_response(
            status, message, envelope="cloudflare", code=code, chain=chain, headers=headers
        )

    def not_found(self, request: Request) -> Response:
        return self._gateway(404, wire.CF_NO_ROUTE, "No route for that URI")

    def method_not_allowed(self, request: Request) -> Response:
        return self._gateway(405, 10405, "Method not allowed")

    def check_auth(self, request: HTTPConnection) -> Response | None:
        header = request.headers.get("authorization")
        scheme, _, token = (header or "").partition(" ")
        if not header or scheme.lower() != "bearer" or not token.strip():
            return self._gateway(
                400,
                6003,
                "Invalid request headers",
                chain=[{"code": 6111, "message": "Invalid format for Authorization header"}],
            )
        if not hmac.compare_digest(token.strip().encode(), self.api_key.encode()):
            return self._gateway(401, wire.CF_AUTHENTICATION_ERROR, "Authentication error")
        return None

    def routes(self) -> Sequence[BaseRoute]:
        base = _BASE
        api = self._api
        return [
            Route(f"{STORAGE_PREFIX}/{{key:path}}", self._storage, methods=["GET"]),
            Route(f"{base}/sessions", api(self._list), methods=["GET"]),
            Route(f"{base}/sessions/peer-report/{{peer_id}}", api(self._peer_report)),
            Route(f"{base}/sessions/{{session_id}}", api(self._details), methods=["GET"]),
            Route(f"{base}/sessions/{{session_id}}/participants", api(self._participants_list)),
            Route(
                f"{base}/sessions/{{session_id}}/participants/{{participant_id}}",
                api(self._participant),
            ),
            Route(f"{base}/sessions/{{session_id}}/chat", api(self._chat_link)),
            Route(f"{base}/sessions/{{session_id}}/transcript", api(self._transcript_link)),
            Route(
                f"{base}/sessions/{{session_id}}/summary",
                api(self._summary),
                methods=["GET", "POST"],
            ),
            Route(f"{base}/recordings", api(self._recordings_list), methods=["GET"]),
            Route(f"{base}/recordings/{{recording_id}}", api(self._recording_one), methods=["GET"]),
        ]

    def _api(self, handler: Endpoint) -> Endpoint:
        """An API route: the storage host serves none; auth, the global block, the account
        and app ids, then the handler; ``_Invalid`` becomes RealtimeKit's 400."""

        async def endpoint(request: Request) -> Response:
            if request.url.hostname == STORAGE_HOST:
                return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
            if (denied := self.check_auth(request)) is not None:
                return denied
            if self.global_block_next > 0:
                self.global_block_next -= 1
                return self._gateway(
                    429,
                    wire.CF_GLOBAL_LIMIT_CODE,
                    wire.CF_GLOBAL_LIMIT_MESSAGE,
                    headers={"retry-after": str(int(wire.GLOBAL_BLOCK_SECONDS))},
                )
            if request.path_params.get("account_id") != ACCOUNT_ID:
                return self._gateway(
                    404,
                    wire.CF_NO_ROUTE,
                    f"Could not route to {request.url.path}, perhaps your object identifier "
                    "is invalid?",
                )
            if request.path_params.get("app_id") != APP_ID:
                return self._error(404, "Error: app not found")
            try:
                return await handler(request)
            except _Invalid as exc:
                return self._error(400, f"Error: {exc}")

        return endpoint

    def _error(self, status: int, message: str) -> JSONResponse:
        return self.error_response(status, message)

    @staticmethod
    def _ok(data: Any, **extra: Any) -> JSONResponse:
        return JSONResponse({"success": True, "data": data, **extra})

    def _seeded_or_404(self, request: Request) -> Seeded | Response:
        seeded = self.sessions.get(request.path_params["session_id"])
        if seeded is None:
            return self._error(404, "Error: resource not found")
        return seeded

    # -- sessions -------------------------------------------------------------------------

    def _session_out(self, seeded: Seeded, *, breakout_rooms: bool = False) -> dict[str, Any]:
        out = dict(seeded.raw)
        if breakout_rooms:
            out["breakout_rooms"] = [self.sessions[b].raw for b in seeded.breakout]
        return out

    async def _list(self, request: Request) -> Response:
        query = request.query_params
        page_no = max(1, _number(query.get("page_no"), "page_no", 1))
        per_page = _number(query.get("per_page"), "per_page", 20, maximum=100)
        sort_by = _choice(query.get("sort_by"), "sort_by", ("createdAt", "minutesConsumed"))
        order = _choice(query.get("sort_order"), "sort_order", ("DESC", "ASC")) or "DESC"
        status = _choice(query.get("status"), "status", ("LIVE", "ENDED"))
        start = _time(query.get("start_time"), "start_time")
        end = _time(query.get("end_time"), "end_time")
        search = (query.get("search") or "").strip().lower()
        meeting = query.get("associated_id")
        counts = _range(query.get("participants"))
        picked = []
        for seeded in self.top_level():
            raw = seeded.raw
            created = _parse(raw["created_at"])
            people = len({p["user_id"] for p in seeded.participants})
            haystack = f"{raw['meeting_display_name']} {raw['associated_id']} {raw['id']}".lower()
            if (
                (status is None or raw["status"] == status)
                and (start is None or created >= start)
                and (end is None or created < end)
                and (not search or search in haystack)
                and (meeting is None or raw["associated_id"] == meeting)
                and (counts is None or counts[0] <= people <= counts[1])
            ):
                picked.append(seeded)
        if sort_by == "minutesConsumed":
            picked.sort(key=lambda s: (s.raw["minutes_consumed"], s.raw["created_at"]))
        else:
            picked.sort(key=lambda s: (s.raw["created_at"], s.id))
        if order == "DESC":
            picked.reverse()
        page = self.offset_total_page(picked, page_no=page_no, per_page=per_page)
        sessions = [self._session_out(s) for s in page.items]
        return self._ok({"sessions": sessions}, paging=page.paging())

    async def _details(self, request: Request) -> Response:
        seeded = self._seeded_or_404(request)
        if isinstance(seeded, Response):
            return seeded
        rooms = _flag(request.query_params.get("include_breakout_rooms"), "include_breakout_rooms")
        out = self._session_out(seeded, breakout_rooms=rooms)
        if self.legacy_details_next > 0:
            self.legacy_details_next -= 1
            return self._ok({"session": {**out, "meta": {}}})
        return self._ok(out)

    # -- participants ---------------------------------------------------------------------

    @staticmethod
    def _participant_out(row: dict[str, Any], events: bool, session_id: str) -> dict[str, Any]:
        out = {k: v for k, v in row.items() if not k.startswith("_")}
        if events:
            parts = row.get("_parts") or [row]
            out["peer_events"] = [e for part in parts for e in peer_events(part, session_id)]
        return out

    async def _participants_list(self, request: Request) -> Response:
        seeded = self._seeded_or_404(request)
        if isinstance(seeded, Response):
            return seeded
        query = request.query_params
        page_no = max(1, _number(query.get("page_no"), "page_no", 1))
        per_page = _number(query.get("per_page"), "per_page", 20, maximum=100)
        sort_by = _choice(query.get("sort_by"), "sort_by", ("joinedAt", "duration")) or "joinedAt"
        order = _choice(query.get("sort_order"), "sort_order", ("ASC", "DESC")) or "ASC"
        view = _choice(query.get("view"), "view", ("raw", "consolidated")) or "raw"
        events = _flag(query.get("include_peer_events"), "include_peer_events")
        search = (query.get("search") or "").strip().lower()
        rows = [
            r
            for r in seeded.participants
            if not search
            or search in f"{r['id']} {r['custom_participant_id']} {r['display_name']}".lower()
        ]
        if view == "consolidated":
            rows = _consolidated(rows)
        key = "duration" if sort_by == "duration" else "joined_at"
        rows = sorted(rows, key=lambda r: (r[key], r["id"]), reverse=order == "DESC")
        page = self.offset_total_page(rows, page_no=page_no, per_page=per_page)
        people = [self._participant_out(r, events, seeded.id) for r in page.items]
        return self._ok({"participants": people, "paging": page.paging()})

    async def _participant(self, request: Request) -> Response:
        seeded = self._seeded_or_404(request)
        if isinstance(seeded, Response):
            return seeded
        wanted = request.path_params["participant_id"]
        row = next((r for r in seeded.participants if r["id"] == wanted), None)
        if row is None:
            return self._error(404, "Error: participant not found")
        events = _flag(request.query_params.get("include_peer_events"), "include_peer_events")
        return self._ok({"participant": self._participant_out(row, events, seeded.id)})

    async def _peer_report(self, request: Request) -> Response:
        query = request.query_params
        _choice(
            query.get("filters"),
            "filters",
            (
                "device_info",
                "ip_information",
                "precall_network_information",
                "events",
                "quality_stats",
            ),
        )
        events = _flag(query.get("include_peer_events"), "include_peer_events")
        found = self.peers.get(request.path_params["peer_id"])
        if found is None:
            return self._error(404, "Error: peer not found")
        session_id, row = found
        out = self._participant_out(row, True, session_id)
        out.pop("preset_name", None)
        out["session_id"] = session_id
        out["role"] = row["preset_name"]
        if not events:
            out["peer_events"] = []
        out["peer_report"] = _peer_report(row)
        return self._ok({"participant": out})

    # -- chat, transcript, summary ----------------------------------------------------------

    async def _chat_link(self, request: Request) -> Response:
        seeded = self._seeded_or_404(request)
        if isinstance(seeded, Response):
            return seeded
        if seeded.chat is None:
            return self._error(404, "Error: chat not found for this session")
        url, expiry = self.sign(request, f"chat/{seeded.id}.csv")
        return self._ok({"chat_download_url": url, "chat_download_url_expiry": expiry})

    async def _transcript_link(self, request: Request) -> Response:
        seeded = self._seeded_or_404(request)
        if isinstance(seeded, Response):
            return seeded
        fmt = _choice(request.query_params.get("format"), "format", ("CSV", "JSON", "SRT", "VTT"))
        if seeded.transcript is None:
            return self._error(404, "Error: transcript not found for this session")
        url, expiry = self.sign(request, f"transcripts/{seeded.id}.{(fmt or 'CSV').lower()}")
        return self._ok(
            {
                "sessionId": seeded.id,
                "transcript_download_url": url,
                "transcript_download_url_expiry": expiry,
            }
        )

    async def _summary(self, request: Request) -> Response:
        seeded = self._seeded_or_404(request)
        if isinstance(seeded, Response):
            return seeded
        if request.method == "POST":
            if seeded.transcript is None:
                return self._error(404, "Error: transcript not found for this session")
            seeded.summary = self._summary_text(seeded)
            return self._ok({"session_id": seeded.id, "status": "IN_PROGRESS"})
        if seeded.summary is None:
            return self._error(404, "Error: summary not found for this session")
        url, expiry = self.sign(request, f"summaries/{seeded.id}.md")
        return self._ok(
            {"sessionId": seeded.id, "summaryDownloadUrl": url, "summaryDownloadUrlExpiry": expiry}
        )

    # -- recordings -----------------------------------------------------------------------

    def _recording_out(self, request: Request, rec: dict[str, Any], *, one: bool) -> dict[str, Any]:
        out = {k: v for k, v in rec.items() if k != "meeting_id"}
        if rec["download_url"] is not None:
            url, expiry = self.sign(request, f"recordings/{rec['id']}/{rec['output_file_name']}")
            out["download_url"], out["download_url_expiry"] = url, expiry
        out["storage_config"] = None
        if one:
            out["start_reason"] = {
                "reason": "RECORD_ON_START",
                "caller": {"name": "RealtimeKit", "type": "ORGANIZATION"},
            }
            if rec["stopped_time"] is not None:
                out["stop_reason"] = {
                    "reason": "ALL_PEERS_LEFT",
                    "caller": {"name": "RealtimeKit", "type": "ORGANIZATION"},
                }
        else:
            meeting = self.meetings[rec["meeting_id"]]
            out["meeting"] = dict(meeting)
        return out

    async def _recordings_list(self, request: Request) -> Response:
        query = request.query_params
        page_no = max(1, _number(query.get("page_no"), "page_no", 1))
        per_page = _number(query.get("per_page"), "per_page", 20, maximum=100)
        meeting = query.get("meeting_id")
        statuses = [s for v in query.getlist("status") for s in v.split(",") if s]
        for s in statuses:
            _choice(s, "status", wire.RECORDING_STATUSES)
        expired = query.get("expired")
        want_expired = None if expired is None else _flag(expired, "expired")
        _choice(query.get("sort_by"), "sort_by", ("invokedTime",))
        order = _choice(query.get("sort_order"), "sort_order", ("ASC", "DESC")) or "DESC"
        start = _time(query.get("start_time"), "start_time")
        end = _time(query.get("end_time"), "end_time")
        search = (query.get("search") or "").strip().lower()
        picked = []
        for rec in self.recordings.values():
            invoked = _parse(rec["invoked_time"])
            title = self.meetings[rec["meeting_id"]]["title"].lower()
            if (
                (meeting is None or rec["meeting_id"] == meeting)
                and (not statuses or rec["status"] in statuses)
                and (want_expired is None or want_expired is False)
                and (start is None or invoked >= start)
                and (end is None or invoked < end)
                and (not search or search in f"{rec['meeting_id']} {title}")
            ):
                picked.append(rec)
        picked.sort(key=lambda r: (r["invoked_time"], r["id"]), reverse=order == "DESC")
        page = self.offset_total_page(picked, page_no=page_no, per_page=per_page)
        items = [self._recording_out(request, r, one=False) for r in page.items]
        return JSONResponse({"success": True, "data": items, "paging": page.paging()})

    async def _recording_one(self, request: Request) -> Response:
        rec = self.recordings.get(request.path_params["recording_id"])
        if rec is None:
            return self._error(404, "Error: recording not found")
        return self._ok(self._recording_out(request, rec, one=True))


# -- helpers ------------------------------------------------------------------------------------


def _unknown_peer(seeded: Seeded) -> bool:
    known = {p["id"] for p in seeded.participants}
    return any(r["peer_id"] not in known for r in seeded.transcript or [])


def _s3_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _number(value: str | None, name: str, default: int, *, maximum: int | None = None) -> int:
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise _Invalid(f'"{name}" must be a number') from None
    if number != int(number) or number < 0:
        raise _Invalid(f'"{name}" must be a positive integer')
    if maximum is not None and number > maximum:
        raise _Invalid(f'"{name}" must be less than or equal to {maximum}')
    if name == "per_page" and number == 0:
        return default
    return int(number)


def _choice(value: str | None, name: str, allowed: Sequence[str]) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        raise _Invalid(f'"{name}" must be one of [{", ".join(allowed)}]')
    return value


def _flag(value: str | None, name: str) -> bool:
    if value is None:
        return False
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise _Invalid(f'"{name}" must be a boolean')


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise _Invalid(f'"{name}" must be a valid ISO 8601 date') from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _range(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    low, sep, high = value.partition(":")
    try:
        return (int(low or 0), int(high) if sep and high else 10**9)
    except ValueError:
        raise _Invalid('"participants" must be a range such as 1:10') from None


def _consolidated(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per person: the first join's id, the earliest join, the last leave, the
    durations added up."""
    merged: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["joined_at"]):
        known = merged.get(row["user_id"])
        if known is None:
            merged[row["user_id"]] = {**row, "_parts": [row]}
            continue
        known["duration"] = round(known["duration"] + row["duration"], 3)
        if "left_at" in row:
            known["left_at"] = row["left_at"]
        else:
            known.pop("left_at", None)
        known["_parts"] = [*known["_parts"], row]
    return list(merged.values())


def _peer_report(row: dict[str, Any]) -> dict[str, Any]:
    digest = hashlib.sha256(row["id"].encode()).digest()
    return {
        "metadata": {
            "browser_metadata": {
                "browser": "Chrome",
                "browser_version": f"12{digest[0] % 10}.0",
                "engine": "Blink",
                "user_agent": "Mozilla/5.0 (emulated)",
                "webgl_support": True,
            },
            "device_info": {
                "cpus": 4 + digest[1] % 8,
                "is_mobile": False,
                "os": "macOS",
                "os_version": "14.5",
            },
            "ip_information": {
                "city": "Lisbon",
                "country": "PT",
                "region": "Lisbon",
                "timezone": "Europe/Lisbon",
            },
            "sdk_name": "web-core",
            "sdk_type": "web",
            "sdk_version": "1.2.0",
            "room_view_type": "GROUP_CALL",
            "events": [{"name": "joined", "timestamp": row["joined_at"], "metadata": {}}],
        },
        "quality": {
            "audio_producer_cumulative": {
                "packet_loss": {"avg": round(digest[2] / 2550, 4)},
                "quality_mos": {"avg": 4.2, "p50": 4.3, "p75": 4.1, "p90": 3.9},
                "rtt": {"avg": 40 + digest[3] % 60},
            },
        },
    }


def _chat_csv(seeded: Seeded) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(seeded.chat_columns)
    for row in seeded.chat or []:
        writer.writerow([row[c] for c in seeded.chat_columns])
    return out.getvalue().encode()


def _transcript_file(seeded: Seeded, ext: str) -> tuple[bytes, str]:
    rows = seeded.transcript or []
    started = _parse(seeded.raw["started_at"])
    if ext == "json":
        items = [
            {
                "startTime": r["start_ms"],
                "endTime": r["start_ms"] + 1800,
                "sentence": r["text"],
                "peerData": {
                    "id": r["peer_id"],
                    "userId": r["user_id"],
                    "displayName": r["participant_name"],
                    "cpi": r["custom_participant_id"],
                    "joinedAt": seeded.raw["started_at"],
                    "leftAt": seeded.raw.get("ended_at", ""),
                },
            }
            for r in rows
        ]
        return json.dumps(items).encode(), "application/json"
    if ext in ("srt", "vtt"):
        cues = []
        for n, r in enumerate(sorted(rows, key=lambda r: r["start_ms"]), start=1):
            begin, end = r["start_ms"], r["start_ms"] + 1800
            sep = "," if ext == "srt" else "."
            stamp = f"{_clock(begin, sep)} --> {_clock(end, sep)}"
            cues.append(f"{n}\n{stamp}\n{r['participant_name']}: {r['text']}\n")
        head = "WEBVTT\n\n" if ext == "vtt" else ""
        media = "text/vtt" if ext == "vtt" else "application/x-subrip"
        return (head + "\n".join(cues)).encode(), media
    out = io.StringIO()
    if seeded.legacy_transcript:
        out.write(", ".join(wire.LEGACY_TRANSCRIPT_HEADER) + "\n")
        writer = csv.writer(out, lineterminator="\n")
        for r in rows:
            at = started + timedelta(milliseconds=r["start_ms"])
            cells = [r[c] for c in wire.TRANSCRIPT_COLUMNS]
            writer.writerow([_stamp(at), *cells[1:]])
    else:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for r in rows:
            writer.writerow([r[c] for c in wire.TRANSCRIPT_COLUMNS])
    return out.getvalue().encode(), "text/csv"


def _clock(ms: int, sep: str) -> str:
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{millis:03d}"


def frozen_clock(at: datetime | None = None) -> SandboxClock:
    """A clock for recordings: frozen at ``at`` (default 2099-01-01T00:00:00Z, so the links a
    cassette records are not yet expired when it is replayed)."""
    return SandboxClock(at or datetime(2099, 1, 1, tzinfo=UTC))


__all__ = [
    "ACCOUNT_ID",
    "APP_ID",
    "LINK_TTL",
    "SANDBOX_TOKEN",
    "STORAGE_HOST",
    "RealtimeKitEmulator",
    "Seeded",
    "frozen_clock",
    "media_bytes",
]
