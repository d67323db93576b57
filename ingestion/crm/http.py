"""The CRM's HTTP client: dlt's retrying client with our timeouts and a line per retry."""

from __future__ import annotations

from collections.abc import Callable

from dlt.sources.helpers.requests import Session
from dlt.sources.helpers.requests.retry import Client, _make_retry
from tenacity import RetryCallState

from ingestion.settings import HttpSettings


def describe_retry(state: RetryCallState, max_attempts: int) -> str:
    """``crm: no answer from http://… (ReadTimeout); attempt 2 of 5 in 2 s``."""
    outcome = state.outcome
    if outcome is not None and outcome.failed:
        reason = type(outcome.exception()).__name__
    elif outcome is not None:
        reason = f"HTTP {getattr(outcome.result(), 'status_code', '?')}"
    else:
        reason = "no outcome"
    request = state.args[0] if state.args else None
    url = getattr(request, "url", "the CRM")
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    return (f"crm: no answer from {url} ({reason}); attempt {state.attempt_number + 1} "
            f"of {max_attempts} in {wait:.0f} s")


class RetryReportingClient(Client):
    """dlt's HTTP client, configured from HttpSettings, announcing each retry."""

    def __init__(self, http: HttpSettings, progress: Callable[[str], None]) -> None:
        super().__init__(
            request_timeout=http.timeout_s,
            raise_for_status=False,
            request_max_attempts=http.max_attempts,
            request_backoff_factor=http.backoff_factor,
            request_max_retry_delay=http.max_retry_delay_s,
        )
        self._progress = progress
        self._max_attempts = http.max_attempts

    def _announce(self, state: RetryCallState) -> None:
        self._progress(describe_retry(state, self._max_attempts))

    def _make_session(self) -> Session:
        session = Session(**self._session_kwargs)  # type: ignore[arg-type]
        session.mount("http://", self._adapter)
        session.mount("https://", self._adapter)
        retry = _make_retry(**self._retry_kwargs).copy(before_sleep=self._announce)
        session.send = retry.wraps(session.send)  # type: ignore[method-assign]
        return session
