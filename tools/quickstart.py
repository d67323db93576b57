"""The main job on a laptop: demo data → bronze → dbt build → docs, with a closing summary.

``python -m tools.quickstart --scale 1 --days 2`` (what ``make demo`` runs) starts over from an
empty demo warehouse, wires the demo's stand-ins in as the sources, and prints a summary.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.demo import generator
from ingestion.demo.sources import demo_endpoints
from ingestion.destinations import state_folder_name
from ingestion.errors import UserError
from ingestion.ingest import SOURCES, ingest_source
from ingestion.settings import Paths, load_paths
from tools.dbt_runner import PRODUCTION_BUILD, DbtSession, project_dir

Say = Callable[[str], None]


@dataclass
class StepTimer:
    steps: list[tuple[str, float]] = field(default_factory=list)

    def run(self, name: str, action: Callable[[], object], say: Say) -> None:
        say(f"\n==> {name}")
        started = time.perf_counter()
        action()
        self.steps.append((name, time.perf_counter() - started))


def _ingest_all(paths: Paths, say: Say) -> None:
    """The demo reads its own stand-ins, wired in here (a configured URL is kept)."""
    with demo_endpoints(paths) as endpoints:
        for name in SOURCES:
            ingest_source(name, "duckdb", paths, say, endpoints)


def reset_demo_warehouse(paths: Paths, say: Say) -> None:
    """The demo starts over: new demo sources need a warehouse and load state to match.

    `generate` rewrites the demo sources from day 0, so a warehouse (and the dlt state of
    what was loaded into it) left by an earlier demo would describe other data.
    """
    load_state = paths.pipelines_dir / state_folder_name("duckdb", paths)
    stale = [path for path in (paths.duckdb_path, paths.duckdb_path.with_name(
        paths.duckdb_path.name + ".wal"), load_state) if path.exists()]
    for path in stale:
        say(f"starting over: removing {path}")
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def warehouse_tables(duckdb_path: Path) -> list[tuple[str, str, int]]:
    """(schema, table, rows) for every table and view the platform built.

    Opened with DuckDB's default configuration: the in-process dbt may still hold the file,
    and DuckDB refuses a second handle on it with another configuration (read-only).
    """
    with duckdb.connect(str(duckdb_path)) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('information_schema', 'pg_catalog', 'main') "
            "and table_name not like '\\_dlt%' escape '\\' "
            "order by table_schema, table_name"
        ).fetchall()
        return [
            (schema, table,
             int(con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]))  # type: ignore[index]
            for schema, table in names
        ]


def format_warehouse(tables: list[tuple[str, str, int]]) -> str:
    lines = [f"{'schema':<14} {'table':<40} {'rows':>12}", "-" * 68]
    lines += [f"{schema:<14} {table:<40} {rows:>12,}" for schema, table, rows in tables]
    return "\n".join(lines)


SMALL_DEMO_THREADS = 2
SMALL_DEMO_SCALE = 5.0


def default_threads(scale: float) -> int:
    """dbt threads of the demo's builds: two for a small demo, the profile's one beyond.

    A small demo's nodes take milliseconds, so its builds are mostly dbt's per-node
    overhead, which a second thread overlaps (a daily build at scale 1, three runs each:
    5.9 s at one thread, 5.3 s at two; 24 builds in a row at two threads, full refreshes
    and increments, without a DuckDB transaction conflict). At real sizes the nodes' SQL
    dominates, DuckDB already uses every core for it, and two large nodes at once would
    raise the peak memory: the profile's one thread.
    """
    return SMALL_DEMO_THREADS if scale <= SMALL_DEMO_SCALE else 1


def run_quickstart(paths: Paths, scale: float, seed: int, days: int, say: Say,
                   threads: int | None = None) -> None:
    build = (*PRODUCTION_BUILD, "--threads", str(threads or default_threads(scale)))
    dbt = DbtSession()
    timer = StepTimer()
    started = time.perf_counter()
    timer.run("start from an empty demo warehouse", lambda: reset_demo_warehouse(paths, say), say)
    timer.run(f"generate demo data (scale {scale}, seed {seed})",
              lambda: generator.generate(paths, scale, seed, progress=say), say)
    timer.run("ingest day 0 into bronze", lambda: _ingest_all(paths, say), say)
    timer.run("dbt build (day 0)", lambda: dbt.run(*build), say)
    for _ in range(days):
        timer.run("advance one day", lambda: generator.advance(paths, 1, progress=say), say)
        timer.run("ingest the increment", lambda: _ingest_all(paths, say), say)
        timer.run("dbt build (incremental)", lambda: dbt.run(*build), say)
    # The builds compiled every node on this session's parse and wrote manifest.json with
    # their SQL; compiling it all again took 3.6 s of the docs' 3.8 s (in-process, scale 1).
    timer.run("dbt docs generate", lambda: dbt.run("docs", "generate", "--no-compile"), say)

    say("\n" + "=" * 68)
    say("Warehouse contents")
    say(format_warehouse(warehouse_tables(paths.duckdb_path)))
    say("\nSteps")
    for name, seconds in timer.steps:
        say(f"  {name:<52} {seconds:>8.1f} s")
    say(f"  {'total':<52} {time.perf_counter() - started:>8.1f} s")
    say(f"\nDuckDB warehouse : {paths.duckdb_path.resolve()}")
    say(f"dbt docs site    : {project_dir() / 'target' / 'index.html'} (serve: make docs)")
    say(f"Demo sources     : {paths.demo_dir.resolve()} (planted bad rows: planted.json)")


def _say(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.quickstart",
                                     description="generate, ingest, build, test and document")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--days", type=int, default=2, help="daily increments after day 0")
    parser.add_argument("--threads", type=int, default=None,
                        help=f"dbt threads of the builds (default {SMALL_DEMO_THREADS} up to "
                             f"scale {SMALL_DEMO_SCALE:g}, then 1)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the full traceback when something fails")
    args = parser.parse_args(argv)
    try:
        run_quickstart(load_paths(), args.scale, args.seed, args.days, _say, args.threads)
    except UserError as error:
        if args.verbose:
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
