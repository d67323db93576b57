"""A local stand-in for the identity platform and the Power BI refresh API.

It listens on 127.0.0.1 (a free port), runs in a background thread and speaks the
contract the hook relies on:

* ``POST /{tenant}/oauth2/v2.0/token`` (form-encoded client credentials) returns
  ``{"access_token", "expires_in", "token_type"}``;
* ``POST /v1.0/myorg/groups/{group}/datasets/{dataset}/refreshes`` checks the bearer
  token and answers 202 with a ``RequestId`` header;
* ``GET`` on the same path with ``$top`` returns the history, newest first; the newest
  refresh reports ``Unknown`` for ``polls_until_done`` reads, then ``Completed`` (or
  ``Failed`` with a ``serviceExceptionJson``).

Scenario knobs are plain attributes (set them before or during a test). Every request is
recorded, with the Authorization header value replaced, so tests can count and inspect.

    with FakePowerBIServer(polls_until_done=2) as server:
        monkeypatch.setenv("AIRFLOW_CONN_POWERBI_TEST", server.connection_json())
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_PREFIX = "/v1.0/myorg"


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
    polls: int = 0
    status: str = "Unknown"
    extra: dict[str, Any] = field(default_factory=dict)

    def as_entry(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "id": abs(hash(self.request_id)) % 10_000,
            "refreshType": "ViaApi",
            "startTime": "2026-01-01T00:00:00Z",
            "status": self.status,
            **self.extra,
        }


class FakePowerBIServer:
    """Threaded HTTP server imitating the token endpoint and the refresh API.

    :param polls_until_done: history reads answered ``Unknown`` before the final status
    :param fail_refresh: finish with ``Failed`` and ``failure_json`` instead of ``Completed``
    :param throttle_posts: answer this many refresh POSTs with 429 + ``Retry-After``
    :param retry_after_s: value of that ``Retry-After`` header
    :param fail_gets: answer this many history GETs with 500
    :param never_complete: keep reporting ``Unknown`` forever
    :param post_error_status: answer every refresh POST with this status and an error body
    :param token_expires_in: ``expires_in`` of issued tokens
    :param omit_request_id_header: answer 202 with ``x-ms-request-id`` only
    """

    def __init__(
        self,
        *,
        client_id: str = "test-client-id",
        client_secret: str = "test-client-secret-value",
        tenant_id: str = "test-tenant",
        group_id: str = "11111111-2222-3333-4444-555555555555",
        dataset_id: str = "66666666-7777-8888-9999-000000000000",
        polls_until_done: int = 2,
        fail_refresh: bool = False,
        failure_json: str = json.dumps(
            {
                "errorCode": "ModelRefreshFailed_CredentialsNotSpecified",
                "errorDescription": "The credentials of the data source are missing.",
            }
        ),
        throttle_posts: int = 0,
        retry_after_s: int = 7,
        fail_gets: int = 0,
        never_complete: bool = False,
        post_error_status: int | None = None,
        post_error_body: dict[str, Any] | None = None,
        token_expires_in: int = 3600,
        omit_request_id_header: bool = False,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.tenant_id = tenant_id
        self.group_id = group_id
        self.dataset_id = dataset_id
        self.polls_until_done = polls_until_done
        self.fail_refresh = fail_refresh
        self.failure_json = failure_json
        self.throttle_posts = throttle_posts
        self.retry_after_s = retry_after_s
        self.fail_gets = fail_gets
        self.never_complete = never_complete
        self.post_error_status = post_error_status
        self.post_error_body = post_error_body or {
            "error": {"code": "ServiceError", "message": "Something went wrong"}
        }
        self.token_expires_in = token_expires_in
        self.omit_request_id_header = omit_request_id_header

        self.requests: list[RecordedRequest] = []
        self.issued_tokens: list[str] = []
        self.refreshes: list[_Refresh] = []  # newest first
        self._lock = threading.Lock()
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

    def connection_json(self) -> str:
        """Value for an ``AIRFLOW_CONN_<ID>`` environment variable (JSON form)."""
        return json.dumps(
            {
                "conn_type": "generic",
                "login": self.client_id,
                "password": self.client_secret,
                "extra": self.connection_extra(),
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
        """Request ids of refreshes the server started (answered 202), oldest first."""
        with self._lock:
            return [r.request_id for r in reversed(self.refreshes)]

    # -- request handling (called from handler threads) ------------------------------

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        """Record the request and dispatch it."""
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        headers = dict(handler.headers.items())
        authorization = headers.pop("Authorization", None)
        if authorization is not None:
            scheme = authorization.split(" ", 1)[0]
            headers["Authorization"] = f"{scheme} <redacted>"
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
        if request.method == "POST" and request.path == f"/{self.tenant_id}/oauth2/v2.0/token":
            return self._token(request)
        if request.path != self.refreshes_path:
            return 404, {}, _error("NotFound", f"No route for {request.path}")
        if authorization not in {f"Bearer {token}" for token in self.issued_tokens}:
            return 401, {}, _error("TokenExpired", "Access token is missing or invalid")
        if request.method == "POST":
            return self._start_refresh(request)
        if request.method == "GET":
            return self._history(request)
        return 405, {}, _error("MethodNotAllowed", request.method)

    def _token(self, request: RecordedRequest) -> tuple[int, dict[str, str], Any]:
        form = {key: values[0] for key, values in parse_qs(request.body).items()}
        if form.get("grant_type") != "client_credentials":
            return 400, {}, {"error": "unsupported_grant_type"}
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return 401, {}, {"error": "invalid_client", "error_description": "Bad credentials"}
        if form.get("scope") != "https://analysis.windows.net/powerbi/api/.default":
            return 400, {}, {"error": "invalid_scope", "error_description": "Unexpected scope"}
        token = f"fake-access-token-{uuid.uuid4().hex}"
        self.issued_tokens.append(token)
        body = {
            "access_token": token,
            "expires_in": self.token_expires_in,
            "token_type": "Bearer",
        }
        return 200, {}, body

    def _start_refresh(self, request: RecordedRequest) -> tuple[int, dict[str, str], Any]:
        if self.throttle_posts > 0:
            self.throttle_posts -= 1
            headers = {"Retry-After": str(self.retry_after_s)}
            return 429, headers, _error("TooManyRequests", "Too many refresh requests")
        if self.post_error_status is not None:
            return self.post_error_status, {}, self.post_error_body
        try:
            payload = json.loads(request.body or "{}")
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or "notifyOption" not in payload:
            return 400, {}, _error("InvalidRequest", "notifyOption is required")
        refresh = _Refresh(request_id=str(uuid.uuid4()))
        self.refreshes.insert(0, refresh)
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
        if self.fail_gets > 0:
            self.fail_gets -= 1
            return 500, {}, _error("InternalServerError", "Transient failure")
        top = int(request.query.get("$top", ["60"])[0])
        if self.refreshes:
            self._advance(self.refreshes[0])
        return 200, {}, {"value": [r.as_entry() for r in self.refreshes[:top]]}

    def _advance(self, refresh: _Refresh) -> None:
        if refresh.status != "Unknown" or self.never_complete:
            return
        refresh.polls += 1
        if refresh.polls <= self.polls_until_done:
            return
        if self.fail_refresh:
            refresh.status = "Failed"
            refresh.extra = {"serviceExceptionJson": self.failure_json}
        else:
            refresh.status = "Completed"
        refresh.extra["endTime"] = "2026-01-01T00:05:00Z"


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


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
