"""Client-credentials access tokens for the Power BI REST API, cached until near expiry.

The token and the client secret are never logged: log lines only say that a token was
acquired and how long it lives. The token is also registered with Airflow's secrets
masker, so a stray log line inside a task shows ``***`` instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from orchestration.powerbi.config import PowerBIConnectionConfig
from orchestration.powerbi.errors import PowerBIAuthError, PowerBIServerError, PowerBIThrottledError
from orchestration.powerbi.retry import RetrySettings, parse_retry_after, reads

log = logging.getLogger(__name__)

EXPIRY_MARGIN_S = 300.0
"""A cached token is renewed this many seconds before the service says it expires."""


@dataclass(frozen=True)
class _CachedToken:
    value: str = ""
    renew_at: float = 0.0


class ClientCredentialsTokenProvider:
    """Fetches an OAuth2 client-credentials token and caches it until shortly before expiry.

    :param config: connection settings (tenant, client id and secret, scope)
    :param client: the HTTP client to use
    :param clock: monotonic clock in seconds (injectable for tests)
    :param sleep: sleep function used between retries (injectable for tests)
    """

    def __init__(
        self,
        config: PowerBIConnectionConfig,
        client: httpx.Client,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        retry_settings: RetrySettings,
    ) -> None:
        self._config = config
        self._client = client
        self._clock = clock
        self._sleep = sleep
        self._retry_settings = retry_settings
        self._cached = _CachedToken()

    def get_token(self) -> str:
        """Return a valid access token, requesting a new one only when needed."""
        if self._cached.value and self._clock() < self._cached.renew_at:
            return self._cached.value
        for attempt in reads("token request", self._retry_settings, self._sleep):
            with attempt:
                self._cached = self._request_token()
        return self._cached.value

    def invalidate(self) -> None:
        """Forget the cached token, e.g. after the API rejected it."""
        self._cached = _CachedToken()

    def _request_token(self) -> _CachedToken:
        response = self._client.post(
            self._config.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self._config.client_id,
                "client_secret": self._config.client_secret,
                "scope": self._config.scope,
            },
            headers={"Accept": "application/json"},
        )
        if response.status_code == 429:
            raise PowerBIThrottledError(
                "token request", parse_retry_after(response.headers.get("Retry-After"))
            )
        if response.status_code >= 500:
            raise PowerBIServerError("token request", response.status_code)
        body = _json_object(response)
        token = body.get("access_token")
        if response.status_code != 200 or not isinstance(token, str) or not token:
            # The identity platform reports errors as {"error": ..., "error_description": ...}.
            code = body.get("error")
            description = body.get("error_description")
            raise PowerBIAuthError(
                f"Power BI token request failed with HTTP {response.status_code}"
                f"{': ' + str(code) if code else ''}"
                f"{': ' + str(description) if description else ''}"
            )
        expires_in = _seconds(body.get("expires_in"), default=3600.0)
        _mask(token)
        log.info("Power BI token acquired, expires in %d s", int(expires_in))
        margin = min(EXPIRY_MARGIN_S, expires_in / 2)
        return _CachedToken(value=token, renew_at=self._clock() + expires_in - margin)


def _json_object(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _seconds(value: object, default: float) -> float:
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return default


def _mask(secret: str) -> None:
    """Register the token with Airflow's secrets masker (best effort)."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - older task SDKs
        return
    mask_secret(secret)
