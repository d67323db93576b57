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
