"""A table loader that hands the driver's own values to Arrow.

dlt's ``pyarrow`` backend reads rows through SQLAlchemy, which converts every value in
Python first: on SQLite it parses each ``DATETIME`` string with a regular expression and
builds a ``Decimal`` for each ``NUMERIC``. That conversion was half of the ERP extraction.
This loader runs the same query (dlt's, with its incremental ``where`` as literals) as
plain SQL, reads the rows from the driver's cursor as the driver returns them (no
SQLAlchemy row objects either) and lets Arrow convert each column to the type dlt derives
from the reflected column: a string to a timestamp or a date, a float to a decimal, an
integer to a boolean, all in Arrow's own code.

Where Arrow cannot convert a column of a chunk (a value of an unexpected type: SQLite
stores whatever it is given), that chunk goes through dlt's own conversion instead, which
raises dlt's usual error naming the column where it cannot convert it either. The tables
are the same as dlt's own loader gives (``tests/ingestion/test_erp_arrow_loader.py``
compares the two on SQLite, PostgreSQL and MariaDB).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
from dlt.common.configuration.container import Container
from dlt.common.destination import DestinationCapabilitiesContext
from dlt.common.libs.pyarrow import get_py_arrow_datatype
from dlt.common.schema.typing import TTableSchemaColumns
from dlt.sources.sql_database.arrow_helpers import row_tuples_to_arrow
from dlt.sources.sql_database.helpers import TableLoader

UTC = "UTC"


class DriverValuesArrowLoader(TableLoader):
    """``TableLoader`` for the ``pyarrow`` backend, converting columns in Arrow."""

    def load_rows(self, backend_kwargs: dict[str, Any] | None = None) -> Iterator[Any]:
        tz = (backend_kwargs or {}).get("tz", UTC)
        sql = self.compile_query(self.make_query())
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True).exec_driver_sql(sql)
            try:
                names = list(result.keys())
                columns = {name: self.columns.get(name, {"name": name}) for name in names}
                # SQLAlchemy builds a Row object per row even when it converts nothing: the
                # rows are read from the driver's cursor, after the one SQLAlchemy may have
                # read ahead (its buffered strategy reads a row as the query runs)
                chunk: list[Any] = [row._data for row in result.fetchmany(1)]
                if not chunk:
                    return
                cursor = result.cursor
                chunk += cursor.fetchmany(self.chunk_size - 1)
                while chunk:
                    yield columns_to_arrow(chunk, columns, tz)
                    chunk = list(cursor.fetchmany(self.chunk_size))
            finally:
                result.close()


def _capabilities() -> DestinationCapabilitiesContext:
    return (Container().get(DestinationCapabilitiesContext)
            or DestinationCapabilitiesContext.generic_capabilities())


def columns_to_arrow(rows: Sequence[tuple[Any, ...]], columns: TTableSchemaColumns,
                     tz: str = UTC) -> pa.Table:
    """``rows`` as an Arrow table of the types dlt gives ``columns`` (dlt's conversion if not)."""
    caps = _capabilities()
    arrays = []
    fields = []
    try:
        for index, (name, column) in enumerate(columns.items()):
            target = get_py_arrow_datatype(column, caps, tz) if column.get("data_type") else None
            array = _to_type(pa.array([row[index] for row in rows]), target)
            arrays.append(array)
            fields.append(pa.field(name, array.type, nullable=column.get("nullable", True)))
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return row_tuples_to_arrow(rows, columns=columns, tz=tz)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _to_type(array: pa.Array, target: pa.DataType | None) -> pa.Array:
    if target is None or array.type == target:
        return array
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), target)
    if pa.types.is_timestamp(target) and not pa.types.is_timestamp(array.type):
        # a naive text value is read as the zone dlt gives the column (UTC by default)
        naive = array.cast(pa.timestamp(target.unit))
        return naive if target.tz is None else naive.cast(target)
    return array.cast(target)
