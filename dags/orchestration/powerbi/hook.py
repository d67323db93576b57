"""``PowerBIHook``: start a refresh of one Power BI dataset and follow it until it ends.

Two endpoints, their base URLs taken from the connection (see README.md):

* ``POST {authority_url}/{tenant_id}/oauth2/v2.0/token``: a client-credentials token;
* ``{api_base_url}/groups/{group_id}/datasets/{dataset_id}/refreshes``: POST starts a
  refresh (202 + ``RequestId`` header), ``GET ?$top=N`` lists the newest N refreshes.

Our refresh is found in the history by its request id, so a refresh that someone else
starts after ours never hides it. Reads retry 429 (after ``Retry-After``), 5xx and lost
connections with bounded backoff. The POST is asked again only after answers that say
nothing was started: 429, and "another refresh is already executing" while the caller
agrees to wait. Tokens are never logged and are registered with Airflow's secrets masker.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import httpx
from airflow.sdk import BaseHook, Connection
from airflow.sdk.exceptions import AirflowNotFoundException

from orchestration.powerbi.errors import (
    NOT_LISTED,
    PowerBIAPIError,
    PowerBIAuthError,
    PowerBIConfigError,
    PowerBIError,
    PowerBIRefreshBusy,
    PowerBIRefreshFailed,
    PowerBIRefreshOutcomeUnknown,
    PowerBIRefreshTimeout,
    PowerBIServerError,
    PowerBIThrottledError,
)

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.powerbi.com/v1.0/myorg"
DEFAULT_AUTHORITY_URL = "https://login.microsoftonline.com"
DEFAULT_SCOPE = "https://analysis.windows.net/powerbi/api/.default"
DEFAULT_RETRY_AFTER_S = 30.0
TOKEN_RENEW_MARGIN_S = 300.0
COMPLETED = "Completed"
FAILURE_STATUSES = frozenset({"Failed", "Disabled", "Cancelled"})
READ_ERRORS = (PowerBIThrottledError, PowerBIServerError, httpx.TransportError)
BUSY_MESSAGE = re.compile(r"already executing", re.IGNORECASE)
AADSTS_CODE = re.compile(r"AADSTS(\d+)")
AADSTS_FIXES = {
    90002: "set extra tenant_id to the directory (tenant) id of the service principal",
    7000215: "set password to the client secret's value (not its secret id)",
    700016: "set login to the application (client) id registered in that tenant",
}
"""Identity platform errors a connection setting can fix, and the fix."""

RefreshEntry = dict[str, Any]
"""One refresh history entry (``requestId``, ``status``, ``serviceExceptionJson``...)."""
T = TypeVar("T")


@dataclass(frozen=True)
class PowerBIConnectionConfig:
    """Everything needed to refresh one dataset. The secret is kept out of repr."""

    client_id: str
    client_secret: str = field(repr=False)
    tenant_id: str
    group_id: str
    dataset_id: str
    api_base_url: str = DEFAULT_API_BASE_URL
    authority_url: str = DEFAULT_AUTHORITY_URL
    scope: str = DEFAULT_SCOPE

    @classmethod
    def from_connection(cls, conn_id: str, conn: Connection) -> PowerBIConnectionConfig:
        """Build the config from an Airflow connection, or raise ``PowerBIConfigError``."""
        extra = conn.extra_dejson or {}
        values = {
            "login (client id)": conn.login,
            "password (client secret)": conn.password,
            "tenant_id": extra.get("tenant_id"),
            "group_id": extra.get("group_id"),
            "dataset_id": extra.get("dataset_id"),
        }
        missing = tuple(name for name, value in values.items() if not _text(value))
        if missing:
            raise PowerBIConfigError(conn_id, missing)
        return cls(
            client_id=_text(conn.login),
            client_secret=_text(conn.password),
            tenant_id=_text(extra["tenant_id"]),
            group_id=_text(extra["group_id"]),
            dataset_id=_text(extra["dataset_id"]),
            api_base_url=_text(extra.get("api_base_url")) or DEFAULT_API_BASE_URL,
            authority_url=_text(extra.get("authority_url")) or DEFAULT_AUTHORITY_URL,
            scope=_text(extra.get("scope")) or DEFAULT_SCOPE,
        )

    @property
    def token_url(self) -> str:
        """Client-credentials token endpoint of the tenant."""
        return f"{self.authority_url.rstrip('/')}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def refreshes_url(self) -> str:
        """Refresh collection of the dataset: POST starts one, GET lists the history."""
        base = self.api_base_url.rstrip("/")
        return f"{base}/groups/{self.group_id}/datasets/{self.dataset_id}/refreshes"


@dataclass(frozen=True)
class RetrySettings:
    """Retry bounds: ``max_attempts`` counts the first try; ``max_retry_after_s`` caps a
    ``Retry-After`` so a bogus header cannot park the task for hours."""

    max_attempts: int = 5
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 300.0


class PowerBIHook(BaseHook):
    """Refreshes of one Power BI dataset.

    :param conn_id: Airflow connection with client id/secret and the ids (see README.md)
    :param config: explicit settings; when given, no Airflow connection is looked up
    :param history_top: refresh history entries read per poll (``$top``)
    :param http_timeout_s: timeout of each HTTP request
    :param retry_settings: retry bounds
    :param clock: monotonic clock in seconds, and ``sleep``: both injectable for tests
    """

    conn_name_attr: ClassVar[str] = "conn_id"
    default_conn_name: ClassVar[str] = "powerbi_default"
    conn_type: ClassVar[str] = "generic"
    hook_name: ClassVar[str] = "Power BI (REST)"

    def __init__(
        self,
        conn_id: str = default_conn_name,
        *,
        config: PowerBIConnectionConfig | None = None,
        history_top: int = 10,
        http_timeout_s: float = 30.0,
        retry_settings: RetrySettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.history_top = history_top
        self._config = config
        self._http_timeout_s = http_timeout_s
        self._retry_settings = retry_settings or RetrySettings()
        self._clock = clock
        self._sleep = sleep
        self._client: httpx.Client | None = None
        self._token = ""
        self._token_renew_at = 0.0

    @property
    def config(self) -> PowerBIConnectionConfig:
        """Settings from the Airflow connection; ``PowerBIConfigError`` if unusable."""
        if self._config is None:
            try:
                conn = self.get_connection(self.conn_id)
            except AirflowNotFoundException as err:
                raise PowerBIConfigError(self.conn_id) from err
            self._config = PowerBIConnectionConfig.from_connection(self.conn_id, conn)
        return self._config

    def get_conn(self) -> httpx.Client:
        """The shared HTTP client (created on first use)."""
        if self._client is None:
            self._client = httpx.Client(
                timeout=self._http_timeout_s, headers={"Accept": "application/json"}
            )
        return self._client

    def close(self) -> None:
        """Close the HTTP client and forget the token. The hook can be used again."""
        if self._client is not None:
            self._client.close()
        self._client = None
        self._token = ""

    def __enter__(self) -> PowerBIHook:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- refresh API -----------------------------------------------------------------

    def trigger_refresh(self, busy_timeout_s: float = 0.0, poll_interval_s: float = 30.0) -> str:
        """Start a refresh and return its request id ("" if the service sent none).

        A 429 is retried after ``Retry-After``. "Another refresh is already executing"
        is asked again every ``poll_interval_s`` for up to ``busy_timeout_s``, then
        raises ``PowerBIRefreshBusy``. A 5xx or a lost connection raises
        ``PowerBIRefreshOutcomeUnknown`` without a second POST.
        """
        deadline = self._clock() + busy_timeout_s
        while True:
            try:
                response = self._retry("refresh request", self._post_refresh, PowerBIThrottledError)
                break
            except PowerBIRefreshBusy as busy:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    raise PowerBIRefreshBusy(
                        busy.http_status, busy.service_message, busy_timeout_s
                    ) from busy
                log.info("Power BI: another refresh of the dataset is running; asking again")
                self._sleep(min(poll_interval_s, remaining))
        request_id = str(
            response.headers.get("RequestId") or response.headers.get("x-ms-request-id") or ""
        )
        if request_id:
            log.info("Power BI refresh accepted, request id %s", request_id)
        else:
            log.warning("Power BI refresh accepted without a request id; following the newest")
        return request_id

    def get_refreshes(self) -> list[RefreshEntry]:
        """The newest ``history_top`` refresh history entries, newest first."""
        url = f"{self.config.refreshes_url}?$top={self.history_top}"

        def read() -> Any:
            response = self._send("GET", url)
            _raise_for_status("refresh history", response, expected=200)
            return response.json()

        body = self._retry("refresh history", read, *READ_ERRORS)
        entries = body.get("value") if isinstance(body, dict) else None
        return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []

    def find_refresh(self, request_id: str) -> RefreshEntry | None:
        """Our entry in the history; without a request id, the newest API refresh."""
        for entry in self.get_refreshes():
            if request_id and str(entry.get("requestId") or "").lower() == request_id.lower():
                return entry
            if not request_id and entry.get("refreshType") == "ViaApi":
                return entry
        return None

    def wait_for_refresh(
        self, request_id: str, timeout_s: float = 1800.0, poll_interval_s: float = 30.0
    ) -> RefreshEntry:
        """Poll the history until ``request_id`` ends, and return its final entry.

        ``Completed`` returns; ``Failed``, ``Disabled`` and ``Cancelled`` raise
        ``PowerBIRefreshFailed`` with the service's reason; ``Unknown`` (running) or not
        listed yet keeps polling until ``timeout_s``, then ``PowerBIRefreshTimeout``.
        """
        deadline = self._clock() + timeout_s
        last_status = ""
        while True:
            entry = self.find_refresh(request_id)
            status = str(entry.get("status") or "Unknown") if entry is not None else NOT_LISTED
            if status != last_status:
                log.info("Power BI refresh %s status: %s", request_id or "(newest)", status)
                last_status = status
            if entry is not None and status == COMPLETED:
                return entry
            if entry is not None and status in FAILURE_STATUSES:
                raise PowerBIRefreshFailed(request_id, status, service_error_message(entry))
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise PowerBIRefreshTimeout(request_id, timeout_s, status, self.history_top)
            self._sleep(min(poll_interval_s, remaining))

    # -- plumbing --------------------------------------------------------------------

    def _post_refresh(self) -> httpx.Response:
        try:
            response = self._send(
                "POST", self.config.refreshes_url, json={"notifyOption": "NoNotification"}
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as err:
            raise PowerBIError(
                f"Power BI refresh request could not connect ({type(err).__name__});"
                " no refresh was started"
            ) from err
        except httpx.TransportError as err:
            raise PowerBIRefreshOutcomeUnknown(type(err).__name__) from err
        _, message = _service_error(response)
        if response.status_code == 409 or (
            response.status_code == 400 and BUSY_MESSAGE.search(message or "")
        ):
            raise PowerBIRefreshBusy(response.status_code, message, 0.0)
        try:
            _raise_for_status("refresh request", response, expected=202)
        except PowerBIServerError as err:
            raise PowerBIRefreshOutcomeUnknown(str(err)) from err
        return response

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._access_token()}"}
        response = self.get_conn().request(method, url, headers=headers, **kwargs)
        if response.status_code == 401:
            self._token = ""  # the next call fetches a fresh token
        return response

    def _access_token(self) -> str:
        if not self._token or self._clock() >= self._token_renew_at:
            self._retry("token request", self._request_token, *READ_ERRORS)
        return self._token

    def _request_token(self) -> None:
        config = self.config
        response = self.get_conn().post(
            config.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": config.client_id,
                "client_secret": config.client_secret,
                "scope": config.scope,
            },
        )
        if response.status_code == 429 or response.status_code >= 500:
            _raise_for_status("token request", response, expected=200)
        body = _json_object(response)
        token = body.get("access_token")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            raise PowerBIAuthError(_auth_error_message(self.conn_id, response.status_code, body))
        expires_in = _seconds(body.get("expires_in"), default=3600.0)
        _mask(token)
        log.info("Power BI token acquired, expires in %d s", int(expires_in))
        self._token = token
        margin = min(TOKEN_RENEW_MARGIN_S, expires_in / 2)
        self._token_renew_at = self._clock() + expires_in - margin

    def _retry(self, action: str, call: Callable[[], T], *retry_on: type[BaseException]) -> T:
        """``call()``, repeated on ``retry_on`` errors: 429 after ``Retry-After``,
        others after exponential backoff, at most ``max_attempts`` times in all."""
        settings = self._retry_settings
        attempt = 1
        while True:
            try:
                return call()
            except retry_on as err:
                if attempt >= settings.max_attempts:
                    raise
                if isinstance(err, PowerBIThrottledError):
                    wait_s = min(err.retry_after_s, settings.max_retry_after_s)
                else:
                    backoff = settings.backoff_initial_s * 2 ** (attempt - 1)
                    wait_s = min(backoff, settings.backoff_max_s)
                reason = f"connection error {type(err).__name__}"
                log.warning(
                    "Power BI %s: %s; retrying in %.1f s (attempt %d of %d)",
                    action,
                    reason if isinstance(err, httpx.TransportError) else err,
                    wait_s,
                    attempt,
                    settings.max_attempts,
                )
                self._sleep(wait_s)
                attempt += 1


def service_error_message(entry: RefreshEntry) -> str | None:
    """Readable reason from a history entry's ``serviceExceptionJson``, if any."""
    raw = entry.get("serviceExceptionJson")
    if not raw:
        return None
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return str(raw)
    if not isinstance(data, dict):
        return str(raw)
    error = data.get("error")
    if isinstance(error, dict):
        parts = [error.get("code"), error.get("message")]
    else:
        parts = [data.get("errorCode"), data.get("errorDescription") or data.get("message")]
    text = ": ".join(str(part) for part in parts if part)
    return text or str(raw)


