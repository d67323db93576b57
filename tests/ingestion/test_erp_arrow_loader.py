"""The ERP's Arrow loader gives exactly the tables dlt's own pyarrow backend gives.

Each database gets a table of the ERP's column types, with the values a driver hands back
unconverted (on SQLite: text timestamps and dates, integer and real numerics, integer
booleans), read once through dlt's ``sql_table`` with its default loader and once with
``DriverValuesArrowLoader``; the two must be the same Arrow tables, chunk for chunk, also
when the incremental cursor filters the rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
import pytest
import sqlalchemy as sa
from dlt.common.libs.pyarrow import PyToArrowConversionException
from dlt.sources.sql_database import sql_table
from dlt.sources.sql_database.arrow_helpers import row_tuples_to_arrow

from ingestion.erp.arrow_loader import DriverValuesArrowLoader, columns_to_arrow

ROWS: list[dict[str, Any]] = [
    {"item_id": 1, "sku": "A-1", "price": 19.99, "discount": 0, "active": True,
     "opened_on": "2025-01-02", "updated_at": "2025-10-03 08:00:00.000000"},
    {"item_id": 2, "sku": "B-2", "price": 5, "discount": 0.5, "active": False,
     "opened_on": None, "updated_at": "2025-10-03 09:30:15.250000"},
    {"item_id": 3, "sku": None, "price": None, "discount": 1.25, "active": True,
     "opened_on": "2024-12-31", "updated_at": "2025-10-04 00:00:00.000000"},
    {"item_id": 4, "sku": "D-4", "price": 999999999.99, "discount": None, "active": False,
     "opened_on": "2025-02-28", "updated_at": "2025-10-05 23:59:59.999999"},
]


def _create_items(url: str, rows: list[dict[str, Any]]) -> None:
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    items = sa.Table(
        "items", metadata,
        sa.Column("item_id", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(16)),
        sa.Column("price", sa.Numeric(12, 2)),
        sa.Column("discount", sa.Numeric(12, 2)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("opened_on", sa.Date),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    metadata.create_all(engine)
    typed = [{**row,
              "opened_on": row["opened_on"] and datetime.fromisoformat(row["opened_on"]).date(),
              "updated_at": datetime.fromisoformat(row["updated_at"])} for row in rows]
    with engine.begin() as conn:
        conn.execute(items.insert(), typed)
    engine.dispose()


def _execute(url: str, sql: str) -> list[tuple[Any, ...]]:
    """One statement as written (no SQLAlchemy typing), committed; the rows it returns."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        result = conn.exec_driver_sql(sql)
        rows = [tuple(row) for row in result] if result.returns_rows else []
    engine.dispose()
    return rows


def _read(url: str, loader: type[DriverValuesArrowLoader] | None,
          since: datetime | None = None) -> list[pa.Table]:
    resource = sql_table(credentials=url, table="items", backend="pyarrow", chunk_size=3,
                         reflection_level="full_with_precision", table_loader_class=loader)
    if since is not None:
        resource.apply_hints(incremental=dlt.sources.incremental("updated_at",
                                                                 initial_value=since))
    return list(resource)


def _assert_same_as_dlt(url: str) -> None:
    ours, dlts = _read(url, DriverValuesArrowLoader), _read(url, None)
    assert [t.num_rows for t in ours] == [t.num_rows for t in dlts] == [3, 1]
    for mine, theirs in zip(ours, dlts, strict=True):
        assert mine.schema == theirs.schema
        assert mine.to_pylist() == theirs.to_pylist()
    since = datetime(2025, 10, 4)
    increment = _read(url, DriverValuesArrowLoader, since)
    assert increment[0].column("item_id").to_pylist() == [3, 4]
    assert increment[0].to_pylist() == _read(url, None, since)[0].to_pylist()
    assert _read(url, DriverValuesArrowLoader, datetime(2025, 10, 6)) == []


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'erp.sqlite'}"


def test_sqlite_tables_equal_dlts_own(sqlite_url: str) -> None:
    _create_items(sqlite_url, ROWS)
    stored = _execute(sqlite_url, "select typeof(price), typeof(updated_at), typeof(active) "
                                  "from items where item_id = 1")
    assert stored == [("real", "text", "integer")]  # what the driver hands back as is
    _assert_same_as_dlt(sqlite_url)


@pytest.mark.postgres
def test_postgres_tables_equal_dlts_own(pg_database: str) -> None:
    _create_items(pg_database, ROWS)
    # psycopg2 hands back zone-aware datetimes for this one
    _execute(pg_database, "alter table items add column changed_at timestamptz "
                          "default '2025-10-03 10:00:00+02'")
    _assert_same_as_dlt(pg_database)


@pytest.mark.mariadb
def test_mariadb_tables_equal_dlts_own(mysql_database: str) -> None:
    _create_items(mysql_database, ROWS)
    _assert_same_as_dlt(mysql_database)


def test_text_timestamp_of_a_zoned_column_is_read_as_utc_like_dlt() -> None:
    columns: Any = {"at": {"name": "at", "data_type": "timestamp"}}  # zoned: dlt's default
    ours = columns_to_arrow([("2025-10-03 12:00:00.000000",), (None,)], columns)
    dlts = row_tuples_to_arrow([(datetime(2025, 10, 3, 12),), (None,)], columns, "UTC")
    assert ours.schema == dlts.schema
    assert ours.to_pylist() == dlts.to_pylist()
    assert ours.column("at").type.tz == "UTC"


def test_a_value_arrow_cannot_convert_fails_naming_the_column(sqlite_url: str) -> None:
    _create_items(sqlite_url, ROWS[:1])
    # SQLite stores text in a NUMERIC column without a word
    _execute(sqlite_url, "insert into items values (9, 'Z', 'n/a', 0, 1, null, "
                         "'2025-10-06 00:00:00.000000')")
    with pytest.raises(Exception) as failure:
        _read(sqlite_url, DriverValuesArrowLoader)
    assert isinstance(failure.value.__context__ or failure.value, PyToArrowConversionException)
    assert "`price`" in str(failure.value)
