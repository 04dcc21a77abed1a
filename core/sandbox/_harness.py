"""``EmulatorHarness``: the base class of every vendor emulator (see :mod:`convoport.sandbox`)."""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import httpx
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from convoport.sandbox._clock import SandboxClock
from convoport.sandbox._faults import FaultMiddleware, Faults
from convoport.sandbox._paging import offset_link_page, offset_total_page, page_number_page
from convoport.sandbox._settings import HarnessSettings
from convoport.sandbox._transport import emulator_transport

H = TypeVar("H", bound="EmulatorHarness")


class EmulatorHarness:
    """An emulator: a Starlette app speaking one vendor's API from seeded state, with the
    knobs ``sandbox=True``, the contract kit and ``convoport emulate`` use.

    A subclass sets the class attributes and implements :meth:`routes` (and usually
    :meth:`error_body` and :meth:`scenario_args`); its routes call :meth:`check_auth` and
    answer errors with :meth:`error_response`. Construct it with keyword arguments only:
    ``settings`` (a :class:`HarnessSettings`: sessions, seed, latency and fault rates),
    ``faults`` (a :class:`Faults` to share with a test, instead of the one the settings
    describe), ``clock`` (a :class:`SandboxClock`), ``api_key`` (the credential accepted,
    default :attr:`sandbox_key`).

    Class attributes:

    * ``provider`` — the provider name (for messages);
    * ``base_url`` — the vendor's base URL, returned by :meth:`connect_options`;
    * ``sandbox_key`` — the placeholder credential the emulator accepts;
    * ``credential_option`` — the config option that carries it (``"api_key"``);
    * ``credential_header`` / ``credential_scheme`` / ``credential_query`` — where requests
      present it: a header (with a scheme such as ``"Bearer"``), else a query parameter;
    * ``default_seed`` — the seed when the settings give none;
    * ``default_sessions`` — the seeded sessions when the settings give no count (0: the
      emulator keeps no catalog and ignores ``sessions``).
    """

    provider: ClassVar[str] = ""
    base_url: ClassVar[str] = ""
    sandbox_key: ClassVar[str] = "sandbox-key"
    credential_option: ClassVar[str] = "api_key"
    credential_header: ClassVar[str] = "x-api-key"
    credential_scheme: ClassVar[str | None] = None
    credential_query: ClassVar[str | None] = None
    default_seed: ClassVar[int] = 0
    default_sessions: ClassVar[int] = 0

    # The three pagination helpers, for the routes (see convoport.sandbox._paging).
    offset_link_page = staticmethod(offset_link_page)
    page_number_page = staticmethod(page_number_page)
    offset_total_page = staticmethod(offset_total_page)

    def __init__(
        self,
        *,
        settings: HarnessSettings | None = None,
        faults: Faults | None = None,
        clock: SandboxClock | None = None,
        api_key: str | None = None,
    ) -> None:
        self.settings = settings if settings is not None else HarnessSettings()
        #: the seed of the seeded data (and of the fault RNG unless ``faults`` is given)
        self.seed: int = self.default_seed if self.settings.seed is None else self.settings.seed
        #: how many sessions to seed
        self.session_count: int = (
            self.default_sessions if self.settings.sessions is None else self.settings.sessions
        )
        self.faults = faults if faults is not None else self.settings.faults(default_seed=self.seed)
        self.clock = clock if clock is not None else SandboxClock()
        self.api_key = api_key if api_key is not None else self.sandbox_key
        self._app: ASGIApp | None = None

    @classmethod
    def from_settings(cls: type[H], settings: HarnessSettings) -> H:
        """A fresh emulator sized and degraded by ``settings`` (what ``sandbox=True`` and
        ``convoport emulate`` call)."""
        return cls(settings=settings)

    # -- what connecting needs -----------------------------------------------------------------

    def connect_options(self) -> dict[str, Any]:
        """The config options that reach this emulator: the credential and the base URL."""
        return {self.credential_option: self.api_key, "base_url": self.base_url}

    def bad_credentials(self) -> dict[str, Any]:
        """Options with a credential the emulator rejects with 401 (the kit's
        ``auth_failure`` scenario)."""
        return {self.credential_option: "wrong-" + self.sandbox_key}

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process ``httpx`` transport for :attr:`app` (HTTP with streamed bodies,
        WebSockets through httpx-ws). Each call gives a new transport on the same state."""
        return emulator_transport(self.app)

    def scenario_args(self, scenario: str) -> dict[str, Any] | None:
        """The arguments of a kit scenario from the seeded data, or None when the emulator has
        none for it (the kit then skips the scenario)."""
        return None

    # -- the clock ---------------------------------------------------------------------------

    def now(self) -> datetime:
        """The emulator's time (timezone-aware UTC), from :attr:`clock`."""
        return self.clock.now()

    # -- the app -----------------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        """The Starlette routes of the vendor API."""
        raise NotImplementedError(f"{type(self).__name__} must define routes()")

    @property
    def app(self) -> ASGIApp:
        """The ASGI app: the routes behind :class:`FaultMiddleware` (built on first use)."""
        if self._app is None:
            self._app = self.wrap(self.starlette())
        return self._app

    def starlette(self) -> Starlette:
        """The Starlette application of :meth:`routes`, unknown routes and methods answered
        by :meth:`not_found` and :meth:`method_not_allowed`."""

        async def not_found(request: Request, exc: Exception) -> Response:
            return self.not_found(request)

        async def not_allowed(request: Request, exc: Exception) -> Response:
            return self.method_not_allowed(request)

        return Starlette(
            routes=list(self.routes()),
            exception_handlers={404: not_found, 405: not_allowed},
        )

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """Middleware around the app; by default fault injection with the vendor's error
        body. Override to add more (call ``super().wrap(app)``)."""
        return FaultMiddleware(app, self.faults, error_body=self._fault_body)

    def not_found(self, request: Request) -> Response:
        """The answer to an unknown route."""
        return self.error_response(404, "Not Found", path=request.url.path)

    def method_not_allowed(self, request: Request) -> Response:
        """The answer to a known route with a method it does not serve."""
        return self.error_response(405, "Method Not Allowed", path=request.url.path)

    # -- auth --------------------------------------------------------------------------------

    def presented_credential(self, request: HTTPConnection) -> str | None:
        """The credential a request carries (``credential_header``, else
        ``credential_query``), or None."""
        value = request.headers.get(self.credential_header)
        if value is not None and self.credential_scheme:
            scheme, _, token = value.partition(" ")
            value = token.strip() if scheme.lower() == self.credential_scheme.lower() else None
        if not value and self.credential_query:
            value = request.query_params.get(self.credential_query)
        return value or None

    def auth_failure_message(self, presented: str | None) -> str:
        """The message of the 401 for a missing (None) or wrong credential."""
        return "Invalid or missing API key"

    def check_auth(self, request: HTTPConnection) -> Response | None:
        """The auth check every route calls first: None when the request carries
        :attr:`api_key`, else the vendor's 401 to return."""
        presented = self.presented_credential(request)
        if presented is not None and hmac.compare_digest(presented.encode(), self.api_key.encode()):
            return None
        return self.error_response(401, self.auth_failure_message(presented), path=request.url.path)

    # -- errors ------------------------------------------------------------------------------

    def error_body(self, status: int, message: str, *, path: str = "", **extra: Any) -> Any:
        """The vendor's error envelope (a JSON value) for ``status`` with ``message``; used by
        the routes (:meth:`error_response`) and by injected faults alike. ``extra`` carries
        vendor-specific fields (validation errors, ...)."""
        return {"status": status, "message": message, **extra}

    def error_response(
        self,
        status: int,
        message: str,
        *,
        path: str = "",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> JSONResponse:
        """A JSON response carrying :meth:`error_body`."""
        return JSONResponse(
            self.error_body(status, message, path=path, **extra),
            status_code=status,
            headers=headers,
        )

    def fault_message(self, status: int) -> str:
        """The message of an injected error (429 or ``faults.error_status``)."""
        return "Too many requests" if status == 429 else "Internal server error"

    def _fault_body(self, status: int, path: str) -> tuple[bytes, str]:
        body = self.error_body(status, self.fault_message(status), path=path)
        return json.dumps(body).encode(), "application/json"


__all__ = ["EmulatorHarness"]
