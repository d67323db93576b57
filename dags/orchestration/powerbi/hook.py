"""``PowerBIHook``: trigger a dataset refresh and follow it until it ends.

It speaks plain HTTP (httpx) to two endpoints whose base URLs come from the connection:

* ``POST {authority_url}/{tenant_id}/oauth2/v2.0/token`` for a client-credentials token;
* ``{api_base_url}/groups/{group_id}/datasets/{dataset_id}/refreshes``: POST starts a
  refresh (202 + ``RequestId`` header), ``GET ?$top=1`` reads the latest history entry.

Retries are bounded (see ``retry``). The refresh POST is only repeated after a 429,
never after a 5xx or a lost connection, so one call never starts two refreshes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, ClassVar

import httpx
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from orchestration.powerbi.auth import ClientCredentialsTokenProvider
from orchestration.powerbi.config import PowerBIConnectionConfig
from orchestration.powerbi.errors import (
    PowerBIAPIError,
    PowerBIConfigError,
    PowerBIError,
    PowerBIRefreshFailed,
    PowerBIRefreshOutcomeUnknown,
    PowerBIRefreshTimeout,
    PowerBIServerError,
    PowerBIThrottledError,
)
from orchestration.powerbi.retry import RetrySettings, parse_retry_after, reads, throttle_only
from orchestration.powerbi.status import (
    COMPLETED,
    FAILURE_STATUSES,
    RefreshEntry,
    service_error_message,
    status_for,
)

log = logging.getLogger(__name__)


class PowerBIHook(BaseHook):
    """Client for dataset refreshes of one Power BI dataset.

    :param conn_id: Airflow connection holding client id/secret and the ids (see ``config``)
    :param config: explicit settings; when given, no Airflow connection is looked up
    :param http_timeout_s: timeout of each HTTP request
    :param retry_settings: bounds of the retry policies
    :param clock: monotonic clock in seconds, injectable for tests
    :param sleep: sleep function, injectable for tests
    :param transport: optional httpx transport, e.g. for a mock
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
        http_timeout_s: float = 30.0,
        retry_settings: RetrySettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self._config = config
        self._http_timeout_s = http_timeout_s
        self._retry_settings = retry_settings or RetrySettings()
        self._clock = clock
        self._sleep = sleep
        self._transport = transport
        self._client: httpx.Client | None = None
        self._tokens: ClientCredentialsTokenProvider | None = None

    # -- setup -----------------------------------------------------------------------

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
                timeout=self._http_timeout_s,
                transport=self._transport,
                headers={"Accept": "application/json"},
            )
        return self._client

    def close(self) -> None:
        """Close the HTTP client. The hook can be used again afterwards."""
        if self._client is not None:
            self._client.close()
        self._client = None
        self._tokens = None

    def __enter__(self) -> PowerBIHook:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- API -------------------------------------------------------------------------

    def trigger_refresh(self) -> str:
        """Start a refresh of the dataset and return its request id.

        Retries only on 429 (after ``Retry-After``). A 5xx or a lost connection raises
        ``PowerBIRefreshOutcomeUnknown`` without a second POST; any other error status
        raises ``PowerBIAPIError`` with the service's ``error.code``/``error.message``.
        An empty string is returned if the service accepted but sent no request id.
        """
        url = self.config.refreshes_url
        action = "refresh request"
        response: httpx.Response | None = None
        for attempt in throttle_only(action, self._retry_settings, self._sleep):
            with attempt:
                try:
                    response = self._send("POST", url, json={"notifyOption": "NoNotification"})
                except httpx.TransportError as err:
                    if isinstance(err, httpx.ConnectError | httpx.ConnectTimeout):
                        raise PowerBIError(
                            f"Power BI refresh request could not connect ({type(err).__name__});"
                            " no refresh was started"
                        ) from err
                    raise PowerBIRefreshOutcomeUnknown(type(err).__name__) from err
                try:
                    _raise_for_status(action, response, expected=202)
                except PowerBIServerError as err:
                    raise PowerBIRefreshOutcomeUnknown(str(err)) from err
        assert response is not None  # the loop either set it or raised
        headers = response.headers
        request_id = str(headers.get("RequestId") or headers.get("x-ms-request-id") or "")
        if request_id:
            log.info("Power BI refresh accepted, request id %s", request_id)
        else:
            log.warning("Power BI refresh accepted without a request id; following the latest")
        return request_id

    def get_latest_refresh(self) -> RefreshEntry | None:
        """Latest entry of the refresh history (``$top=1``), or ``None`` if it is empty.

        429 waits for ``Retry-After``; 5xx and connection errors back off exponentially;
        both are bounded by ``RetrySettings.max_attempts``.
        """
        url = f"{self.config.refreshes_url}?$top=1"
        action = "refresh history"
        body: Any = None
        for attempt in reads(action, self._retry_settings, self._sleep):
            with attempt:
                response = self._send("GET", url)
                _raise_for_status(action, response, expected=200)
                body = response.json()
        entries = body.get("value") if isinstance(body, dict) else None
        if not isinstance(entries, list) or not entries:
            return None
        latest = entries[0]
        return latest if isinstance(latest, dict) else None

    def wait_for_refresh(
        self, request_id: str, timeout_s: float = 1800.0, poll_interval_s: float = 30.0
    ) -> RefreshEntry:
        """Poll the history until ``request_id`` ends, and return its final entry.

        ``Completed`` returns; ``Failed``, ``Disabled`` and ``Cancelled`` raise
        ``PowerBIRefreshFailed`` with the service's message; anything else (``Unknown``
        means running) keeps polling until ``timeout_s``, then ``PowerBIRefreshTimeout``.
        """
        deadline = self._clock() + timeout_s
        last_status = ""
        while True:
            entry = self.get_latest_refresh()
            status = status_for(entry, request_id)
            if status != last_status:
                log.info("Power BI refresh %s status: %s", request_id or "(latest)", status)
                last_status = status
            if entry is not None and status == COMPLETED:
                return entry
            if entry is not None and status in FAILURE_STATUSES:
                raise PowerBIRefreshFailed(request_id, status, service_error_message(entry))
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise PowerBIRefreshTimeout(request_id, timeout_s, status)
            self._sleep(min(poll_interval_s, remaining))

    # -- plumbing --------------------------------------------------------------------

    def _token_provider(self) -> ClientCredentialsTokenProvider:
        if self._tokens is None:
            self._tokens = ClientCredentialsTokenProvider(
                self.config, self.get_conn(), self._clock, self._sleep, self._retry_settings
            )
        return self._tokens

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        tokens = self._token_provider()
        headers = {"Authorization": f"Bearer {tokens.get_token()}"}
        response = self.get_conn().request(method, url, headers=headers, **kwargs)
        if response.status_code == 401:
            tokens.invalidate()  # the next call fetches a fresh token
        return response


def _raise_for_status(action: str, response: httpx.Response, expected: int) -> None:
    """Turn an unexpected status into the matching ``PowerBIAPIError`` subclass."""
    status = response.status_code
    if status == expected:
        return
    code, message = _service_error(response)
    if status == 429:
        retry_after_s = parse_retry_after(response.headers.get("Retry-After"))
        raise PowerBIThrottledError(action, retry_after_s, code, message)
    if status >= 500:
        raise PowerBIServerError(action, status, code, message)
    raise PowerBIAPIError(action, status, code, message)


def _service_error(response: httpx.Response) -> tuple[str | None, str | None]:
    """``error.code`` and ``error.message`` from a Power BI error body, when present."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, None
    code = error.get("code")
    message = error.get("message")
    details = error.get("pbi.error")
    if not message and isinstance(details, dict):
        message = details.get("code")
    return (str(code) if code else None, str(message) if message else None)
