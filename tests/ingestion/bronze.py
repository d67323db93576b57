"""Small readers over the bronze DuckDB file, for assertions."""

from __future__ import annotations

from pathlib import Path

import duckdb


def count(duckdb_path: Path, table: str, where: str = "true") -> int:
    if not duckdb_path.exists():
        return 0
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema || '.' || table_name = ?", [table]
        ).fetchone()
        if not exists or not exists[0]:
            return 0
        row = con.execute(f"select count(*) from {table} where {where}").fetchone()
        return int(row[0]) if row else 0


def query(duckdb_path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


BRONZE_TABLES = (
    "bronze_crm.customers", "bronze_crm.customer_deletions",
    "bronze_erp.products", "bronze_erp.stores", "bronze_erp.orders", "bronze_erp.order_lines",
    "bronze_sales.sales_lines", "bronze_sales.rejected_lines", "bronze_sales.delivered_files",
)


def counts(duckdb_path: Path) -> dict[str, int]:
    return {table: count(duckdb_path, table) for table in BRONZE_TABLES}


def postgres_counts(url: str) -> dict[str, int]:
    """Rows of every bronze table in a PostgreSQL database (dlt's own tables and its
    staging schemas aside)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    result: dict[str, int] = {}
    with engine.connect() as conn:
        for schema, table in conn.execute(sa.text(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'bronze_%' and table_schema not like '%_staging' "
            "and table_name not like '\\_dlt%'"
        )).all():
            result[f"{schema}.{table}"] = int(conn.execute(
                sa.text(f'select count(*) from "{schema}"."{table}"')).scalar_one())
    engine.dispose()
    return result
