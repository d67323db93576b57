"""CRM source: customers and the hard-delete log from the CRM's REST API.

Uses dlt's declarative ``rest_api`` source: JSON-link pagination (``next``), the
``updated_since`` / ``deleted_since`` query parameters driven by dlt incremental cursors on
``updated_at`` / ``deleted_at``, and append-only loading so bronze keeps every version the CRM
delivered. Rows at the cursor boundary that were already loaded are dropped by primary key,
so a re-run with nothing new adds nothing.
"""

from __future__ import annotations

from typing import Any

from dlt.sources import DltSource
from dlt.sources.rest_api import rest_api_source

from ingestion.lineage import stamp_loaded_at

EPOCH = "1970-01-01T00:00:00Z"


def _incremental(cursor: str) -> dict[str, Any]:
    return {"type": "incremental", "cursor_path": cursor, "initial_value": EPOCH}


def crm_source(base_url: str, page_size: int = 1_000) -> DltSource:
    source = rest_api_source(
        {
            "client": {
                "base_url": base_url.rstrip("/") + "/",
                "paginator": {"type": "json_link", "next_url_path": "next"},
            },
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
                        "params": {"updated_since": _incremental("updated_at")},
                    },
                },
                {
                    "name": "customer_deletions",
                    "primary_key": "customer_id",
                    "endpoint": {
                        "path": "api/v1/customer_deletions",
                        "params": {"deleted_since": _incremental("deleted_at")},
                    },
                },
            ],
        },
        name="crm",
    )
    for resource in source.resources.values():
        resource.add_map(stamp_loaded_at())
    return source
