"""The supervisor of `make airflow` with cheap stand-ins for Airflow's components.

The supervisor runs in a process of its own, as under make, and gets its signals from the
outside; the stand-ins are Python one-liners: one that stops on SIGTERM, one that ignores it,
and one that leaves a grandchild in a session of its own (as the task SDK does with task
processes) and stops on SIGTERM without it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tools.airflow_local import (
    MAX_PARALLELISM,
    airflow_components,
    laptop_environment,
    one_task_at_a_time,
    triggerer_needed,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_S = 2.0

SLEEPER = "import time; print('up', flush=True); time.sleep(120)"
STUBBORN = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('up', flush=True); time.sleep(120)")
PARENT = ("import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', "
          "'import time; time.sleep(120)'], start_new_session=True); "
          "print(f'grandchild {child.pid}', flush=True); time.sleep(120)")
DIES = "import sys, time; time.sleep(1.5); sys.exit(3)"

RUNNER = """
import json, sys
from tools.airflow_local import Component, Supervisor
components = [Component(name, (sys.executable, "-c", code))
              for name, code in json.loads(sys.argv[1])]
sys.exit(Supervisor(components, {"PATH": "/usr/bin:/bin"}, stop_timeout=float(sys.argv[2])).run())
"""


def _start(components: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", RUNNER, json.dumps(list(components.items())), str(STOP_TIMEOUT_S)],
        cwd=PROJECT_DIR, stdout=log.open("w"), stderr=subprocess.STDOUT,
        env=dict(os.environ, PYTHONPATH=str(PROJECT_DIR)))


def _wait_for(log: Path, pattern: str, count: int, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(pattern, log.read_text())
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} {count} times not in:\n{log.read_text()}")


def _alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if psutil.pid_exists(pid)
            and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_ends_every_component_and_their_orphans_within_seconds(
        tmp_path: Path, signum: int) -> None:
    log = tmp_path / "supervisor.log"
    supervisor = _start({"sleeper": SLEEPER, "stubborn": STUBBORN, "parent": PARENT}, log)
    try:
        pids = [int(pid) for pid in _wait_for(log, r"started \S+ \(pid (\d+)\)", 3)]
        pids += [int(pid) for pid in _wait_for(log, r"parent\s+\| grandchild (\d+)", 1)]
        _wait_for(log, r"\| up", 2)
        assert len(_alive(pids)) == 4
        started = time.monotonic()
        supervisor.send_signal(signum)
        assert supervisor.wait(timeout=STOP_TIMEOUT_S + 8) == 0, log.read_text()
        assert time.monotonic() - started < STOP_TIMEOUT_S + 3
        assert _alive(pids) == []
        output = log.read_text()
        assert "stubborn     | up" in output and "sleeper      | up" in output
        assert "stubborn did not stop in 2 s: killed" in output
    finally:
        supervisor.kill()


def test_a_component_that_dies_stops_the_others_and_fails(tmp_path: Path) -> None:
    log = tmp_path / "supervisor.log"
    supervisor = _start({"sleeper": SLEEPER, "dies": DIES}, log)
    try:
        pids = [int(pid) for pid in _wait_for(log, r"started \S+ \(pid (\d+)\)", 2)]
        assert supervisor.wait(timeout=20) == 1, log.read_text()
        assert _alive(pids) == []
        assert "dies exited (3): stopping the others" in log.read_text()
    finally:
        supervisor.kill()


def test_sizing_fits_the_machine_unless_set() -> None:
    postgres = {"RETAIL_DBT_TARGET": "postgres"}
    assert laptop_environment(postgres, cpus=2)["AIRFLOW__CORE__PARALLELISM"] == "2"
    assert laptop_environment(postgres, cpus=64)["AIRFLOW__CORE__PARALLELISM"] == str(
        MAX_PARALLELISM
    )
    chosen = laptop_environment({"AIRFLOW__CORE__PARALLELISM": "8"}, cpus=2)
    assert chosen["AIRFLOW__CORE__PARALLELISM"] == "8"
    assert chosen["AIRFLOW__API__HOST"] == "127.0.0.1"
    # a finished task's worker is free within a second, not Airflow's five
    assert chosen["AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL"] == "1"
    kept = laptop_environment({"AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "5"})
    assert kept["AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL"] == "5"
    # a task's successor starts within a tenth of a second of a scheduler loop, not a second
    assert chosen["AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME"] == "0.1"
    kept = laptop_environment({"AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "1"})
    assert kept["AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME"] == "1"


def test_one_worker_where_the_dag_runs_one_task_at_a_time() -> None:
    """DuckDB's one-slot pool under LOCAL: a second worker would only wait."""
    for env in ({}, {"RETAIL_DBT_TARGET": "duckdb"},
                {"RETAIL_DBT_TARGET": "postgres", "RETAIL_DLT_DESTINATION": "duckdb"}):
        assert one_task_at_a_time(env)
        assert laptop_environment(env, cpus=4)["AIRFLOW__CORE__PARALLELISM"] == "1"
    # cosmos' watcher sensors run beside the producer, outside the pool
    watcher = {"RETAIL_DBT_EXECUTION_MODE": "watcher"}
    assert not one_task_at_a_time(watcher)
    assert laptop_environment(watcher, cpus=4)["AIRFLOW__CORE__PARALLELISM"] == "4"
    assert not one_task_at_a_time({"RETAIL_DBT_TARGET": "postgres"})


