"""Exceptions raised by the Power BI hook and operator.

All of them derive from ``AirflowException`` so a task that lets one escape fails the
usual Airflow way. None of them ever carries an access token or a client secret.
"""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException


class PowerBIError(AirflowException):
    """Base class for every Power BI error raised by this package."""


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
    """The Power BI REST API answered with an unexpected HTTP status.

    ``service_code`` and ``service_message`` hold ``error.code`` and ``error.message``
    from the JSON body when the service sent them.
    """

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
        parts = [f"Power BI {action} failed with HTTP {http_status}"]
        if service_code or service_message:
            parts.append(f": {service_code or 'error'}: {service_message or '(no message)'}")
        if hint:
            parts.append(f". {hint}")
        super().__init__("".join(parts))


class PowerBIThrottledError(PowerBIAPIError):
    """HTTP 429: the caller must wait ``retry_after_s`` seconds before trying again."""

    def __init__(
        self,
        action: str,
        retry_after_s: float,
        service_code: str | None = None,
        service_message: str | None = None,
    ) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(
            action,
            429,
            service_code=service_code,
            service_message=service_message,
            hint=f"Retry-After {retry_after_s:g} s",
        )


class PowerBIServerError(PowerBIAPIError):
    """HTTP 5xx: the service failed; safe to retry only for reads."""


class PowerBIRefreshOutcomeUnknown(PowerBIError):
    """The refresh POST got a 5xx or lost its connection: the refresh may have started.

    It is deliberately not retried, because a second POST could start a second refresh.
    Look at the refresh history (``PowerBIHook.get_latest_refresh``) to find out.
    """

    def __init__(self, cause: str) -> None:
        self.cause = cause
        super().__init__(
            f"Power BI refresh request got {cause}; the refresh may or may not have started "
            "and is not requested again. Check the dataset's refresh history before retrying."
        )


class PowerBIRefreshFailed(PowerBIError):
    """The refresh ended in ``Failed``, ``Disabled`` or ``Cancelled``."""

    def __init__(self, request_id: str, status: str, service_message: str | None) -> None:
        self.request_id = request_id
        self.status = status
        self.service_message = service_message
        reason = f": {service_message}" if service_message else ""
        super().__init__(f"Power BI refresh {request_id or '(unknown id)'} ended {status}{reason}")


class PowerBIRefreshTimeout(PowerBIError):
    """The refresh did not reach a final status within the allowed time."""

    def __init__(self, request_id: str, timeout_s: float, last_status: str) -> None:
        self.request_id = request_id
        self.timeout_s = timeout_s
        self.last_status = last_status
        super().__init__(
            f"Power BI refresh {request_id or '(unknown id)'} still {last_status} after "
            f"{timeout_s:g} s; it keeps running in Power BI, check the refresh history"
        )
