"""A local stand-in for the identity platform and the Power BI refresh API.

It listens on 127.0.0.1 (a free port), runs in a background thread and follows the
documented contract (Datasets - Refresh Dataset In Group, Get Refresh History In Group,
and the identity platform's client-credentials errors):

* ``POST /{tenant}/oauth2/v2.0/token`` (form-encoded client credentials) returns
  ``{"access_token", "expires_in", "token_type"}``; errors carry the identity platform's
  shape (``error``, ``error_description`` with ``AADSTSnnnnn``, ``error_codes``,
  ``timestamp``, ``trace_id``, ``correlation_id``, ``error_uri``): an unknown tenant is 400
  AADSTS90002, an unknown client id 400 AADSTS700016, a wrong secret 401 AADSTS7000215;
* ``POST /v1.0/myorg/groups/{group}/datasets/{dataset}/refreshes`` answers 202 with a
  ``RequestId`` header, or 400 "Another refresh request is already executing" while any
  refresh of the dataset runs (ours or someone else's);
* ``GET`` on the same path returns the newest ``$top`` entries (default 60) of a history
  that also holds other people's refreshes (``Scheduled``, ``OnDemand``); an entry has
  ``requestId``, ``id``, ``refreshType``, ``startTime``, ``endTime`` once it ended,
  ``status`` (``Unknown`` while running, then ``Completed``, ``Failed``, ``Disabled`` or
  ``Cancelled``) and ``serviceExceptionJson`` when it failed;
* reads can be answered 503 or 429 + ``Retry-After``.

Time is simulated: every request to the refresh API is one tick, and a running refresh
ends after its number of ticks. Scenario knobs are plain attributes. Every request is
recorded with the Authorization header value replaced, so tests can count and inspect.

    with FakePowerBIServer(polls_until_done=2) as server:
        monkeypatch.setenv("AIRFLOW_CONN_POWERBI_TEST", server.connection_json())
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_PREFIX = "/v1.0/myorg"
POWER_BI_SCOPE = "https://analysis.windows.net/powerbi/api/.default"
TOKEN_PATH = re.compile(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token$")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
BUSY_MESSAGE = "Invalid dataset refresh request. Another refresh request is already executing"
FINAL_STATUSES = ("Completed", "Failed", "Disabled", "Cancelled")
DEFAULT_FAILURE_JSON = json.dumps(
    {
        "errorCode": "ModelRefreshFailed_CredentialsNotSpecified",
        "errorDescription": "The credentials of the data source are missing.",
    }
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it (the bearer token itself is not kept)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str


@dataclass
class _Refresh:
    request_id: str
    number: int
    refresh_type: str
    started_tick: int
    ticks_left: int | None  # None: never ends
    final_status: str = "Completed"
    failure_json: str = DEFAULT_FAILURE_JSON
    status: str = "Unknown"
    ended_tick: int | None = None

    def tick(self, now: int) -> bool:
        """Let one tick pass; True if the refresh ended just now."""
        if self.status != "Unknown" or self.ticks_left is None:
            return False
        if self.ticks_left > 0:
            self.ticks_left -= 1
            return False
        self.status = self.final_status
        self.ended_tick = now
        return True

    def as_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "requestId": self.request_id,
            "id": self.number,
            "refreshType": self.refresh_type,
            "startTime": _timestamp(self.started_tick),
            "status": self.status,
        }
        if self.ended_tick is not None:
            entry["endTime"] = _timestamp(self.ended_tick)
        if self.status == "Failed":
            entry["serviceExceptionJson"] = self.failure_json
        return entry


class FakePowerBIServer:
    """Threaded HTTP server imitating the token endpoint and the refresh API.

    :param polls_until_done: ticks our refresh reports ``Unknown`` before its final status
    :param final_status: how our refresh ends: Completed, Failed, Disabled or Cancelled
    :param failure_json: ``serviceExceptionJson`` of a Failed refresh
    :param never_complete: our refresh reports ``Unknown`` forever
    :param history: finished refreshes of other people already in the history, oldest
        first, as ``(refreshType, status)``
    :param running_other_ticks: someone else's refresh is running at start and ends
        after this many ticks (``None``: none; ``-1``: it never ends)
    :param scheduled_after_ours: a ``Scheduled`` refresh starts as soon as ours ends and
        runs ``other_refresh_ticks`` ticks
    :param throttle_posts: answer this many refresh POSTs with 429 + ``Retry-After``
    :param retry_after_s: value of every ``Retry-After`` header
    :param throttle_gets: answer this many history GETs with 429 + ``Retry-After``
    :param fail_gets: answer this many history GETs with ``get_error_status``
    :param post_error_status: answer every refresh POST with this status and an error body
    :param token_expires_in: ``expires_in`` of issued tokens
    :param omit_request_id_header: answer 202 with ``x-ms-request-id`` only
    """

    def __init__(
        self,
        *,
        client_id: str = "test-client-id",
        client_secret: str | None = None,
        tenant_id: str = "test-tenant",
        group_id: str = "11111111-2222-3333-4444-555555555555",
        dataset_id: str = "66666666-7777-8888-9999-000000000000",
        polls_until_done: int = 2,
        final_status: str = "Completed",
        failure_json: str = DEFAULT_FAILURE_JSON,
        never_complete: bool = False,
        history: tuple[tuple[str, str], ...] = (("Scheduled", "Completed"), ("OnDemand", "Failed")),
        running_other_ticks: int | None = None,
        scheduled_after_ours: bool = False,
        other_refresh_ticks: int = 1_000,
        throttle_posts: int = 0,
        retry_after_s: int = 7,
        throttle_gets: int = 0,
        fail_gets: int = 0,
        get_error_status: int = 503,
        post_error_status: int | None = None,
        post_error_body: dict[str, Any] | None = None,
        token_expires_in: int = 3600,
        omit_request_id_header: bool = False,
    ) -> None:
        if final_status not in FINAL_STATUSES:
            raise ValueError(f"final_status must be one of {FINAL_STATUSES}")
        self.client_id = client_id
        # made up per server: no secret is written in the repository
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.tenant_id = tenant_id
        self.group_id = group_id
        self.dataset_id = dataset_id
        self.polls_until_done = polls_until_done
        self.final_status = final_status
        self.failure_json = failure_json
        self.never_complete = never_complete
        self.scheduled_after_ours = scheduled_after_ours
        self.other_refresh_ticks = other_refresh_ticks
        self.throttle_posts = throttle_posts
        self.retry_after_s = retry_after_s
        self.throttle_gets = throttle_gets
        self.fail_gets = fail_gets
        self.get_error_status = get_error_status
        self.post_error_status = post_error_status
        self.post_error_body = post_error_body or _error("ServiceError", "Something went wrong")
        self.token_expires_in = token_expires_in
        self.omit_request_id_header = omit_request_id_header

        self.requests: list[RecordedRequest] = []
        self.issued_tokens: list[str] = []
        self.refreshes: list[_Refresh] = []  # newest first
        self.ticks = 0
        self._lock = threading.Lock()
        for refresh_type, status in history:
            self._start(refresh_type, ticks=0, final_status=status).tick(0)
        if running_other_ticks is not None:
            ticks = None if running_other_ticks < 0 else running_other_ticks
            self._start("Scheduled", ticks=ticks)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> FakePowerBIServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakePowerBIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses and connection ----------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_base_url(self) -> str:
        """Replacement for ``https://api.powerbi.com/v1.0/myorg``."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def refreshes_path(self) -> str:
        """Path of the dataset's refresh collection."""
        return f"{API_PREFIX}/groups/{self.group_id}/datasets/{self.dataset_id}/refreshes"

    def connection_extra(self) -> dict[str, str]:
        """Extras of an Airflow connection pointing at this server."""
        return {
            "tenant_id": self.tenant_id,
            "group_id": self.group_id,
            "dataset_id": self.dataset_id,
            "api_base_url": self.api_base_url,
            "authority_url": self.base_url,
        }

    def connection_json(self, **overrides: str) -> str:
        """Value for an ``AIRFLOW_CONN_<ID>`` variable; ``overrides`` replace ``login``,
        ``password`` or an extra (e.g. ``tenant_id``)."""
        extra = {**self.connection_extra()}
        extra.update({k: v for k, v in overrides.items() if k not in {"login", "password"}})
        return json.dumps(
            {
                "conn_type": "generic",
                "login": overrides.get("login", self.client_id),
                "password": overrides.get("password", self.client_secret),
                "extra": extra,
            }
        )

    # -- what happened ---------------------------------------------------------------

    def requests_to(self, method: str, path_suffix: str) -> list[RecordedRequest]:
        """Recorded requests with this method whose path ends with ``path_suffix``."""
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]

    @property
    def token_requests(self) -> list[RecordedRequest]:
        """Requests to the token endpoint."""
        return self.requests_to("POST", "/oauth2/v2.0/token")

    @property
    def refresh_posts(self) -> list[RecordedRequest]:
        """Refresh POSTs, whatever they were answered."""
        return self.requests_to("POST", "/refreshes")

    @property
    def history_gets(self) -> list[RecordedRequest]:
        """Refresh history GETs."""
        return self.requests_to("GET", "/refreshes")

    @property
    def accepted_request_ids(self) -> list[str]:
        """Request ids of the refreshes our POSTs started (answered 202), oldest first."""
        with self._lock:
            return [r.request_id for r in reversed(self.refreshes) if r.refresh_type == "ViaApi"]

    def history(self) -> list[dict[str, Any]]:
        """The whole refresh history as the API would list it, newest first."""
        with self._lock:
            return [r.as_entry() for r in self.refreshes]

    # -- request handling (called from handler threads) ------------------------------

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        """Record the request and dispatch it."""
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        headers = dict(handler.headers.items())
        authorization = headers.pop("Authorization", None)
        if authorization is not None:
            headers["Authorization"] = f"{authorization.split(' ', 1)[0]} <redacted>"
        request = RecordedRequest(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers=headers,
            body=body,
        )
        with self._lock:
            self.requests.append(request)
            status, reply_headers, payload = self._dispatch(request, authorization)
        _reply(handler, status, reply_headers, payload)

    def _dispatch(
        self, request: RecordedRequest, authorization: str | None
    ) -> tuple[int, dict[str, str], Any]:
        token_path = TOKEN_PATH.match(request.path)
        if request.method == "POST" and token_path:
            return self._token(token_path.group("tenant"), request)
        if request.path != self.refreshes_path:
            return 404, {}, _error("NotFound", f"No route for {request.path}")
        self._tick()
        if authorization not in {f"Bearer {token}" for token in self.issued_tokens}:
            return 401, {}, _error("TokenExpired", "Access token is missing or invalid")
        if request.method == "POST":
            return self._start_refresh(request)
        if request.method == "GET":
            return self._history(request)
        return 405, {}, _error("MethodNotAllowed", request.method)

    def _token(self, tenant: str, request: RecordedRequest) -> tuple[int, dict[str, str], Any]:
        form = {key: values[0] for key, values in parse_qs(request.body).items()}
        refusal = self._token_refusal(tenant, form)
        if refusal is not None:
            status, error, code, description = refusal
            return status, {}, _aadsts(error, code, description)
        token = f"fake-access-token-{uuid.uuid4().hex}"
        self.issued_tokens.append(token)
        expires = self.token_expires_in
        body = {"token_type": "Bearer", "expires_in": expires, "access_token": token}
        return 200, {}, body

    def _token_refusal(self, tenant: str, form: dict[str, str]) -> tuple[int, str, int, str] | None:
        """(HTTP status, error, AADSTS code, description) of a refused token request."""
        client_id = form.get("client_id", "")
        grant, scope = form.get("grant_type"), form.get("scope")
        if tenant != self.tenant_id:
            message = (
                f"Tenant '{tenant}' not found. Check to make sure you have the correct "
                "tenant ID and are signing into the correct cloud."
            )
            return 400, "invalid_request", 90002, message
        if grant != "client_credentials":
            message = f"The app requested an unsupported grant type '{grant}'."
            return 400, "unsupported_grant_type", 70003, message
        if client_id != self.client_id:
            message = (
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant}'. You may have sent your authentication request to the wrong "
                "tenant."
            )
            return 400, "unauthorized_client", 700016, message
        if form.get("client_secret") != self.client_secret:
            message = (
                "Invalid client secret provided. Ensure the secret being sent in the request "
                "is the client secret value, not the client secret ID, for a secret added to "
                f"app '{client_id}'."
            )
            return 401, "invalid_client", 7000215, message
        if scope != POWER_BI_SCOPE:
            message = f"The provided value for scope {scope} is not valid."
            return 400, "invalid_scope", 1002012, message
        return None

    def _start_refresh(self, request: RecordedRequest) -> tuple[int, dict[str, str], Any]:
        if self.throttle_posts > 0:
            self.throttle_posts -= 1
            return 429, {"Retry-After": str(self.retry_after_s)}, self._throttled_body()
        if self.post_error_status is not None:
            return self.post_error_status, {}, self.post_error_body
        try:
            payload = json.loads(request.body or "{}")
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or "notifyOption" not in payload:
            return 400, {}, _error("InvalidRequest", "notifyOption is required")
        if any(r.status == "Unknown" for r in self.refreshes):
            return 400, {}, _error("InvalidRequest", BUSY_MESSAGE)
        ticks = None if self.never_complete else self.polls_until_done
        refresh = self._start("ViaApi", ticks=ticks, final_status=self.final_status)
        location = f"{self.api_base_url}/groups/{self.group_id}/datasets/{self.dataset_id}"
        headers = {
            "RequestId": refresh.request_id,
            "x-ms-request-id": refresh.request_id,
            "Location": f"{location}/refreshes/{refresh.request_id}",
        }
        if self.omit_request_id_header:
            del headers["RequestId"]
        return 202, headers, None

    def _history(self, request: RecordedRequest) -> tuple[int, dict[str, str], Any]:
        if self.throttle_gets > 0:
            self.throttle_gets -= 1
            return 429, {"Retry-After": str(self.retry_after_s)}, self._throttled_body()
        if self.fail_gets > 0:
            self.fail_gets -= 1
            return self.get_error_status, {}, _error("ServiceUnavailable", "Try again later")
        top = int(request.query.get("$top", ["60"])[0])
        return 200, {}, {"value": [r.as_entry() for r in self.refreshes[:top]]}

    def _tick(self) -> None:
        self.ticks += 1
        for refresh in list(self.refreshes):
            ended = refresh.tick(self.ticks)
            if ended and refresh.refresh_type == "ViaApi" and self.scheduled_after_ours:
                self._start("Scheduled", ticks=self.other_refresh_ticks)

    def _start(
        self, refresh_type: str, ticks: int | None, final_status: str = "Completed"
    ) -> _Refresh:
        refresh = _Refresh(
            request_id=str(uuid.uuid4()),
            number=len(self.refreshes) + 1,
            refresh_type=refresh_type,
            started_tick=self.ticks,
            ticks_left=ticks,
            final_status=final_status,
            failure_json=self.failure_json,
        )
        self.refreshes.insert(0, refresh)
        return refresh

    def _throttled_body(self) -> dict[str, str]:
        return {
            "message": "You have exceeded the amount of requests allowed in the current time "
            f"frame and further requests will fail. Retry in {self.retry_after_s} seconds."
        }


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _aadsts(error: str, code: int, description: str) -> dict[str, Any]:
    """An identity platform error body, as the token endpoint sends it."""
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    timestamp = "2026-01-01 00:00:00Z"
    return {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }


def _timestamp(tick: int) -> str:
    return (EPOCH + timedelta(seconds=30 * tick)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _reply(
    handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: Any
) -> None:
    data = b"" if payload is None else json.dumps(payload).encode()
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    if payload is not None:
        handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _make_handler(server: FakePowerBIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            server.handle(self)

        def do_POST(self) -> None:
            server.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler
