"""The same builds on the PostgreSQL target: a full `dbt build` and one daily increment.

Each measured scale gets a new database on the server `RETAIL_BENCH_PG_URL` names (a
SQLAlchemy URL of a role that may create databases; default: the local server), its own
demo data and load state, and loses the database afterwards. Peak memory is dbt's own
process; the server's is not measured.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tools.benchmark.measure import run_measured
from tools.benchmark.nodes import node_timings
from tools.dbt_runner import PRODUCTION_BUILD
from tools.postgres_scratch import scratch_database, unreachable_reason, warehouse_settings

DEFAULT_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
URL_VARIABLE = "RETAIL_BENCH_PG_URL"


def admin_url() -> str:
    return os.environ.get(URL_VARIABLE, DEFAULT_ADMIN_URL)


@contextmanager
def bench_database(url: str) -> Iterator[sa.URL]:
    """A new, empty database on the server; dropped after."""
    with scratch_database(url, "retail_bench_") as database:
        yield database


def postgres_env(base: dict[str, str], database: sa.URL, work: Path) -> dict[str, str]:
    """dlt and dbt pointed at `database`, with demo data and load state of their own."""
    return {**base,
            "RETAIL_DEMO_DIR": str(work / "demo"),
            "RETAIL_DLT_PIPELINES_DIR": str(work / "pipelines"),
            "RETAIL_DBT_TARGET": "postgres",
            **warehouse_settings(database)}


def bench_postgres_builds(scale: float, seed: int, base_env: dict[str, str], work: Path,
                          log: Path, python: str, dbt: str) -> dict[str, Any]:
    """Day 0 generated, ingested and built whole; one more day ingested and built."""
    url = admin_url()
    reason = unreachable_reason(url)
    if reason:
        return {"unavailable": reason}
    work.mkdir(parents=True, exist_ok=True)
    cwd = Path.cwd()
    target_dir = work / "target"
    build = [dbt, *PRODUCTION_BUILD, "--profiles-dir", ".", "--target-path", str(target_dir)]
    with bench_database(url) as database:
        env = postgres_env(base_env, database, work)
        run_measured([python, "-m", "ingestion", "generate", "--scale", str(scale),
                      "--seed", str(seed)], env, cwd, log)
        ingest = [python, "-m", "ingestion", "ingest", "--destination", "postgres"]
        run_measured(ingest, env, cwd, log)
        full = run_measured(build, env, cwd, log)
        full_nodes = node_timings(target_dir)
        run_measured([python, "-m", "ingestion", "advance", "--days", "1"], env, cwd, log)
        run_measured(ingest, env, cwd, log)
        daily = run_measured(build, env, cwd, log)
        return {"full": {"seconds": round(full.seconds, 2),
                         "peak_rss_mb": round(full.peak_rss_mb), "nodes": full_nodes},
                "daily": {"seconds": round(daily.seconds, 2),
                          "peak_rss_mb": round(daily.peak_rss_mb),
                          "nodes": node_timings(target_dir)}}


def postgres_rows(scale: float, measured: dict[str, Any]) -> list[str]:
    """The report's rows: both builds, the increment's share of the full build."""
    if "unavailable" in measured:
        return [f"| {scale} | dbt build on PostgreSQL | | | | | not measured: "
                f"{measured['unavailable']} |"]
    full, daily = measured["full"], measured["daily"]
    share = daily["seconds"] / full["seconds"] if full["seconds"] else float("inf")
    return [f"| {scale} | dbt build on PostgreSQL, full | {full['seconds']} | | | "
            f"{full['peak_rss_mb']} | (dbt's process; the server's memory not measured) |",
            f"| {scale} | dbt build on PostgreSQL, one daily increment | {daily['seconds']} "
            f"| | | {daily['peak_rss_mb']} | ({share:.0%} of its full build) |"]
