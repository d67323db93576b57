"""Refresh the Power BI dataset that sits on top of the gold layer.

``hook`` holds the connection settings, the token, the retries and ``PowerBIHook``;
``operator`` holds ``PowerBIRefreshOperator``; ``errors`` their exceptions. Why not the
Microsoft Azure provider's operator, and how the refresh is followed: see README.md.
"""

from orchestration.powerbi.errors import (
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
from orchestration.powerbi.hook import PowerBIConnectionConfig, PowerBIHook, RetrySettings
from orchestration.powerbi.operator import PowerBIRefreshOperator

__all__ = [
    "PowerBIAPIError",
    "PowerBIAuthError",
    "PowerBIConfigError",
    "PowerBIConnectionConfig",
    "PowerBIError",
    "PowerBIHook",
    "PowerBIRefreshBusy",
    "PowerBIRefreshFailed",
    "PowerBIRefreshOperator",
    "PowerBIRefreshOutcomeUnknown",
    "PowerBIRefreshTimeout",
    "PowerBIServerError",
    "PowerBIThrottledError",
    "RetrySettings",
]
