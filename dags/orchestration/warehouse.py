"""A small connection to the warehouse the dbt target points at: DuckDB or PostgreSQL.

The quality gates read data through it and the audit writes through it. Where the
warehouse is comes from ``ingestion.settings``, the one place that reads
``RETAIL_DUCKDB_PATH`` and ``RETAIL_PG_*`` (the same variables ``profiles.yml`` reads), so the
DAG, dlt and dbt always talk to the same database.

Identifiers are always quoted with ``quote_ident``/``relation``; values go through
parameters.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

WAREHOUSE_KINDS = ("duckdb", "postgres")


def quote_ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def relation(schema: str, table: str) -> str:
    """``"schema"."table"``."""
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def duckdb_path() -> Path:
    """The DuckDB file of the ingestion and of the ``duckdb`` dbt target."""
    from ingestion.settings import load_paths

    return load_paths().duckdb_path


class Warehouse:
    """One open connection; use as a context manager.

    :param kind: ``duckdb`` or ``postgres``
    """

    def __init__(self, kind: str) -> None:
        if kind not in WAREHOUSE_KINDS:
            raise ValueError(f"unsupported warehouse {kind!r}; use one of {WAREHOUSE_KINDS}")
        self.kind = kind
        self._conn: Any = None

    # -- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> Warehouse:
        if self.kind == "duckdb":
            import duckdb

            path = duckdb_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = duckdb.connect(str(path))
        else:
            import psycopg2

            from ingestion.settings import postgres_settings

            pg = postgres_settings()
            self._conn = psycopg2.connect(
                host=pg.host, port=pg.port, user=pg.user, password=pg.password, dbname=pg.database
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._conn is not None:
            if self.kind == "postgres" and exc_info[0] is None:
                self._conn.commit()
            self._conn.close()
            self._conn = None

    # -- queries ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[Any]:
        if self._conn is None:
            raise RuntimeError("Warehouse is not open: use it as a context manager")
        if self.kind == "duckdb":
            yield self._conn
            return
        cursor = self._conn.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    def _run(self, cursor: Any, sql: str, params: Sequence[Any]) -> None:
        # Both drivers take positional parameters, spelled ``?`` here (DuckDB's style) and
        # ``%s`` by psycopg2. Statements without parameters are passed through untouched.
        if not params:
            cursor.execute(sql)
        elif self.kind == "postgres":
            cursor.execute(sql.replace("?", "%s"), list(params))
        else:
            cursor.execute(sql, list(params))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        with self._cursor() as cursor:
            self._run(cursor, sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement per row of parameters."""
        if not rows:
            return
        with self._cursor() as cursor:
            statement = sql.replace("?", "%s") if self.kind == "postgres" else sql
            cursor.executemany(statement, [list(row) for row in rows])

    def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of a query."""
        with self._cursor() as cursor:
            self._run(cursor, sql, params)
            return [tuple(row) for row in cursor.fetchall()]

    def fetch_frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """A query result as a pandas DataFrame."""
        import pandas as pd

        with self._cursor() as cursor:
            self._run(cursor, sql, params)
            if self.kind == "duckdb":
                return cursor.df()
            columns = [column[0] for column in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=columns)

    def rollback(self) -> None:
        """Roll back a failed statement (PostgreSQL); DuckDB needs nothing."""
        if self.kind == "postgres" and self._conn is not None:
            self._conn.rollback()

    def commit(self) -> None:
        """Commit (PostgreSQL); DuckDB autocommits every statement."""
        if self.kind == "postgres" and self._conn is not None:
            self._conn.commit()

    # -- catalog ---------------------------------------------------------------------

    def existing_tables(self, schemas: Sequence[str]) -> set[str]:
        """``schema.table`` of the tables and views in ``schemas`` (lower case)."""
        if not schemas:
            return set()
        marks = ", ".join("?" for _ in schemas)
        rows = self.fetch_all(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in ({marks})",
            list(schemas),
        )
        return {f"{schema}.{table}".lower() for schema, table in rows}

    def columns(self, schema: str, table: str) -> set[str]:
        """Column names of one table (lower case)."""
        rows = self.fetch_all(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema, table],
        )
        return {str(name).lower() for (name,) in rows}

    def row_count(self, schema: str, table: str) -> int:
        """``count(*)`` of one table."""
        rows = self.fetch_all(f"select count(*) from {relation(schema, table)}")
        return int(rows[0][0]) if rows else 0

    def sqlalchemy_url(self) -> str:
        """SQLAlchemy URL of this warehouse (used by Great Expectations' SQL path)."""
        if self.kind == "duckdb":
            return f"duckdb:///{duckdb_path().resolve()}"
        from ingestion.settings import postgres_settings

        return postgres_settings().sqlalchemy_url()


def warehouse_kind(target: str) -> str:
    """The warehouse behind a dbt target name."""
    if target not in WAREHOUSE_KINDS:
        raise ValueError(
            f"the quality gates and the audit support the targets {WAREHOUSE_KINDS}, not {target!r}"
        )
    return target
