"""The kit's named scenarios: what each calls, what it needs, what must hold.

A scenario runs against a connected client with arguments (from the cassette's ``meta.args``,
or from the emulator harness's ``scenario_args``, else the scenario's ``default_args``) and
returns a JSON-compatible *outcome*: ``{"result": ...}`` (the neutral result, unstructured with
:mod:`convoport.serde`, or what the scenario's ``outcome`` function makes of it) or
``{"error": {"type": "NotFound", "status_code": 404}}``. In cassette mode the outcome must
equal the adapter's ``expected/<scenario>.json``; in every mode the scenario's invariants must
hold (they are what make the emulator run meaningful), and ``check_requests`` inspects the
HTTP requests the adapter made (the kit observes them below the client).

Every scenario is gated: by a ``capability`` the adapter must declare, and by ``requires``,
named requirements (:data:`REQUIREMENTS`, each with the reason a backend may not meet it). A
requirement is met when the adapter's declaration shows it (``server_side_filters``: at least
one ``Capabilities.filters`` entry) or when the contract class lists it in its
``requirements`` (``signed_media``: the kit cannot see pre-signed links in a declaration).
Unmet gates skip the scenario with the capability or the requirement and its reason.

Adapter-specific scenarios use the same :class:`Scenario` type, the same cassette/expected
layout and the same rules: list them in the contract class's ``scenarios`` attribute, or
:func:`register_scenarios` them for a provider (see :mod:`convoport.contracts.kit`).

Arguments each kit scenario reads (all JSON):

==============================  ==============================================================
scenario                        args
==============================  ==============================================================
list_sessions_two_pages         ``page_size`` (int), ``query`` (SessionQuery fields, optional)
list_sessions_three_pages       ``page_size`` (int, default 1), ``query`` (optional)
list_sessions_each_filter       ``baseline_limit`` (sessions in the unfiltered listing,
                                default 100), ``page_size`` (every listing's, default 50),
                                ``filter_limit`` (of each filtered listing, default 100),
                                ``queries``
                                (optional: filter name -> SessionQuery fields; a filter
                                without one gets a query derived from the baseline)
get_session_completed           ``session_id``
get_session_not_found           ``session_id``
get_session_awkward_ids         none (the ids are the kit's: :data:`AWKWARD_IDS`)
get_transcript                  ``session_id``
get_summary                     ``session_id``
list_participants               ``session_id``
list_chat                       ``session_id``
list_recordings                 ``session_id``
download_recording              ``session_id``, ``recording_id`` (optional), ``sha256``
                                (optional)
download_signed_recording       ``session_id``, ``recording_id`` (optional), ``sha256``
                                (optional)
signed_link_refreshed           ``session_id``, ``recording_id`` (optional), ``sha256``
                                (optional): the first link expires mid-download
delete_session                  ``session_id``
rate_limited_then_ok            ``session_id`` (the first answer is 429, the retry succeeds)
server_error_then_ok            ``session_id`` (the first answer is 5xx, the retry succeeds)
auth_failure                    a rejected credential on the first call the backend serves:
                                ``session_id`` (catalog), else the live or batch args
live_ingest_roundtrip           ``options`` (LiveOptions fields), ``audio`` (see below)
batch_analyze                   ``media`` (same form as ``audio``), ``options`` (optional)
==============================  ==============================================================

``audio``/``media`` is ``{"seconds": float, "sample_rate": int, "channels": int,
"container": "pcm" | "wav"}``: the kit generates it with :func:`contracts.emulator.tone_pcm`
(``silence_every=1.0``) and, for ``"wav"``, wraps it with ``make_wav``. Live audio is sent in
32,000-byte pieces.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import unquote

import attrs
import httpx

from convoport import serde
from convoport.capabilities import Capability, QueryFilter
from convoport.client import AsyncClient
from convoport.config import secret_values
from convoport.contracts.emulator import make_wav, tone_pcm
from convoport.errors import ConvoportError, ProviderError
from convoport.live import DoneEvent, IngestResult, LiveOptions
from convoport.model import (
    ChatMessage,
    Participant,
    Recording,
    Session,
    SessionQuery,
    SessionStatus,
    Summary,
    Transcript,
)
from convoport.redact import SECRET_HEADERS

Outcome = dict[str, Any]
Args = Mapping[str, Any]
LIVE_PIECE = 32_000

#: Ids that must stay one path segment inside the collection (or fail before any I/O).
AWKWARD_IDS: tuple[str, ...] = (".", "..", "a/b", "%2e%2e", "../x", "a b", "café-会话", "a?b=1#c")
#: The plain id the awkward-ids scenario asks for first, to learn the collection path.
PROBE_ID = "convoport-probe-0"


# -- requirements -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Requirement:
    """A named condition a scenario needs beyond a capability (SQLAlchemy's
    ``requirements.py`` idea): ``reason`` says what a backend must have; ``met`` decides from
    the adapter class when the declaration shows it, else the contract class must list the
    name in its ``requirements``."""

    name: str
    reason: str
    met: Callable[[Any], bool] | None = None


REQUIREMENTS: dict[str, Requirement] = {
    r.name: r
    for r in (
        Requirement(
            name="server_side_filters",
            reason="the backend applies at least one list filter on the server "
            "(Capabilities.filters)",
            met=lambda adapter_class: bool(adapter_class.capabilities.filters),
        ),
        Requirement(
            name="signed_media",
            reason="media behind pre-signed links on another host (the contract class lists "
            "'signed_media' in requirements)",
        ),
    )
}


# -- what the kit observes while a scenario runs ------------------------------------------------


@attrs.frozen(kw_only=True)
class ObservedRequest:
    """One request the adapter sent, as the transport saw it. ``content`` is ``None`` for a
    streamed body the transport had not read."""

    method: str
    url: httpx.URL
    headers: httpx.Headers
    content: bytes | None

    @property
    def origin(self) -> tuple[str, str, int | None]:
        """(scheme, host, port) with default ports filled in."""
        port = self.url.port or {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(
            self.url.scheme
        )
        return self.url.scheme, self.url.host, port

    @property
    def raw_path(self) -> str:
        """The path as sent, percent-encoding kept, without the query."""
        return self.url.raw_path.decode("ascii", "replace").split("?", 1)[0]


class RequestLog:
    """The requests of one scenario run, in order, split into labelled sections
    (:func:`section`); the unlabelled start is section ``""``."""

    def __init__(self) -> None:
        self.sections: dict[str, list[ObservedRequest]] = {"": []}
        self._current = ""

    def start(self, label: str) -> None:
        self._current = label
        self.sections.setdefault(label, [])

    def add(self, request: ObservedRequest) -> None:
        self.sections[self._current].append(request)

    @property
    def all(self) -> list[ObservedRequest]:
        return [r for requests in self.sections.values() for r in requests]


class ObservingTransport(httpx.AsyncBaseTransport):
    """Passes every request to ``inner`` and notes it in ``log`` first."""

    def __init__(self, inner: httpx.AsyncBaseTransport, log: RequestLog) -> None:
        self.inner = inner
        self.log = log

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            content: bytes | None = request.content
        except httpx.RequestNotRead:
            content = None
        self.log.add(
            ObservedRequest(
                method=request.method.upper(),
                url=request.url,
                headers=request.headers,
                content=content,
            )
        )
        return await self.inner.handle_async_request(request)

    def assert_all_used(self) -> None:
        check = getattr(self.inner, "assert_all_used", None)
        if check is not None:
            check()

    async def aclose(self) -> None:
        await self.inner.aclose()


Mode = Literal["cassette", "emulator", "record"]


@attrs.frozen(kw_only=True)
class ScenarioContext:
    """What a scenario's functions may ask for while it runs (:func:`scenario_context`):
    the ``mode``, the emulator ``harness`` (emulator and record modes against an emulator,
    else ``None``) and the ``requests`` log."""

    mode: Mode
    harness: Any = None
    requests: RequestLog = attrs.field(factory=RequestLog)


_CONTEXT: contextvars.ContextVar[ScenarioContext | None] = contextvars.ContextVar(
    "convoport_scenario_context", default=None
)


def scenario_context() -> ScenarioContext:
    """The running scenario's context (a cassette-mode context with an empty log outside
    the kit)."""
    return _CONTEXT.get() or ScenarioContext(mode="cassette")


@contextlib.contextmanager
def scenario_running(context: ScenarioContext) -> Iterator[ScenarioContext]:
    """Installs ``context`` for the current task while the block runs (the kit and the
    recorder wrap each scenario run in it)."""
    token = _CONTEXT.set(context)
    try:
        yield context
    finally:
        _CONTEXT.reset(token)


def section(label: str) -> None:
    """Starts a labelled section of the request log (requests from now on belong to it)."""
    scenario_context().requests.start(label)


# -- scenarios --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Scenario:
    """One named scenario (the kit's or an adapter's own).

    * ``capability`` gates it (a backend that does not declare it skips the scenario with the
      capability as the reason; ``None``: every backend runs it); ``requires`` names
      :data:`REQUIREMENTS` entries it needs as well;
    * ``run(client, args)`` does the work and returns the raw result;
      ``check(raw, args)`` asserts its invariants; ``check_requests(log, raw, args)`` asserts
      on the requests the adapter sent; ``outcome(raw)`` is the JSON stored under
      ``"result"`` (default: :func:`convoport.serde.unstructure`);
    * ``error`` is the error class name it expects, if any;
    * ``faults`` names the emulator fault it needs (``"rate_limit_next"``, ``"fail_next"``,
      ``"bad_credentials"``);
    * ``default_args`` are used when neither the cassette nor the harness gives args
      (``None``: the scenario needs the harness's data);
    * ``connect_options`` are added to the contract class's for this scenario;
    * ``replay(transport)`` wraps the replay transport in cassette mode (pacing, ...);
    * ``emulator_transport(harness, transport, args)`` prepares the harness and may wrap its
      transport, in emulator mode and when recording against an emulator.
    """

    name: str
    capability: Capability | None
    run: Callable[[AsyncClient, Args], Awaitable[Any]]
    check: Callable[[Any, Args], None] | None = None
    check_requests: Callable[[RequestLog, Any, Args], None] | None = None
    outcome: Callable[[Any], Any] | None = None
    error: str | None = None
    faults: str | None = None
    requires: tuple[str, ...] = ()
    default_args: Mapping[str, Any] | None = None
    connect_options: Mapping[str, Any] = attrs.field(factory=dict)
    replay: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None
    emulator_transport: (
        Callable[[Any, httpx.AsyncBaseTransport, Args], httpx.AsyncBaseTransport] | None
    ) = None
    description: str = ""

    def __attrs_post_init__(self) -> None:
        unknown = [r for r in self.requires if r not in REQUIREMENTS]
        if unknown:
            raise ValueError(
                f"scenario {self.name!r} requires unknown requirement(s) {unknown}; "
                f"known: {sorted(REQUIREMENTS)}"
            )


def generate_audio(spec: Mapping[str, Any]) -> bytes:
    """The audio a scenario sends, from its ``audio``/``media`` spec."""
    seconds = float(spec.get("seconds", 3.0))
    rate = int(spec.get("sample_rate", 16000))
    channels = int(spec.get("channels", 1))
    pcm = tone_pcm(seconds, sample_rate=rate, channels=channels, silence_every=1.0)
    if spec.get("container", "pcm") == "wav":
        return make_wav(pcm, sample_rate=rate, channels=channels)
    return pcm


def outcome_of_error(error: ConvoportError) -> Outcome:
    status = error.status_code if isinstance(error, ProviderError) else None
    return {"error": {"type": type(error).__name__, "status_code": status}}


def _query(args: Args) -> SessionQuery:
    raw = args.get("query")
    return serde.structure(raw, SessionQuery) if raw else SessionQuery()


def _live_options(args: Args) -> LiveOptions:
    raw = args.get("options")
    return serde.structure(raw, LiveOptions) if raw else LiveOptions()


# -- runners ---------------------------------------------------------------------------------


async def _list_pages(client: AsyncClient, args: Args) -> list[Session]:
    size = int(args.get("page_size", 2))
    section("listing")
    return [s async for s in client.list_sessions(_query(args), page_size=size)]


async def _list_three_pages(client: AsyncClient, args: Args) -> list[Session]:
    return await _list_pages(client, {"page_size": 1, **args})


async def _get_session(client: AsyncClient, args: Args) -> Session:
    return await client.get_session(str(args["session_id"]))


async def _get_transcript(client: AsyncClient, args: Args) -> Transcript:
    return await client.get_transcript(str(args["session_id"]))


async def _get_summary(client: AsyncClient, args: Args) -> Summary:
    return await client.get_summary(str(args["session_id"]))


async def _list_participants(client: AsyncClient, args: Args) -> list[Participant]:
    return await client.list_participants(str(args["session_id"]))


async def _list_chat(client: AsyncClient, args: Args) -> list[ChatMessage]:
    return await client.list_chat(str(args["session_id"]))


async def _list_recordings(client: AsyncClient, args: Args) -> list[Recording]:
    return await client.list_recordings(str(args["session_id"]))


async def _download(client: AsyncClient, args: Args) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    recording_id = args.get("recording_id")
    section("download")
    async with client.open_recording(str(args["session_id"]), recording_id=recording_id) as stream:
        async for chunk in stream.aiter_bytes(1 << 16):
            digest.update(chunk)
            size += len(chunk)
        recording = stream.recording
    return {"recording": recording, "size": size, "sha256": digest.hexdigest()}


async def _download_signed(client: AsyncClient, args: Args) -> dict[str, Any]:
    result = await _download(client, args)
    # Not part of the outcome: what the request check looks for outside the vendor's origin.
    result["secrets"] = secret_values(client.adapter.config)
    return result


def _download_outcome(result: Mapping[str, Any]) -> Any:
    return serde.unstructure({k: result[k] for k in ("recording", "size", "sha256")})


async def _delete(client: AsyncClient, args: Args) -> None:
    await client.delete_session(str(args["session_id"]))


async def _live(client: AsyncClient, args: Args) -> dict[str, Any]:
    audio = generate_audio(args.get("audio", {}))
    kinds: list[str] = []
    async with await client.start_live(_live_options(args)) as live:
        for i in range(0, len(audio), LIVE_PIECE):
            await live.send_audio(audio[i : i + LIVE_PIECE])
        await live.finalize()
        async for event in live.events():
            kinds.append(event.kind)
        result = await live.wait()
    return {"result": result, "events": kinds, "audio_bytes": len(audio)}


async def _auth_probe(client: AsyncClient, args: Args) -> Any:
    """The first call a backend serves: get a session, else start a live session, else
    analyze."""
    ports = client.capabilities.ports
    if Capability.CATALOG_GET in ports:
        return await _get_session(client, args)
    if Capability.CATALOG_LIST in ports:
        return [s async for s in client.list_sessions(limit=1)]
    if Capability.LIVE_INGEST in ports:
        return await _live(client, args)
    return await _batch(client, args)


async def _batch(client: AsyncClient, args: Args) -> IngestResult:
    media = generate_audio(args.get("media", {"container": "wav"}))
    return await client.analyze(media, _live_options(args))


async def _awkward_ids(client: AsyncClient, args: Args) -> dict[str, Any]:
    outcomes: dict[str, Any] = {}
    for label in (PROBE_ID, *AWKWARD_IDS):
        section(f"id:{label}")
        try:
            session = await client.get_session(label)
        except ConvoportError as exc:
            outcomes[label] = outcome_of_error(exc)["error"]
        else:
            outcomes[label] = {"session_id": session.id}
    return outcomes


# -- filters -----------------------------------------------------------------------------------

#: The filters the kit can check on the neutral model (``search`` needs ``args.queries``).
_CHECKABLE = (
    QueryFilter.STATUS,
    QueryFilter.CREATED_AFTER,
    QueryFilter.CREATED_BEFORE,
    QueryFilter.CREATED_ON,
    QueryFilter.METADATA,
)


def _discriminating(values: Sequence[Any]) -> Any:
    """A value some but not all of ``values`` have (the middle one of the distinct ones)."""
    distinct = sorted(set(values), key=str)
    if len(distinct) < 2:
        return None
    return distinct[len(distinct) // 2]


def derive_query(kind: QueryFilter, sessions: Sequence[Session]) -> SessionQuery | None:
    """A query on the filter ``kind`` alone that keeps some of ``sessions`` and drops others,
    or ``None`` when their values do not allow one."""
    if kind is QueryFilter.STATUS:
        counts = Counter(s.status for s in sessions)
        if len(counts) < 2:
            return None
        status = sorted(counts, key=lambda s: (-counts[s], s.value))[0]
        return SessionQuery(statuses={status})
    times = [s.created_at for s in sessions if s.created_at is not None]
    if kind in (QueryFilter.CREATED_AFTER, QueryFilter.CREATED_BEFORE):
        moment = _discriminating(times)
        if moment is None:
            return None
        if kind is QueryFilter.CREATED_AFTER:
            return SessionQuery(created_after=moment)
        return SessionQuery(created_before=moment)
    if kind is QueryFilter.CREATED_ON:
        day = _discriminating([t.date().isoformat() for t in times])
        return None if day is None else SessionQuery(created_on=day)
    if kind is QueryFilter.METADATA:
        pairs = Counter((str(k), str(v)) for s in sessions for k, v in sorted(s.metadata.items()))
        partial = sorted(p for p, n in pairs.items() if n < len(sessions))
        if not partial:
            return None
        key, value = partial[0]
        return SessionQuery(metadata={key: value})
    return None


@attrs.frozen(kw_only=True)
class FilterRun:
    """What ``list_sessions_each_filter`` saw: the baseline listing, and per declared filter
    the query it used and the sessions that came back."""

    declared: tuple[str, ...]
    baseline: list[Session]
    queries: dict[str, SessionQuery]
    results: dict[str, list[Session]]
    missing: dict[str, str]


async def _each_filter(client: AsyncClient, args: Args) -> FilterRun:
    size = int(args.get("page_size", 50))
    baseline_limit = int(args.get("baseline_limit", 100))
    filter_limit = int(args.get("filter_limit", 100))
    declared = sorted(client.capabilities.filters, key=lambda f: f.value)
    given: Mapping[str, Any] = args.get("queries") or {}
    section("baseline")
    baseline = [
        s
        # The same page size as the filtered listings: their first requests must differ
        # from this one's only by what the filter added.
        async for s in client.list_sessions(page_size=size, limit=baseline_limit)
    ]
    queries: dict[str, SessionQuery] = {}
    missing: dict[str, str] = {}
    for kind in declared:
        if kind.value in given:
            queries[kind.value] = serde.structure(given[kind.value], SessionQuery)
            continue
        derived = derive_query(kind, baseline) if kind in _CHECKABLE else None
        if derived is None:
            missing[kind.value] = (
                "give args.queries.search (the kit cannot judge a vendor's free-text search)"
                if kind is QueryFilter.SEARCH
                else "the baseline listing has no value that keeps some sessions and drops "
                f"others; give args.queries.{kind.value}"
            )
            continue
        queries[kind.value] = derived
    results: dict[str, list[Session]] = {}
    for name, query in queries.items():
        section(f"filter:{name}")
        results[name] = [
            s async for s in client.list_sessions(query, page_size=size, limit=filter_limit)
        ]
    return FilterRun(
        declared=tuple(f.value for f in declared),
        baseline=baseline,
        queries=queries,
        results=results,
        missing=missing,
    )


def _filter_outcome(run: FilterRun) -> Any:
    return {
        "baseline": [s.id for s in run.baseline],
        # Only the fields a query sets: new SessionQuery fields do not change the outcome.
        "queries": {
            k: {f: v for f, v in serde.unstructure(q).items() if v is not None}
            for k, q in sorted(run.queries.items())
        },
        "results": {k: [s.id for s in v] for k, v in sorted(run.results.items())},
    }


def _check_each_filter(run: FilterRun, args: Args) -> None:
    assert not run.missing, "declared filters the kit could not exercise: " + "; ".join(
        f"{k}: {v}" for k, v in run.missing.items()
    )
    assert run.baseline, "the unfiltered listing is empty: the filters cannot be judged"
    for name, query in run.queries.items():
        if name == QueryFilter.SEARCH.value:
            continue
        kept = run.results[name]
        wrong = [s.id for s in kept if not query.matches(s)]
        assert not wrong, (
            f"declared filter {name} is not applied: sessions {wrong} do not match {query} "
            "(convoport trusts a declared filter and does not filter again)"
        )
        assert kept, f"filter {name}: the query {query} returned nothing"
        assert any(not query.matches(s) for s in run.baseline), (
            f"filter {name}: the query {query} keeps every listed session, so it proves "
            "nothing; give args.queries with a narrower one"
        )


def _request_key(request: ObservedRequest) -> tuple[str, str, str, bytes | None]:
    query = "&".join(sorted(f"{k}={v}" for k, v in request.url.params.multi_items()))
    return request.method, request.url.path, query, request.content


def _check_filter_requests(log: RequestLog, run: FilterRun, args: Args) -> None:
    baseline = log.sections.get("baseline") or []
    assert baseline, "the unfiltered listing sent no request"
    for name in run.queries:
        sent = log.sections.get(f"filter:{name}") or []
        assert sent, f"filter {name}: the listing sent no request"
        assert _request_key(sent[0]) != _request_key(baseline[0]), (
            f"declared filter {name} never reached the server: the filtered listing's first "
            f"request ({sent[0].method} {sent[0].url.path}?{sent[0].url.query.decode()}) is "
            "the unfiltered one; do not declare a filter the vendor does not apply"
        )


# -- invariants --------------------------------------------------------------------------------


def _check_pages(pages: int) -> Callable[[list[Session], Args], None]:
    def check(result: list[Session], args: Args) -> None:
        size = int(args.get("page_size", 1 if pages >= 3 else 2))
        assert len(result) > (pages - 1) * size, (
            f"expected at least {pages} pages ({size} per page), got {len(result)} sessions"
        )
        ids = [s.id for s in result]
        assert len(ids) == len(set(ids)), f"duplicate sessions in the listing: {ids}"
        query = _query(args)
        for s in result:
            assert query.matches(s), f"session {s.id} does not match the query {query}"

    return check


def _check_page_requests(pages: int) -> Callable[[RequestLog, Any, Args], None]:
    def check(log: RequestLog, result: Any, args: Args) -> None:
        sent = log.sections.get("listing") or []
        assert len(sent) >= pages, (
            f"the listing took {len(sent)} request(s); {pages} pages need at least {pages}"
        )

    return check


def _check_completed(result: Session, args: Args) -> None:
    assert result.id == str(args["session_id"]), f"asked for {args['session_id']}, got {result.id}"
    assert result.status is SessionStatus.COMPLETED, f"status is {result.status}, not COMPLETED"


def _check_transcript(result: Transcript, args: Args) -> None:
    assert result.session_id == str(args["session_id"])
    assert result.utterances, "the transcript has no utterances"
    assert all(u.text.strip() for u in result.utterances), "an utterance has no text"


def _check_summary(result: Summary, args: Args) -> None:
    assert result.session_id == str(args["session_id"])
    assert result.text.strip(), "the summary is empty"


def _check_participants(result: list[Participant], args: Args) -> None:
    assert result, "the session has no participants"
    others = [p.id for p in result if p.session_id != str(args["session_id"])]
    assert not others, f"participants of another session: {others}"
    ids = [p.id for p in result]
    assert len(ids) == len(set(ids)), f"duplicate participants: {ids}"
    for p in result:
        if p.joined_at is not None and p.left_at is not None:
            assert p.left_at >= p.joined_at, f"participant {p.id} left before joining"


def _check_chat(result: list[ChatMessage], args: Args) -> None:
    assert result, "the session has no chat messages"
    assert all(m.session_id == str(args["session_id"]) for m in result)
    assert all(m.text for m in result), "a chat message has no text"
    times = [m.sent_at for m in result if m.sent_at is not None]
    assert times == sorted(times), "chat messages are not in the order they were sent"


def _check_recordings(result: list[Recording], args: Args) -> None:
    assert result, "the session has no recordings"
    assert all(r.session_id == str(args["session_id"]) for r in result)


def _check_download(result: Mapping[str, Any], args: Args) -> None:
    assert result["size"] > 0, "the recording is empty"
    if "sha256" in args:
        assert result["sha256"] == args["sha256"], "the downloaded bytes differ"
    recording: Recording = result["recording"]
    if recording.size is not None:
        assert result["size"] == recording.size, (
            f"downloaded {result['size']} bytes, the recording says {recording.size}"
        )


def _vendor_origin(log: RequestLog) -> tuple[str, str, int | None]:
    first = log.all[0]
    return first.origin


def _storage_requests(log: RequestLog) -> list[ObservedRequest]:
    vendor = _vendor_origin(log)
    return [r for r in log.sections.get("download", []) if r.origin != vendor]


def check_signed_requests(log: RequestLog, result: Any, args: Args) -> None:
    """Request check for any download behind pre-signed links (its requests in the
    ``download`` section): some reached another host, and none of those carried a credential
    header or one of ``result["secrets"]`` (when the result is a mapping that lists them).
    Adapters reuse it for their own signed-download scenarios (chat, transcripts …)."""
    assert log.all, "no request was sent"
    storage = _storage_requests(log)
    assert storage, (
        "the download never left the vendor's origin: the requirement signed_media says the "
        "media sits behind pre-signed links on another host"
    )
    listed = result.get("secrets", []) if isinstance(result, Mapping) else []
    secrets = [s for s in listed if s]
    for request in storage:
        leaked = sorted(
            name
            for name, value in request.headers.items()
            if name.lower() in SECRET_HEADERS or any(s in value for s in secrets)
        )
        where = f"{request.method} {request.url.scheme}://{request.url.host}{request.url.path}"
        assert not leaked, f"credential header(s) {leaked} sent to the storage host: {where}"
        assert not any(s in str(request.url) for s in secrets), (
            f"a credential is in the URL sent to the storage host: {where}"
        )


def check_refreshed_requests(log: RequestLog, result: Any, args: Args) -> None:
    """:func:`check_signed_requests`, and the expired link was replaced: the storage host was
    reached again, after a fresh link was asked from the vendor, with another URL."""
    check_signed_requests(log, result, args)
    vendor = _vendor_origin(log)
    sent = log.sections.get("download", [])
    storage_at = [i for i, r in enumerate(sent) if r.origin != vendor]
    assert len(storage_at) >= 2, (
        "the expired link was not fetched again: one request reached the storage host"
    )
    refreshed = any(r.origin == vendor for r in sent[storage_at[0] + 1 : storage_at[-1]])
    assert refreshed, (
        "no fresh link was asked from the vendor between the expired download and the retry"
    )
    later = [sent[i] for i in storage_at[1:]]
    first_url = sent[storage_at[0]].url
    assert any(r.url != first_url for r in later), "the retry reused the expired link"


def _check_live(result: Mapping[str, Any], args: Args) -> None:
    ingest: IngestResult = result["result"]
    assert ingest.bytes_sent == result["audio_bytes"], "not every audio byte was sent"
    assert ingest.session.status is SessionStatus.COMPLETED, f"ended {ingest.session.status}"
    assert ingest.transcript.utterances, "the live session produced no final utterance"
    assert result["events"], "the live session delivered no event"
    assert result["events"][-1] == DoneEvent.kind, (
        f"the event stream did not end with done: {result['events'][-5:]}"
    )


def _check_batch(result: IngestResult, args: Args) -> None:
    assert result.transcript.utterances, "the analysis produced no utterance"
    assert result.session.status is SessionStatus.COMPLETED


_TYPED_ID_ERRORS = ("NotFound", "InvalidRequest")


def _check_awkward(result: Mapping[str, Any], args: Args) -> None:
    for label, outcome in result.items():
        if label == PROBE_ID:
            continue
        assert outcome.get("type") in _TYPED_ID_ERRORS, (
            f"get_session({label!r}) gave {outcome}; an id no session has must fail with "
            f"NotFound (or InvalidRequest before any I/O)"
        )


def _check_awkward_requests(log: RequestLog, result: Any, args: Args) -> None:
    probe = log.sections.get(f"id:{PROBE_ID}") or []
    assert probe, f"get_session({PROBE_ID!r}) sent no request"
    path = probe[0].raw_path
    segments = path.split("/")
    assert PROBE_ID in segments, f"the probe id is not one segment of {path!r}"
    at = segments.index(PROBE_ID)
    prefix, suffix = segments[:at], segments[at + 1 :]
    for label in AWKWARD_IDS:
        for request in log.sections.get(f"id:{label}") or []:
            sent = request.raw_path.split("/")
            shown = f"{request.method} {request.raw_path}"
            left = f"get_session({label!r}) left the collection path {'/'.join(prefix)}/: {shown}"
            assert sent[:at] == prefix, left
            assert len(sent) == len(segments), left
            assert sent[at + 1 :] == suffix, f"get_session({label!r}) changed the path: {shown}"
            segment = sent[at]
            assert segment not in (".", "..", ""), (
                f"get_session({label!r}) left the collection path: {shown} (the id became "
                f"{segment!r}; percent-encode it with quote_segment)"
            )
            assert unquote(segment) == label, (
                f"get_session({label!r}) did not send the id as one percent-encoded segment: "
                f"{shown} (segment {segment!r} decodes to {unquote(segment)!r})"
            )
            assert "#" not in str(request.url), shown


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="list_sessions_two_pages",
        capability=Capability.CATALOG_LIST,
        run=_list_pages,
        check=_check_pages(2),
        check_requests=_check_page_requests(2),
        description="a listing that spans at least two pages, each session once",
    ),
    Scenario(
        name="list_sessions_three_pages",
        capability=Capability.CATALOG_LIST,
        run=_list_three_pages,
        check=_check_pages(3),
        check_requests=_check_page_requests(3),
        default_args={"page_size": 1},
        description="a listing three pages long: the cursor is followed past the second page",
    ),
    Scenario(
        name="list_sessions_each_filter",
        capability=Capability.CATALOG_LIST,
        requires=("server_side_filters",),
        run=_each_filter,
        check=_check_each_filter,
        check_requests=_check_filter_requests,
        outcome=_filter_outcome,
        default_args={},
        description="every declared server-side filter is applied (the results match) and "
        "carried by the request (the server did the work)",
    ),
    Scenario(
        name="get_session_completed",
        capability=Capability.CATALOG_GET,
        run=_get_session,
        check=_check_completed,
    ),
    Scenario(
        name="get_session_not_found",
        capability=Capability.CATALOG_GET,
        run=_get_session,
        error="NotFound",
    ),
    Scenario(
        name="get_session_awkward_ids",
        capability=Capability.CATALOG_GET,
        run=_awkward_ids,
        check=_check_awkward,
        check_requests=_check_awkward_requests,
        default_args={},
        description="ids such as '..', 'a/b', '%2e%2e' and non-ASCII stay one percent-encoded "
        "segment inside the collection path, or fail with a typed error before any I/O",
    ),
    Scenario(
        name="get_transcript",
        capability=Capability.TRANSCRIPTS,
        run=_get_transcript,
        check=_check_transcript,
    ),
    Scenario(
        name="get_summary",
        capability=Capability.SUMMARIES,
        run=_get_summary,
        check=_check_summary,
    ),
    Scenario(
        name="list_participants",
        capability=Capability.PARTICIPANTS,
        run=_list_participants,
        check=_check_participants,
    ),
    Scenario(
        name="list_chat",
        capability=Capability.CHAT,
        run=_list_chat,
        check=_check_chat,
    ),
    Scenario(
        name="list_recordings",
        capability=Capability.RECORDINGS,
        run=_list_recordings,
        check=_check_recordings,
    ),
    Scenario(
        name="download_recording",
        capability=Capability.RECORDINGS,
        run=_download,
        check=_check_download,
        outcome=_download_outcome,
    ),
    Scenario(
        name="download_signed_recording",
        capability=Capability.RECORDINGS,
        requires=("signed_media",),
        run=_download_signed,
        check=_check_download,
        check_requests=check_signed_requests,
        outcome=_download_outcome,
        description="the media comes from a pre-signed link on another host, and no "
        "credential leaves the vendor's origin",
    ),
    Scenario(
        name="signed_link_refreshed",
        capability=Capability.RECORDINGS,
        requires=("signed_media",),
        run=_download_signed,
        check=_check_download,
        check_requests=check_refreshed_requests,
        outcome=_download_outcome,
        faults="expire_links_mid_download",
        description="the link expires mid-download: a fresh one is asked for and the "
        "download resumes, the bytes whole",
    ),
    Scenario(
        name="delete_session",
        capability=Capability.CATALOG_DELETE,
        run=_delete,
    ),
    Scenario(
        name="rate_limited_then_ok",
        capability=Capability.CATALOG_GET,
        run=_get_session,
        check=_check_completed,
        faults="rate_limit_next",
    ),
    Scenario(
        name="server_error_then_ok",
        capability=Capability.CATALOG_GET,
        run=_get_session,
        check=_check_completed,
        faults="fail_next",
    ),
    Scenario(
        name="auth_failure",
        capability=None,
        run=_auth_probe,
        error="AuthenticationError",
        faults="bad_credentials",
    ),
    Scenario(
        name="live_ingest_roundtrip",
        capability=Capability.LIVE_INGEST,
        run=_live,
        check=_check_live,
    ),
    Scenario(
        name="batch_analyze",
        capability=Capability.BATCH_INGEST,
        run=_batch,
        check=_check_batch,
    ),
)

BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


# -- adapter-specific scenarios -------------------------------------------------------------------

_REGISTRY: dict[str, dict[str, Scenario]] = {}


def register_scenarios(provider: str, scenarios: Iterable[Scenario]) -> None:
    """Adds an adapter's own scenarios for ``provider`` (the contract classes of that provider
    and the recorder pick them up). A name may not shadow a kit scenario; registering the
    same scenario again is harmless."""
    mine = _REGISTRY.setdefault(provider, {})
    for scenario in scenarios:
        if scenario.name in BY_NAME:
            raise ValueError(
                f"{provider}: scenario {scenario.name!r} has the name of a kit scenario; "
                "choose another name (kit scenarios cannot be replaced)"
            )
        known = mine.get(scenario.name)
        if known is not None and known is not scenario:
            raise ValueError(f"{provider}: scenario {scenario.name!r} is registered twice")
        mine[scenario.name] = scenario


def registered_scenarios(provider: str) -> tuple[Scenario, ...]:
    """The scenarios registered for ``provider`` (kit scenarios not included)."""
    return tuple(_REGISTRY.get(provider, {}).values())


#: In an outcome, a time taken from the machine's clock rather than given by the vendor (the
#: fields a session lists in ``provider_data.client_observed``): it differs on every run.
CLIENT_CLOCK = "[CLIENT CLOCK]"


def mask_client_clock(value: Any) -> Any:
    """``value`` (JSON) with every client-observed time replaced by :data:`CLIENT_CLOCK`."""
    if isinstance(value, list):
        return [mask_client_clock(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: mask_client_clock(v) for k, v in value.items()}
    data = out.get("provider_data")
    observed = data.get("client_observed") if isinstance(data, dict) else None
    if isinstance(observed, list):
        for field in observed:
            if isinstance(field, str) and isinstance(out.get(field), str):
                out[field] = CLIENT_CLOCK
    return out


def outcome_json(value: Any, scenario: Scenario | None = None) -> Outcome:
    """A scenario's return value as the JSON outcome compared with ``expected/`` (times from
    the machine's clock masked as :data:`CLIENT_CLOCK`)."""
    if scenario is not None and scenario.outcome is not None:
        return {"result": mask_client_clock(scenario.outcome(value))}
    if isinstance(value, dict) and "result" in value and "events" in value:
        return {
            "result": mask_client_clock(serde.unstructure(value["result"])),
            "events": list(value["events"]),
        }
    return {"result": mask_client_clock(serde.unstructure(value))}


__all__ = [
    "AWKWARD_IDS",
    "BY_NAME",
    "CLIENT_CLOCK",
    "PROBE_ID",
    "REQUIREMENTS",
    "SCENARIOS",
    "FilterRun",
    "ObservedRequest",
    "ObservingTransport",
    "RequestLog",
    "Requirement",
    "Scenario",
    "ScenarioContext",
    "check_refreshed_requests",
    "check_signed_requests",
    "derive_query",
    "generate_audio",
    "mask_client_clock",
    "outcome_json",
    "outcome_of_error",
    "register_scenarios",
    "registered_scenarios",
    "scenario_context",
    "scenario_running",
    "section",
]
