"""`make bench` reports the scheduler run and dag.test() beside the CLI, against the targets."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest

from tools.airflow_deployment import PeakMemory, process_title
from tools.benchmark.__main__ import _orchestration_rows


def _measured(dag_test_s: float, scheduler_s: float, status: str = "success",
              pss_mb: int = 900) -> dict[str, Any]:
    return {
        "execution_mode": "local",
        "cli": {"seconds": 40.0, "peak_rss_mb": 375},
        "dag_test": {"seconds": dag_test_s, "peak_rss_mb": 800, "audit_status": status},
        "scheduler": {"seconds": scheduler_s, "audit_status": status,
                      "airflow_peak_rss_mb": 2400, "airflow_peak_pss_mb": pss_mb,
                      "stop_seconds": 6.5, "left_running": 0,
                      "airflow_pss_mb_by_process_at_peak": [
                          ["airflow worker -- 0199", 433], ["airflow api_server", 272],
                          ["airflow dag-processor", 169], ["python airflow_scheduler.py", 158],
                          ["airflow worker -- LocalExecutor: <idle>", 72]]},
    }


def test_each_way_is_reported_with_its_ratio_to_the_cli() -> None:
    cli, dag_test, scheduler = _orchestration_rows(1.0, _measured(56.0, 200.0))
    assert "the reference" in cli and "| 40.0 |" in cli
    assert "now 1.4x, run success): met" in dag_test
    assert "now 5.0x, run success): **missed**" in scheduler
    assert "Airflow <= 1024 MB (PSS; RSS sum 2400 MB): met" in scheduler
    assert "Ctrl-C stopped it in 6.5 s, 0 processes left" in scheduler
    assert ("(at the peak, MB PSS: `airflow worker -- 0199` 433, `airflow api_server` 272, "
            "`airflow dag-processor` 169, `python airflow_scheduler.py` 158)") in scheduler


def test_a_failed_run_misses_the_target_however_fast() -> None:
    _, dag_test, scheduler = _orchestration_rows(1.0, _measured(50.0, 50.0, status="failed",
                                                                pss_mb=1500))
    assert "run failed): **missed**" in dag_test
    assert "Airflow <= 1024 MB (PSS; RSS sum 2400 MB): **missed**" in scheduler


def test_the_watchers_deadlock_under_dag_test_is_reported_as_missed() -> None:
    measured = _measured(50.0, 50.0) | {"execution_mode": "watcher",
                                         "dag_test": {"deadlocks": True}}
    _, dag_test, scheduler = _orchestration_rows(1.0, measured)
    assert "dag.test() (watcher)" in dag_test and "never ends" in dag_test
    assert "**missed**" in dag_test
    assert "now 1.2x, run success): met" in scheduler


def test_a_process_title_shows_no_folders() -> None:
    title = process_title(["/opt/venv/bin/python", "/home/me/project/tools/airflow_scheduler.py",
                           "--skip-serve-logs", "AIRFLOW_HOME=/home/me/project/.airflow"],
                          limit=100)
    assert title == "python airflow_scheduler.py --skip-serve-logs AIRFLOW_HOME=.airflow"
    assert len(process_title(["x" * 100])) == 60


def test_the_peak_memory_names_each_process_of_the_tree_at_the_peak() -> None:
    """A child holding 200 MB is sampled as part of the tree, by its title."""
    child = subprocess.Popen([sys.executable, "-c",
                              "import sys, time; b = bytearray(200 * 2**20); "
                              "print('ready', flush=True); time.sleep(30)"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        with PeakMemory(child.pid, interval_s=0.1) as memory:
            time.sleep(1.0)
    finally:
        child.kill()
        child.wait()
    [(title, pss_mb)] = memory.at_peak_pss_mb
    assert title.startswith("python -c import sys, time")
    assert pss_mb >= 200 and memory.peak_pss_mb == pytest.approx(pss_mb, abs=1)