def test_the_api_server_is_bound_to_the_configured_host_and_port() -> None:
    env = laptop_environment({"AIRFLOW__API__PORT": "18080"})
    components = {c.name: c.command for c in airflow_components(env)}
    assert set(components) == {"scheduler", "dag-processor", "api-server", "triggerer"}
    # one machine, one log folder: no component starts Airflow's log server
    assert components["scheduler"][-1] == components["triggerer"][-1] == "--skip-serve-logs"
    api = components["api-server"]
    assert api[1:] == ("api-server", "--host", "127.0.0.1", "--port", "18080", "--workers", "1")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    exposed = laptop_environment({"AIRFLOW__API__HOST": "0.0.0.0", "AIRFLOW__API__PORT": "9090"})
    assert exposed["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:9090/execution/"
    assert "triggerer" not in {c.name for c in airflow_components(env, with_triggerer=False)}


def test_the_triggerer_starts_only_when_a_task_defers() -> None:
    """Under LOCAL nothing of the DAG defers; cosmos' watcher sensors do."""
    assert not triggerer_needed({})
    assert not triggerer_needed({"RETAIL_DBT_EXECUTION_MODE": "local"})
    assert triggerer_needed({"RETAIL_DBT_EXECUTION_MODE": "watcher"})
    assert triggerer_needed({}, "on")
    assert not triggerer_needed({"RETAIL_DBT_EXECUTION_MODE": "watcher"}, "off")


def test_the_scheduler_imports_dbt_before_airflow_starts_it(tmp_path: Path) -> None:
    """The scheduler component is tools/airflow_scheduler.py: it imports dbt and the
    target's adapter, says what it loaded, then hands over to Airflow's own CLI."""
    commands = {c.name: c.command for c in airflow_components(laptop_environment({}))}
    assert commands["scheduler"] == (sys.executable,
                                     str(PROJECT_DIR / "tools" / "airflow_scheduler.py"),
                                     "--skip-serve-logs")
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "RETAIL_DBT_TARGET": "postgres"}
    done = subprocess.run([*commands["scheduler"], "--help"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage: airflow scheduler" in (done.stdout + done.stderr).lower()
    preloaded = next(line for line in done.stderr.splitlines()
                     if line.startswith("preloaded for the dbt tasks"))
    assert "dbt.cli.main" in preloaded and "dbt.adapters.postgres" in preloaded
    assert "not importable" not in preloaded


def test_a_module_that_cannot_be_preloaded_is_left_to_the_tasks() -> None:
    from tools.airflow_scheduler import modules_to_preload, preload

    assert modules_to_preload("duckdb")[-1] == "dbt.adapters.duckdb"
    assert not any(name.startswith("dbt.adapters.") and name != "dbt.adapters.factory"
                   for name in modules_to_preload("a-target-of-a-fork"))
    assert preload(["json", "retail_no_such_module"]) == ["retail_no_such_module"]
