"""Refresh history entries: which statuses are final and what went wrong.

An entry of ``GET .../refreshes`` looks like::

    {"requestId": "...", "status": "Unknown" | "Completed" | "Failed" | "Disabled"
     | "Cancelled", "refreshType": "ViaApi", "startTime": "...", "endTime": "...",
     "serviceExceptionJson": "{\\"errorCode\\": \\"...\\", ...}"}

``Unknown`` means the refresh is still running. ``serviceExceptionJson`` is a JSON
document inside a string and only present when the refresh failed.
"""

from __future__ import annotations

import json
from typing import Any

RefreshEntry = dict[str, Any]
"""One refresh history entry, as returned by the service."""

COMPLETED = "Completed"
FAILURE_STATUSES = frozenset({"Failed", "Disabled", "Cancelled"})
NOT_LISTED = "NotListedYet"
"""Pseudo status while the history does not show our request id yet."""


def status_for(entry: RefreshEntry | None, request_id: str) -> str:
    """Status of ``request_id`` in the latest entry, or ``NOT_LISTED``.

    An empty ``request_id`` (the service sent none) follows whatever entry is latest.
    """
    if entry is None:
        return NOT_LISTED
    entry_id = str(entry.get("requestId") or "")
    if request_id and entry_id.lower() != request_id.lower():
        return NOT_LISTED
    return str(entry.get("status") or "Unknown")


def service_error_message(entry: RefreshEntry) -> str | None:
    """Readable error from ``serviceExceptionJson``, if the service sent one."""
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
        code = error.get("code")
        message = error.get("message")
        details = error.get("pbi.error")
        if not message and isinstance(details, dict):
            message = details.get("code")
    else:
        code = data.get("errorCode")
        message = data.get("errorDescription") or data.get("message")
    parts = [str(part) for part in (code, message) if part]
    return ": ".join(parts) if parts else str(raw)
