"""Refresh the Power BI dataset that sits on top of the gold layer.

A small hook (``PowerBIHook``, httpx + tenacity) and operator (``PowerBIRefreshOperator``)
instead of the Microsoft Azure provider's ``PowerBIDatasetRefreshOperator``, because that
operator:

* waits for the refresh only through deferral, so it needs a running triggerer;
* keeps polling a refresh whose status is ``Unknown`` until its default timeout of one
  week;
* reads the whole refresh history (no ``$top``) on every poll;
* adds 58 packages (about 163 MB) to our install, mostly the Microsoft Graph / Kiota stack.

Ours runs in the worker slot, fails after 30 minutes by default, reads one history entry
per poll, never starts a second refresh after an ambiguous 5xx, and skips itself when the
``powerbi_default`` connection is not configured. See ``README.md`` in this folder.
"""

from orchestration.powerbi.config import PowerBIConnectionConfig
from orchestration.powerbi.errors import (
    PowerBIAPIError,
    PowerBIAuthError,
    PowerBIConfigError,
    PowerBIError,
    PowerBIRefreshFailed,
    PowerBIRefreshOutcomeUnknown,
    PowerBIRefreshTimeout,
    PowerBIServerError,
    PowerBIThrottledError,
)
from orchestration.powerbi.hook import PowerBIHook
from orchestration.powerbi.operator import PowerBIRefreshOperator
from orchestration.powerbi.retry import RetrySettings

__all__ = [
    "PowerBIAPIError",
    "PowerBIAuthError",
    "PowerBIConfigError",
    "PowerBIConnectionConfig",
    "PowerBIError",
    "PowerBIHook",
    "PowerBIRefreshFailed",
    "PowerBIRefreshOperator",
    "PowerBIRefreshOutcomeUnknown",
    "PowerBIRefreshTimeout",
    "PowerBIServerError",
    "PowerBIThrottledError",
    "RetrySettings",
]
