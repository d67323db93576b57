"""Exceptions of the Power BI hook and operator.

All derive from ``AirflowException``, so a task that lets one escape fails the usual
Airflow way. None of them ever carries an access token or a client secret.
"""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException

NOT_LISTED = "NotListedYet"
"""Pseudo status while the refresh history does not show our request id."""


class PowerBIError(AirflowException):
    """Base class of every Power BI error raised by this package."""


class PowerBIConfigError(PowerBIError):
    """The Airflow connection is missing, or lacks the tenant, workspace or dataset."""

    def __init__(self, conn_id: str, missing: tuple[str, ...] = ()) -> None:
        self.conn_id = conn_id
        self.missing = missing
        detail = f" (missing: {', '.join(missing)})" if missing else ""
        super().__init__(f"connection '{conn_id}' is not configured{detail}")


class PowerBIAuthError(PowerBIError):
    """The identity platform refused to issue an access token."""


class PowerBIAPIError(PowerBIError):
    """Unexpected HTTP status; ``service_code``/``service_message`` come from the body."""

    def __init__(
        self,
        action: str,
        http_status: int,
        service_code: str | None = None,
        service_message: str | None = None,
        hint: str = "",
    ) -> None:
        self.action = action
        self.http_status = http_status
        self.service_code = service_code
        self.service_message = service_message
        said = ": ".join(part for part in (service_code, service_message) if part)
        text = f"Power BI {action} failed with HTTP {http_status}" + (f": {said}" if said else "")
        super().__init__(f"{text.rstrip('.')}; {hint}" if hint else text)


class PowerBIThrottledError(PowerBIAPIError):
    """HTTP 429: wait ``retry_after_s`` seconds before trying again."""

    def __init__(
        self,
        action: str,
        retry_after_s: float,
        service_code: str | None = None,
        service_message: str | None = None,
    ) -> None:
        self.retry_after_s = retry_after_s
        hint = f"Retry-After {retry_after_s:g} s"
        super().__init__(action, 429, service_code, service_message, hint=hint)


class PowerBIServerError(PowerBIAPIError):
    """HTTP 5xx: the service failed; safe to retry only for reads."""


class PowerBIRefreshBusy(PowerBIAPIError):
    """The POST was refused because another refresh of the dataset is running.

    Power BI answers 400 "Another refresh request is already executing" (409 for the
    enhanced refresh API) and starts nothing, so asking again later is safe.
    """

    def __init__(self, http_status: int, service_message: str | None, waited_s: float) -> None:
        self.waited_s = waited_s
        waited = f" after waiting {waited_s:g} s" if waited_s > 0 else ""
        hint = (
            f"none of ours was started{waited}; run the task again when the running refresh "
            "ends, or let it wait longer with the operator's "
            "timeout_s (RETAIL_POWERBI_TIMEOUT_S)"
        )
        super().__init__("refresh request", http_status, None, service_message, hint=hint)


class PowerBIRefreshOutcomeUnknown(PowerBIError):
    """The refresh POST got a 5xx or lost its connection: the refresh may have started.

    It is deliberately not retried, because a second POST could start a second refresh.
    """

    def __init__(self, cause: str) -> None:
        self.cause = cause
        super().__init__(
            f"Power BI refresh request got {cause}; the refresh may or may not have started "
            "and is not requested again. Check the dataset's refresh history before retrying."
        )


class PowerBIRefreshFailed(PowerBIError):
    """Our refresh ended ``Failed``, ``Disabled`` or ``Cancelled``."""

    def __init__(self, request_id: str, status: str, service_message: str | None) -> None:
        self.request_id = request_id
        self.status = status
        self.service_message = service_message
        reason = service_message or "the service gave no reason"
        super().__init__(
            f"Power BI refresh {request_id or '(unknown id)'} ended {status}: {reason}"
        )


class PowerBIRefreshTimeout(PowerBIError):
    """Our refresh did not reach a final status within the allowed time."""

    def __init__(self, request_id: str, timeout_s: float, last_status: str, top: int) -> None:
        self.request_id = request_id
        self.timeout_s = timeout_s
        self.last_status = last_status
        refresh = f"Power BI refresh {request_id or '(unknown id)'}"
        if last_status == NOT_LISTED:
            message = (
                f"{refresh} was not among the newest {top} refresh history entries within "
                f"{timeout_s:g} s; check the dataset's refresh history"
            )
        else:
            message = (
                f"{refresh} still {last_status} after {timeout_s:g} s; it keeps running in "
                "Power BI, check the refresh history"
            )
        super().__init__(message)
