"""One page of the CRM's JSON answer as an Arrow table, or as JSON rows when it must be.

The CRM answers ``{"data": [...], "next": <url or null>, ...}``. Arrow's JSON reader parses
the page in C++ against the types the CRM documents; fields it does not document (a new
column, schema drift) are inferred. Where Arrow cannot give the same outcome as dlt's JSON
path the page is returned as Python dicts instead, and dlt normalizes it as JSON:

* a value that does not fit its documented type (``"maybe"`` in ``marketing_opt_in``,
  ``"last tuesday"`` in ``created_at``): dlt lands it in a variant column;
* a nested object or list in an undocumented field: dlt unnests it.

Fields missing from (or null in) every row of the page are left out, as dlt's JSON path does,
so a column appears in bronze only once a value arrives. The cursor column stays text until
after dlt's incremental step (``ArrowRowsForBronze`` types it then): the cursors in the
pipeline state are the ISO text the API sends, compared as text.
"""

from __future__ import annotations

import base64
import io
import json
import secrets
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
from dlt.common.schema.typing import C_DLT_ID
from dlt.extract.items_transform import MapItem

TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Endpoint:
    path: str
    key: str
    cursor: str
    since_param: str
    fields: tuple[tuple[str, pa.DataType], ...]

    @property
    def page_schema(self) -> pa.Schema:
        return pa.schema([("data", pa.list_(pa.struct(list(self.fields)))),
                          ("next", pa.string())])


ENDPOINTS = {
    "customers": Endpoint(
        "api/v1/customers", "customer_id", "updated_at", "updated_since",
        (("customer_id", pa.int64()), ("first_name", pa.string()), ("last_name", pa.string()),
         ("email", pa.string()), ("phone", pa.string()), ("address_line", pa.string()),
         ("city", pa.string()), ("postal_code", pa.string()), ("country", pa.string()),
         ("loyalty_tier", pa.string()), ("marketing_opt_in", pa.bool_()),
         ("created_at", TIMESTAMP), ("updated_at", pa.string()), ("is_deleted", pa.bool_()),
         ("preferred_channel", pa.string()))),
    "customer_deletions": Endpoint(
        "api/v1/customer_deletions", "customer_id", "deleted_at", "deleted_since",
        (("customer_id", pa.int64()), ("deleted_at", pa.string()))),
}


def _as_rows(body: bytes) -> tuple[list[dict[str, Any]], str | None]:
    page = json.loads(body)
    return page.get("data") or [], page.get("next")


def _arrow_rows(body: bytes, endpoint: Endpoint) -> tuple[pa.Table, str | None] | None:
    """The page's rows as a table with the documented types, None where Arrow cannot."""
    try:
        page = pa_json.read_json(
            io.BytesIO(body),
            read_options=pa_json.ReadOptions(use_threads=False, block_size=len(body) + 1),
            parse_options=pa_json.ParseOptions(explicit_schema=endpoint.page_schema,
                                               unexpected_field_behavior="infer"))
    except pa.ArrowInvalid:
        return None  # a value of another type than documented, or not one JSON object
    if page.num_rows != 1:
        return None
    next_url = page.column("next")[0].as_py()
    rows = pa.Table.from_struct_array(page.column("data").combine_chunks().flatten())
    documented = dict(endpoint.fields)
    fields, columns = [], []
    for field, column in zip(rows.schema, rows.columns, strict=True):
        if field.name == endpoint.key and not column.null_count:
            field = field.with_nullable(False)  # the primary key, as dlt declares it
        elif field.name != endpoint.cursor:
            if column.null_count == len(column):
                continue  # no value in this page: no column, as for JSON rows
            if field.name not in documented and pa.types.is_nested(field.type):
                return None  # nested data: dlt unnests it on the JSON path
            if pa.types.is_timestamp(field.type) and field.type != TIMESTAMP:
                column = pc.cast(column, TIMESTAMP)  # an inferred ISO text, UTC
                field = field.with_type(TIMESTAMP)
        fields.append(field)
        columns.append(column)
    table = pa.table(columns, schema=pa.schema(fields))
    try:
        pc.cast(table.column(endpoint.cursor), TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # a cursor value that is not an ISO timestamp with its zone
    return table, next_url


def read_page(body: bytes, endpoint: Endpoint) -> tuple[pa.Table | list[dict[str, Any]],
                                                         str | None]:
    """The page's rows (an Arrow table, or dicts where Arrow would differ) and its next link."""
    arrow = _arrow_rows(body, endpoint)
    return arrow if arrow is not None else _as_rows(body)


class ArrowRowsForBronze(MapItem):
    """Finishes an Arrow page the way dlt's JSON path finishes JSON rows.

    The ISO-text cursor becomes a UTC timestamp, and each row gets dlt's row id ``_dlt_id``
    (dlt's JSON normalizer adds it to JSON rows; its Arrow path does not). Placed right after
    dlt's incremental step (affinity 1), which compares the cursor as text.
    """

    placement_affinity: ClassVar[float] = 1.05

    def __init__(self, cursor: str) -> None:
        super().__init__(self._finish)
        self.cursor = cursor

    def _finish(self, item: Any) -> Any:
        if not isinstance(item, pa.Table):
            return item
        index = item.schema.get_field_index(self.cursor)
        item = item.set_column(index, self.cursor, pc.cast(item.column(self.cursor), TIMESTAMP))
        return item.append_column(pa.field(C_DLT_ID, pa.string(), nullable=False),
                                  row_ids(item.num_rows))


_ROW_ID_BYTES = 12  # base64 without padding: 16 characters (dlt's own ids: 10 bytes, 14)


def row_ids(count: int) -> pa.Array:
    """Random row ids like dlt's (base64 of crypto-grade random bytes), made in one go rather
    than a Python string per row."""
    if not count:
        return pa.array([], pa.string())
    text = base64.b64encode(secrets.token_bytes(count * _ROW_ID_BYTES))
    width = _ROW_ID_BYTES * 4 // 3
    offsets = np.arange(0, width * (count + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(text))
