"""Floors: the same raw data read straight into DuckDB, with no pipeline around it.

Run as ``python -m tools.benchmark.floors <source|build> <demo dir> <duckdb file>``; prints
the rows it read as JSON so the parent process can compute rows per second.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import duckdb
import pyarrow as pa


def floor_sales(demo_dir: Path, con: duckdb.DuckDBPyConnection) -> int:
    pattern = str(demo_dir / "landing" / "sales" / "sales_*.csv")
    con.execute(
        "create or replace table floor_sales as select * from read_csv("
        f"'{pattern}', all_varchar = true, ignore_errors = true, filename = true)")
    row = con.execute("select count(*) from floor_sales").fetchone()
    return int(row[0]) if row else 0


def floor_crm(demo_dir: Path, con: duckdb.DuckDBPyConnection) -> int:
    path = demo_dir / "crm" / "customers.parquet"
    con.execute(f"create or replace table floor_crm as select * from read_parquet('{path}')")
    row = con.execute("select count(*) from floor_crm").fetchone()
    return int(row[0]) if row else 0


def floor_erp(demo_dir: Path, con: duckdb.DuckDBPyConnection) -> int:
    rows = 0
    with sqlite3.connect(demo_dir / "erp" / "erp.sqlite") as source:
        for table in ("products", "stores", "orders", "order_lines"):
            cursor = source.execute(f"select * from {table}")  # noqa: S608 - fixed names
            names = [d[0] for d in cursor.description]
            rows_read = cursor.fetchall()
            data = pa.table({n: [row[i] for row in rows_read] for i, n in enumerate(names)})
            con.register("incoming", data)
            con.execute(f"create or replace table floor_erp_{table} as select * from incoming")
            con.unregister("incoming")
            rows += data.num_rows
    return rows


def floor_build(demo_dir: Path, con: duckdb.DuckDBPyConnection) -> int:
    """Daily sales by store straight from the raw files: the least a gold build must do."""
    pattern = str(demo_dir / "landing" / "sales" / "sales_*.csv")
    con.execute(
        "create or replace table floor_daily as "
        "select try_cast(sold_at as timestamp)::date as sold_on, store_code, "
        "sum(try_cast(quantity as integer) * try_cast(unit_price as decimal(12, 2))) as revenue "
        f"from read_csv('{pattern}', all_varchar = true, ignore_errors = true) "
        "group by all")
    row = con.execute("select count(*) from floor_daily").fetchone()
    return int(row[0]) if row else 0


FLOORS = {"sales": floor_sales, "crm": floor_crm, "erp": floor_erp, "build": floor_build}


def main() -> None:
    kind, demo_dir, database = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    with duckdb.connect(database) as con:
        print(json.dumps({"rows": FLOORS[kind](demo_dir, con)}))


if __name__ == "__main__":
    main()