def _raise_for_status(action: str, response: httpx.Response, expected: int) -> None:
    """Turn an unexpected status into the matching ``PowerBIAPIError``."""
    status = response.status_code
    if status == expected:
        return
    code, message = _service_error(response)
    if status == 429:
        retry_after_s = _retry_after_s(response.headers.get("Retry-After"))
        raise PowerBIThrottledError(action, retry_after_s, code, message)
    if status >= 500:
        raise PowerBIServerError(action, status, code, message)
    raise PowerBIAPIError(action, status, code, message)


def _service_error(response: httpx.Response) -> tuple[str | None, str | None]:
    """``error.code`` and ``error.message`` (or a bare ``message``) of an error body."""
    body = _json_object(response)
    error = body.get("error")
    if not isinstance(error, dict):
        message = body.get("message")
        return None, str(message) if message else None
    code = error.get("code")
    message = error.get("message")
    details = error.get("pbi.error")
    if not message and isinstance(details, dict):
        message = details.get("code")
    return (str(code) if code else None, str(message) if message else None)


def _auth_error_message(conn_id: str, http_status: int, body: dict[str, Any]) -> str:
    """One line from an identity platform error, naming the setting that fixes it."""
    description = str(body.get("error_description") or "").strip().splitlines()
    first_line = description[0].strip() if description else "(no description)"
    codes = body.get("error_codes")
    found = AADSTS_CODE.search(first_line)
    if isinstance(codes, list) and codes and isinstance(codes[0], int):
        code = codes[0]
    else:
        code = int(found.group(1)) if found else 0
    fix = AADSTS_FIXES.get(code, "check the client id, secret and tenant id")
    ids = ", ".join(
        f"{label} {body[key]}"
        for key, label in (("trace_id", "trace id"), ("correlation_id", "correlation id"))
        if body.get(key)
    )
    return (
        f"Power BI token request failed with HTTP {http_status} {body.get('error') or 'error'}: "
        f"{first_line} Fix connection '{conn_id}': {fix}." + (f" ({ids})" if ids else "")
    )


def _retry_after_s(value: str | None) -> float:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds form)."""
    return max(_seconds(value, DEFAULT_RETRY_AFTER_S), 0.0) if value else DEFAULT_RETRY_AFTER_S


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _seconds(value: object, default: float) -> float:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return default


def _text(value: object) -> str:
    """Stripped string for a connection field, empty when unset."""
    return str(value).strip() if value is not None else ""


def _mask(secret: str) -> None:
    """Register the token with Airflow's secrets masker (best effort)."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - older task SDKs
        return
    mask_secret(secret)
