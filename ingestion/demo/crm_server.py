"""A small HTTP server that behaves like a SaaS CRM's REST API.

``GET /api/v1/customers?updated_since=<iso>&page=<n>&page_size=<m>`` returns customers whose
``updated_at`` is at or after ``updated_since``, oldest first, as
``{"data": [...], "page": n, "total_records": t, "next": <url or null>}``.
``GET /api/v1/customer_deletions?deleted_since=<iso>`` pages the hard-delete log the same way.
Fields that a record does not have (``preferred_channel`` before the drift day) are omitted,
as JSON APIs do. The server re-reads the CRM files whenever the generator rewrites them.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.demo import crm_data
from ingestion.httpd import BackgroundServer, LocalHTTPServer

DEFAULT_PAGE_SIZE = 1_000
MAX_PAGE_SIZE = 5_000


class CrmStore:
    """The CRM's records, reloaded when the files on disk change."""

    def __init__(self, crm_dir: Path) -> None:
        self.crm_dir = crm_dir
        self._lock = threading.Lock()
        self._stamp: tuple[float, float] | None = None
        self._customers = pa.table({})
        self._deletions = pa.table({})

    def _refresh(self) -> None:
        customers_file = self.crm_dir / crm_data.CUSTOMERS_FILE
        deletions_file = self.crm_dir / crm_data.DELETIONS_FILE
        stamp = (customers_file.stat().st_mtime,
                 deletions_file.stat().st_mtime if deletions_file.exists() else 0.0)
        if stamp != self._stamp:
            customers = crm_data.read_customers(self.crm_dir)
            self._customers = customers.sort_by([("updated_at", "ascending"),
                                                 ("customer_id", "ascending")])
            self._deletions = crm_data.read_deletions(self.crm_dir).sort_by(
                [("deleted_at", "ascending"), ("customer_id", "ascending")])
            self._stamp = stamp

    def page(self, entity: str, since: str | None, page: int, size: int
             ) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            self._refresh()
            table, cursor = ((self._customers, "updated_at") if entity == "customers"
                             else (self._deletions, "deleted_at"))
        if since:
            table = table.filter(pc.greater_equal(table.column(cursor), since))
        rows = table.slice((page - 1) * size, size).to_pylist()
        return [{k: v for k, v in row.items() if v is not None} for row in rows], table.num_rows


class _Handler(BaseHTTPRequestHandler):
    server: CrmHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None

    def _send(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        routes = {"/api/v1/customers": ("customers", "updated_since"),
                  "/api/v1/customer_deletions": ("customer_deletions", "deleted_since")}
        if url.path == "/health":
            self._send(200, {"status": "ok"})
            return
        if url.path not in routes:
            self._send(404, {"error": f"no such resource: {url.path}"})
            return
        entity, since_param = routes[url.path]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            page = int(query.get("page", "1"))
            size = min(int(query.get("page_size", str(DEFAULT_PAGE_SIZE))), MAX_PAGE_SIZE)
            if page < 1 or size < 1:
                raise ValueError
        except ValueError:
            self._send(400, {"error": "page and page_size must be positive integers"})
            return
        since = query.get(since_param)
        data, total = self.server.store.page(entity, since, page, size)
        next_url = None
        if page * size < total:
            params = {**query, "page": str(page + 1), "page_size": str(size)}
            next_url = f"{self.server.base_url}{url.path}?{urlencode(params)}"
        self._send(200, {"data": data, "page": page, "total_records": total, "next": next_url})


class CrmHTTPServer(LocalHTTPServer):
    def __init__(self, crm_dir: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.store = CrmStore(crm_dir)


class RunningCrmServer(BackgroundServer[CrmHTTPServer]):
    """The CRM stand-in in a background thread, stopped on exit."""

    def __init__(self, crm_dir: Path, port: int = 0) -> None:
        super().__init__(CrmHTTPServer(crm_dir, port=port))
