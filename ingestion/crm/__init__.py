"""CRM source: customers and the hard-delete log from the CRM's REST API.

Uses dlt's declarative ``rest_api`` source: JSON-link pagination (``next``), the
``updated_since`` / ``deleted_since`` query parameters driven by dlt incremental cursors on
``updated_at`` / ``deleted_at``, and append-only loading so bronze keeps every version the CRM
delivered. Each run asks again for ``lookback_minutes`` before the cursor (late changes);
versions bronze already holds are dropped before the load (``ingestion.lookback``), so a
re-run with nothing new adds nothing.

HTTP timeouts and retries come from ``RETAIL_CRM_TIMEOUT_S`` / ``RETAIL_CRM_MAX_ATTEMPTS``
(``ingestion.settings.crm_http_settings``); every retry is announced through ``progress``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlt.sources import DltSource
from dlt.sources.helpers.requests import Session
from dlt.sources.rest_api import rest_api_source

from ingestion.crm.http import RetryReportingClient
from ingestion.lineage import stamp_loaded_at
from ingestion.lookback import BronzeVersions, lag_seconds
from ingestion.settings import HttpSettings

EPOCH = "1970-01-01T00:00:00Z"
KEYS = {"customers": ("customer_id", "updated_at"),
        "customer_deletions": ("customer_id", "deleted_at")}


def _incremental(cursor: str, lookback_minutes: int) -> dict[str, Any]:
    incremental: dict[str, Any] = {"type": "incremental", "cursor_path": cursor,
                                   "initial_value": EPOCH}
    lag = lag_seconds(lookback_minutes)
    if lag:
        incremental["lag"] = lag
    return incremental


def crm_session(http: HttpSettings, progress: Callable[[str], None]) -> Session:
    return RetryReportingClient(http, progress).session


def crm_source(base_url: str, page_size: int = 1_000, lookback_minutes: int = 0,
               versions: BronzeVersions | None = None, session: Session | None = None,
               ) -> DltSource:
    client: dict[str, Any] = {
        "base_url": base_url.rstrip("/") + "/",
        "paginator": {"type": "json_link", "next_url_path": "next"},
    }
    if session is not None:
        client["session"] = session
    source = rest_api_source(
        {
            "client": client,  # type: ignore[typeddict-item]
            "resource_defaults": {
                "write_disposition": "append",
                "endpoint": {"data_selector": "data", "params": {"page_size": page_size}},
            },
            "resources": [
                {
                    "name": "customers",
                    "primary_key": "customer_id",
                    "endpoint": {
                        "path": "api/v1/customers",
                        "params": {"updated_since": _incremental("updated_at",
                                                                 lookback_minutes)},
                    },
                },
                {
                    "name": "customer_deletions",
                    "primary_key": "customer_id",
                    "endpoint": {
                        "path": "api/v1/customer_deletions",
                        "params": {"deleted_since": _incremental("deleted_at",
                                                                 lookback_minutes)},
                    },
                },
            ],
        },
        name="crm",
    )
    for name, resource in source.resources.items():
        if versions is not None:
            key, cursor = KEYS[name]
            resource.add_step(versions.skip_held(name, key, cursor))
        resource.add_map(stamp_loaded_at())
    return source
