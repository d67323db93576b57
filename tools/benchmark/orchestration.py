"""One demo day three ways: the CLI, ``airflow dags test`` and the real scheduler.

Each way starts from its own copy of the same generated day 0 and an empty warehouse:

- the CLI: ``python -m ingestion ingest`` (every source) and the production ``dbt build``;
- ``airflow dags test retail_medallion <day>`` (``dag.test()``: every task in one process);
- `make airflow` (``tools/airflow_local.py``'s components) with the run triggered through the
  REST API v2, timed from the trigger until the API reports the run finished, while the
  memory of make's whole process tree (components, workers, task processes) is sampled, as
  RSS and as PSS (shared pages counted once); then Ctrl-C, timed too.

Both Airflow ways must end with a successful run in ``audit.pipeline_runs``, so a failing
DAG cannot pass for a fast one.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from tools.airflow_deployment import PROJECT_DIR, PeakMemory, make_airflow
from tools.benchmark.measure import run_measured
from tools.dbt_runner import PRODUCTION_BUILD

PYTHON = sys.executable
BIN = Path(sys.executable).parent
DAG_ID = "retail_medallion"
DAY_0 = datetime(2025, 12, 31, tzinfo=UTC)
"""The generator's history ends on 2025-12-31: day 0's logical date."""
RUN_TIMEOUT_S = 3600.0


def _workspace(template: Path, folder: Path) -> dict[str, str]:
    """A private copy of the demo and an empty warehouse; the environment pointing at them."""
    shutil.copytree(template, folder / "demo")
    return dict(os.environ, RETAIL_SOURCES="demo", RETAIL_DEMO_DIR=str(folder / "demo"),
                RETAIL_DUCKDB_PATH=str(folder / "warehouse" / "retail.duckdb"),
                RETAIL_DLT_PIPELINES_DIR=str(folder / "warehouse" / ".dlt"),
                RETAIL_DBT_TARGET="duckdb")


def _audited_status(warehouse: Path) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("select status from audit.pipeline_runs "
                          "order by recorded_at desc limit 1").fetchone()
    return str(row[0]) if row else "missing"


def cli_day(template: Path, work: Path, log: Path) -> dict[str, Any]:
    env = _workspace(template, work)
    ingest = run_measured([PYTHON, "-m", "ingestion", "ingest"], env, PROJECT_DIR, log)
    build = run_measured([str(BIN / "dbt"), *PRODUCTION_BUILD, "--profiles-dir", ".",
                          "--target-path", str(work / "target")], env, PROJECT_DIR, log)
    return {"seconds": round(ingest.seconds + build.seconds, 2),
            "ingest_seconds": round(ingest.seconds, 2), "build_seconds": round(build.seconds, 2),
            "peak_rss_mb": round(max(ingest.peak_rss_mb, build.peak_rss_mb))}


def dag_test_day(template: Path, work: Path, log: Path, manifest: Path,
                 extra_env: dict[str, str]) -> dict[str, Any]:
    env = _workspace(template, work)
    home = work / "airflow-home"
    env = {key: value for key, value in env.items() if not key.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PYTHONPATH": str(PROJECT_DIR),
        "RETAIL_DBT_MANIFEST_PATH": str(manifest), "RETAIL_DBT_PROJECT_DIR": str(PROJECT_DIR),
        "RETAIL_DAG_SCHEDULE": "none",
        # the events go where `make airflow` sends them by default: a file
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(work / "events.jsonl"), "append": True}),
        **extra_env,
    })
    run_measured([str(BIN / "airflow"), "db", "migrate"], env, PROJECT_DIR, log)
    measured = run_measured([str(BIN / "airflow"), "dags", "test", DAG_ID,
                             DAY_0.date().isoformat()], env, PROJECT_DIR, log)
    return {"seconds": round(measured.seconds, 2), "peak_rss_mb": round(measured.peak_rss_mb),
            "audit_status": _audited_status(work / "warehouse" / "retail.duckdb")}


def scheduler_day(template: Path, work: Path, scale: float,
                  extra_env: dict[str, str]) -> dict[str, Any]:
    shutil.copytree(template, work / "demo")
    with make_airflow(work, scale, extra_env=extra_env) as deployment, \
            PeakMemory(deployment.process.pid) as memory:
        api = deployment.api()
        try:
            api.wait_for_dag(DAG_ID, timeout_s=300)
            api.unpause(DAG_ID)
            started = time.perf_counter()
            run_id = api.trigger(DAG_ID, DAY_0)
            run = api.wait_for_run(DAG_ID, run_id, timeout_s=RUN_TIMEOUT_S, poll_s=0.5)
            seconds = time.perf_counter() - started
            states = api.task_states(DAG_ID, run_id)
        finally:
            api.close()
        stopping = time.perf_counter()
        survivors = deployment.interrupt(timeout_s=30)
        stop_seconds = time.perf_counter() - stopping
    return {"seconds": round(seconds, 2), "state": run["state"],
            "tasks": len(states), "airflow_peak_rss_mb": round(memory.peak_rss_mb),
            "airflow_peak_pss_mb": round(memory.peak_pss_mb),
            "airflow_pss_mb_by_process_at_peak": memory.at_peak_pss_mb,
            "stop_seconds": round(stop_seconds, 2), "left_running": len(survivors),
            "audit_status": _audited_status(deployment.warehouse)}


def bench_orchestration(scale: float, seed: int, work: Path, log: Path,
                        execution_mode: str = "local") -> dict[str, Any]:
    """The same day through the CLI, ``dags test`` and the scheduler, in that order."""
    template = work / "orchestration-template"
    run_measured([PYTHON, "-m", "ingestion", "generate", "--scale", str(scale), "--seed",
                  str(seed)], dict(os.environ, RETAIL_DEMO_DIR=str(template)), PROJECT_DIR, log)
    extra_env = {"RETAIL_DBT_EXECUTION_MODE": execution_mode}
    result: dict[str, Any] = {"execution_mode": execution_mode}
    result["cli"] = cli_day(template, work / "orchestration-cli", log)
    manifest = work / "orchestration-cli" / "target" / "manifest.json"
    if execution_mode == "watcher":
        # dag.test() runs a sensor before the producer and waits on it for ever (measured:
        # dags/README.md, "Execution mode"): nothing to time.
        result["dag_test"] = {"deadlocks": True}
    else:
        result["dag_test"] = dag_test_day(template, work / "orchestration-dag-test", log,
                                          manifest, extra_env)
    result["scheduler"] = scheduler_day(template, work / "orchestration-scheduler", scale,
                                        extra_env)
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.benchmark.orchestration``: only these rows, as JSON."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m tools.benchmark.orchestration")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--execution-mode", default="local", choices=("local", "watcher"))
    parser.add_argument("--out", default="artifacts/benchmark")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-orchestration-"))
    try:
        result = bench_orchestration(args.scale, args.seed, work,
                                     out / f"orchestration-{args.execution_mode}.log",
                                     args.execution_mode)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = json.dumps({"scale": args.scale, **result}, indent=2)
    (out / f"orchestration-{args.execution_mode}.json").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
