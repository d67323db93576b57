"""Bounded retry policies (tenacity) for calls to Power BI and the identity platform.

Two policies exist because the calls differ in what is safe to repeat:

* ``throttle_only``: for the refresh POST. Only HTTP 429 is retried (the service said it
  did nothing and when to come back). A 5xx or a broken connection is never retried,
  because the refresh might have started and a second POST would start another one.
* ``reads``: for GETs and the token request. 429, 5xx and connection errors are retried
  with exponential backoff.

A 429 always waits for the service's ``Retry-After``; everything else backs off
exponentially. The sleep function is injected so tests do not really wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from orchestration.powerbi.errors import PowerBIServerError, PowerBIThrottledError

log = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER_S = 30.0
"""Wait used when a 429 carries no usable ``Retry-After`` header."""


@dataclass(frozen=True)
class RetrySettings:
    """Bounds of the retry policies.

    ``max_attempts`` counts the first try; ``max_retry_after_s`` caps a ``Retry-After``
    so a bogus header cannot park the task for hours.
    """

    max_attempts: int = 5
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 300.0


def parse_retry_after(value: str | None) -> float:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds form)."""
    if value is None:
        return DEFAULT_RETRY_AFTER_S
    try:
        seconds = float(value.strip())
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
    return max(seconds, 0.0)


class _RetryAfterOrBackoff:
    """Tenacity wait: honour ``Retry-After`` on 429, back off exponentially otherwise."""

    def __init__(self, settings: RetrySettings) -> None:
        self._settings = settings
        self._backoff = wait_exponential(
            multiplier=settings.backoff_initial_s, max=settings.backoff_max_s
        )

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, PowerBIThrottledError):
            return min(error.retry_after_s, self._settings.max_retry_after_s)
        return float(self._backoff(retry_state))


def _log_before_sleep(action: str, settings: RetrySettings) -> Callable[[RetryCallState], None]:
    def before_sleep(retry_state: RetryCallState) -> None:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        wait_s = retry_state.next_action.sleep if retry_state.next_action else 0.0
        log.warning(
            "Power BI %s: %s; retrying in %.1f s (attempt %d of %d)",
            action,
            _describe(error),
            wait_s,
            retry_state.attempt_number,
            settings.max_attempts,
        )

    return before_sleep


def _describe(error: BaseException | None) -> str:
    if isinstance(error, httpx.TransportError):
        return f"connection error {type(error).__name__}"
    return str(error)


def throttle_only(action: str, settings: RetrySettings, sleep: Callable[[float], None]) -> Retrying:
    """Policy for non-idempotent calls: retry HTTP 429 only."""
    return Retrying(
        retry=retry_if_exception_type(PowerBIThrottledError),
        stop=stop_after_attempt(settings.max_attempts),
        wait=_RetryAfterOrBackoff(settings),
        sleep=sleep,
        before_sleep=_log_before_sleep(action, settings),
        reraise=True,
    )


def reads(action: str, settings: RetrySettings, sleep: Callable[[float], None]) -> Retrying:
    """Policy for idempotent calls: retry 429, 5xx and connection errors."""
    return Retrying(
        retry=retry_if_exception_type(
            (PowerBIThrottledError, PowerBIServerError, httpx.TransportError)
        ),
        stop=stop_after_attempt(settings.max_attempts),
        wait=_RetryAfterOrBackoff(settings),
        sleep=sleep,
        before_sleep=_log_before_sleep(action, settings),
        reraise=True,
    )
