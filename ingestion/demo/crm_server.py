"""A small HTTP server that behaves like a SaaS CRM's REST API.

``GET /api/v1/customers?updated_since=<iso>&page=<n>&page_size=<m>`` returns customers whose
``updated_at`` is at or after ``updated_since``, oldest first, as
``{"data": [...], "page": n, "total_records": t, "next": <url or null>}``.
``GET /api/v1/customer_deletions?deleted_since=<iso>`` pages the hard-delete log the same way.
Fields that a record does not have (``preferred_channel`` before the drift day) are omitted,
as JSON APIs do. The server re-reads the CRM files whenever the generator rewrites them.

It runs in the ingesting process (a thread), so its cost counts against the ingest: a page is
encoded column by column with Arrow compute (``encode_rows``) rather than row by row in Python.
"""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlparse

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.demo import crm_data
from ingestion.httpd import BackgroundServer, LocalHTTPServer

DEFAULT_PAGE_SIZE = 1_000
MAX_PAGE_SIZE = 50_000
_NEEDS_ESCAPING = r'[\x00-\x1f"\\]'


def _json_fields(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """``"name":<value as JSON>`` for each row; null where the value is null."""
    key = json.dumps(name) + ":"
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        if not pc.any(pc.match_substring_regex(column, _NEEDS_ESCAPING)).as_py():
            return pc.binary_join_element_wise(key + '"', column, '"', "")
        if not pc.any(pc.match_substring_regex(column, r"[\x00-\x1f]")).as_py():
            escaped = pc.replace_substring(pc.replace_substring(column, "\\", "\\\\"),
                                           '"', '\\"')
            return pc.binary_join_element_wise(key + '"', escaped, '"', "")
    elif pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return pc.binary_join_element_wise(key, pc.cast(column, pa.string()), "")
    return pa.array([None if value is None else key + json.dumps(value, default=str)
                     for value in column.to_pylist()], pa.string())


def encode_rows(table: pa.Table) -> str:
    """The rows as a JSON array of objects, a field left out where its value is null."""
    if table.num_rows == 0:
        return "[]"
    fields = [_json_fields(name, column)
              for name, column in zip(table.column_names, table.columns, strict=True)]
    rows = pc.binary_join_element_wise(*fields, ",", null_handling="skip")
    objects = pc.binary_join_element_wise("{", rows, "}", "").combine_chunks()
    listed = pa.ListArray.from_arrays(pa.array([0, len(objects)], pa.int32()), objects)
    return f"[{pc.binary_join(listed, ',')[0].as_py()}]"


class CrmStore:
    """The CRM's records, reloaded when the files on disk change."""

    def __init__(self, crm_dir: Path) -> None:
        self.crm_dir = crm_dir
        self._lock = threading.Lock()
        self._stamp: tuple[float, float] | None = None
        self._customers = pa.table({})
        self._deletions = pa.table({})
        self._tails: dict[tuple[str, str], tuple[int, int]] = {}

    def load(self) -> None:
        """Read the files now (a client paging through asks for the same tail again)."""
        with self._lock:
            self._refresh()

    def warm_up(self) -> None:
        """``load`` where a failure is left for the first request to report."""
        with contextlib.suppress(OSError, pa.ArrowException):
            self.load()

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
            self._tails = {}
            self._stamp = stamp

    def _tail(self, entity: str, table: pa.Table, cursor: str, since: str) -> tuple[int, int]:
        """Where the records at or after ``since`` start, and how many there are."""
        if (entity, since) not in self._tails:
            # sorted on the cursor (nulls last): they follow the records before ``since``
            stamps = table.column(cursor)
            self._tails[(entity, since)] = (
                pc.sum(pc.less(stamps, since)).as_py() or 0,
                pc.sum(pc.greater_equal(stamps, since)).as_py() or 0)
        return self._tails[(entity, since)]

    def page(self, entity: str, since: str | None, page: int, size: int
             ) -> tuple[pa.Table, int]:
        """One page of records at or after ``since`` (oldest first), and how many there are."""
        with self._lock:
            self._refresh()
            table, cursor = ((self._customers, "updated_at") if entity == "customers"
                             else (self._deletions, "deleted_at"))
            first, total = (self._tail(entity, table, cursor, since) if since
                            else (0, table.num_rows))
        start = (page - 1) * size
        return table.slice(first + start, max(0, min(size, total - start))), total


class _Handler(BaseHTTPRequestHandler):
    server: CrmHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return None

    def _send(self, status: int, body: dict[str, Any]) -> None:
        self._send_payload(status, json.dumps(body).encode())

    def _send_payload(self, status: int, payload: bytes) -> None:
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
        rest = json.dumps({"page": page, "total_records": total, "next": next_url})
        self._send_payload(200, f'{{"data": {encode_rows(data)}, {rest[1:]}'.encode())


class CrmHTTPServer(LocalHTTPServer):
    def __init__(self, crm_dir: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.store = CrmStore(crm_dir)


class RunningCrmServer(BackgroundServer[CrmHTTPServer]):
    """The CRM stand-in in a background thread, stopped on exit."""

    def __init__(self, crm_dir: Path, port: int = 0) -> None:
        super().__init__(CrmHTTPServer(crm_dir, port=port))

    def __enter__(self) -> Self:
        # read the files while the ingest sets itself up, not when the first page is asked for
        threading.Thread(target=self.server.store.warm_up, daemon=True).start()
        return super().__enter__()
