"""`make bench` reports the scheduler run and dag.test() beside the CLI, against the targets."""

from __future__ import annotations

from typing import Any

from tools.benchmark.__main__ import _orchestration_rows


def _measured(dag_test_s: float, scheduler_s: float, status: str = "success",
              pss_mb: int = 900) -> dict[str, Any]:
    return {
        "execution_mode": "local",
        "cli": {"seconds": 40.0, "peak_rss_mb": 375},
        "dag_test": {"seconds": dag_test_s, "peak_rss_mb": 800, "audit_status": status},
        "scheduler": {"seconds": scheduler_s, "audit_status": status,
                      "airflow_peak_rss_mb": 2400, "airflow_peak_pss_mb": pss_mb,
                      "stop_seconds": 6.5, "left_running": 0},
    }


def test_each_way_is_reported_with_its_ratio_to_the_cli() -> None:
    cli, dag_test, scheduler = _orchestration_rows(1.0, _measured(56.0, 200.0))
    assert "the reference" in cli and "| 40.0 |" in cli
    assert "now 1.4x, run success): met" in dag_test
    assert "now 5.0x, run success): **missed**" in scheduler
    assert "Airflow <= 1024 MB (PSS; RSS sum 2400 MB): met" in scheduler
    assert "Ctrl-C stopped it in 6.5 s, 0 processes left" in scheduler


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
