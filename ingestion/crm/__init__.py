"""CRM source: customers and the hard-delete log from the CRM's REST API.

Each endpoint is paged through its JSON ``next`` link with ``updated_since`` /
``deleted_since`` driven by dlt incremental cursors on ``updated_at`` / ``deleted_at``, and
loaded append-only so bronze keeps every version the CRM delivered. Each run asks again for
``lookback_minutes`` before the cursor (late changes); versions bronze already holds are
dropped before the load (``ingestion.lookback``), so a re-run with nothing new adds nothing.

A page is parsed straight into an Arrow table (``ingestion.crm.pages``), so dlt extracts and
normalizes it on its Arrow/parquet path instead of row by row. A page with a value that does
not fit the CRM's documented type (an opt-in ``"maybe"``) is handed to dlt as JSON rows
instead, so dlt's usual type-conflict handling (a variant column) applies to it.

HTTP timeouts and retries come from ``RETAIL_CRM_TIMEOUT_S`` / ``RETAIL_CRM_MAX_ATTEMPTS``
(``ingestion.settings.crm_http_settings``); every retry is announced through ``progress``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.schema.utils import dlt_id_column
from dlt.sources import DltResource, DltSource
from dlt.sources.helpers.requests import Response, Session
from dlt.sources.helpers.requests import client as default_client

from ingestion.crm.http import RetryReportingClient
from ingestion.crm.pages import ENDPOINTS, ArrowRowsForBronze, Endpoint, read_page
from ingestion.lineage import stamp_loaded_at
from ingestion.lookback import BronzeVersions, lag_seconds
from ingestion.settings import DEFAULT_CRM_PAGE_SIZE, HttpSettings

EPOCH = "1970-01-01T00:00:00Z"
KEYS = {name: (endpoint.key, endpoint.cursor) for name, endpoint in ENDPOINTS.items()}


def crm_session(http: HttpSettings, progress: Callable[[str], None]) -> Session:
    return RetryReportingClient(http, progress).session


def _get(session: Session, url: str, params: dict[str, Any]) -> Response:
    response = session.get(url, params=params)
    response.raise_for_status()
    return response


def _pages(session: Session, url: str, params: dict[str, Any], endpoint: Endpoint
           ) -> Iterator[Any]:
    """Every page of one endpoint, following ``next`` until the CRM has no more.

    The next page is requested while dlt processes the current one (a second thread: the
    CRM's answer and Arrow's parsing and writing spend their time outside the GIL).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crm-page") as fetcher:
        pending: Future[Response] | None = fetcher.submit(_get, session, url, params)
        while pending is not None:
            rows, next_url = read_page(pending.result().content, endpoint)
            # the next link carries the query parameters
            pending = fetcher.submit(_get, session, next_url, {}) if next_url else None
            if len(rows):
                yield rows


def _none_if_empty(item: Any) -> Any:
    return None if isinstance(item, pa.Table) and item.num_rows == 0 else item


def _resource(name: str, endpoint: Endpoint, base_url: str, page_size: int,
              lookback_minutes: int, session: Session) -> DltResource:
    # the cursor stays the ISO text the API sends (compared as text, as the API does) until
    # ArrowRowsForBronze types it, after dlt's incremental step
    since = dlt.sources.incremental[str](endpoint.cursor, initial_value=EPOCH,
                                         lag=lag_seconds(lookback_minutes))

    @dlt.resource(name=name, primary_key=endpoint.key, write_disposition="append",
                  columns=[dlt_id_column()])
    def read(cursor: dlt.sources.incremental[str] = since) -> Iterator[Any]:
        params = {endpoint.since_param: cursor.last_value, "page_size": page_size}
        yield from _pages(session, base_url + endpoint.path, params, endpoint)

    return read()


def crm_source(base_url: str, page_size: int = DEFAULT_CRM_PAGE_SIZE, lookback_minutes: int = 0,
               versions: BronzeVersions | None = None, session: Session | None = None,
               ) -> DltSource:
    base_url = base_url.rstrip("/") + "/"
    http = session if session is not None else default_client.session
    resources = []
    for name, endpoint in ENDPOINTS.items():
        resource = _resource(name, endpoint, base_url, page_size, lookback_minutes, http)
        if versions is not None:
            resource.add_step(versions.skip_held(name, endpoint.key, endpoint.cursor))
            resource.add_map(_none_if_empty)  # a page bronze held entirely: no item at all
        resource.add_map(stamp_loaded_at())
        resource.add_step(ArrowRowsForBronze(endpoint.cursor))
        resources.append(resource)
    return DltSource(dlt.Schema("crm"), "crm", resources)
