"""`make airflow` as a user starts it: local only, with a login, the DAG run by the scheduler.

The real Airflow components (``tools/airflow_local.py``: scheduler, DAG processor, API
server; no triggerer, since no task of the default DAG defers) run on a free port with a
private AIRFLOW_HOME, warehouse and demo sources
(``tools/airflow_deployment.py``). The tests read the kernel's socket table to see where the
API server listens, then trigger the DAG through the REST API v2 as a client does, wait for
the run, check every task and the audit rows the run wrote, and end with Ctrl-C (SIGINT to
make's process group): every process must be gone within seconds. The tests run in file
order on one worker; the last one stops the deployment.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import httpx
import psutil
import pytest

from tests.conftest import TEST_SCALE
from tools.airflow_deployment import Deployment, make_airflow, process_tree

DAG_ID = "retail_medallion"
DAY_0 = datetime(2025, 12, 31, tzinfo=UTC)
"""Logical date of the run over day 0 (the generator's history ends on 2025-12-31)."""
RUN_TIMEOUT_S = 600
STOP_TIMEOUT_S = 15

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def _listening_addresses(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses (hex, as /proc/net shows them) listening on the port."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                addresses.add(address)
    return addresses


@pytest.fixture(scope="module")
def airflow_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with make_airflow(tmp_path_factory.mktemp("make-airflow"), TEST_SCALE) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def triggered_run(airflow_local: Deployment) -> tuple[dict[str, object], dict[str, str]]:
    """Day 0 triggered through the REST API and waited for: the run and its task states."""
    api = airflow_local.api()
    try:
        api.wait_for_dag(DAG_ID, timeout_s=120)
        api.unpause(DAG_ID)
        run_id = api.trigger(DAG_ID, DAY_0)
        run = api.wait_for_run(DAG_ID, run_id, timeout_s=RUN_TIMEOUT_S)
        return run, api.task_states(DAG_ID, run_id)
    finally:
        api.close()


def test_api_server_listens_on_loopback_only(airflow_local: Deployment) -> None:
    loopback_v4 = "0100007F"  # 127.0.0.1, little-endian hex
    assert _listening_addresses(airflow_local.port) == {loopback_v4}


def test_api_refuses_visitors_without_a_login(airflow_local: Deployment) -> None:
    assert httpx.get(f"{airflow_local.base_url}/api/v2/dags", timeout=10).status_code == 401


def test_generated_admin_login_sees_the_dag(airflow_local: Deployment) -> None:
    base_url, home = airflow_local.base_url, airflow_local.home
    passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
    assert set(passwords) == {"admin"} and len(passwords["admin"]) >= 12
    token = httpx.post(f"{base_url}/auth/token", timeout=10,
                       json={"username": "admin", "password": passwords["admin"]})
    assert token.status_code == 201, token.text
    dags = httpx.get(f"{base_url}/api/v2/dags", timeout=10,
                     headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert dags.status_code == 200
    assert [dag["dag_id"] for dag in dags.json()["dags"]] == ["retail_medallion"]
    default_login = "admin"  # the well-known admin/admin must not sign in
    wrong = httpx.post(f"{base_url}/auth/token", timeout=10,
                       json={"username": default_login, "password": default_login})
    assert wrong.status_code == 401
    assert (home / "jwt_secret").stat().st_mode & 0o077 == 0


def test_the_scheduler_runs_the_triggered_day_to_success(
        triggered_run: tuple[dict[str, object], dict[str, str]]) -> None:
    run, states = triggered_run[0], dict(triggered_run[1])
    assert run["state"] == "success", states
    assert run["run_type"] == "manual"
    assert str(run["logical_date"]).startswith("2025-12-31T00:00:00")
    # no Power BI connection is configured: the refresh is skipped, visibly, not failed
    assert states.pop("powerbi_refresh") == "skipped"
    assert {"ingest.crm", "ingest.erp", "ingest.sales", "bronze_gate", "gold_gate",
            "audit"} <= set(states)
    dbt_tasks = [task_id for task_id in states if task_id.startswith("dbt.")]
    assert len(dbt_tasks) > 40  # one task per seed, snapshot and model
    assert {task_id: state for task_id, state in states.items() if state != "success"} == {}


def test_the_run_wrote_its_audit_rows(
        airflow_local: Deployment, triggered_run: tuple[dict[str, object], dict[str, str]]) -> None:
    run, states = triggered_run
    with duckdb.connect(str(airflow_local.warehouse), read_only=True) as con:
        pipeline = con.execute(
            "select status, run_type, failed_tasks, logical_date::date::varchar "
            "from audit.pipeline_runs where run_id = ?", [run["dag_run_id"]]).fetchall()
        tasks = dict(con.execute(
            "select task_id, status from audit.task_runs where run_id = ?",
            [run["dag_run_id"]]).fetchall())
        ingested = con.execute(
            "select sum(row_count) from audit.task_runs where run_id = ? "
            "and task_id like 'ingest.%'", [run["dag_run_id"]]).fetchone()
    assert pipeline == [("success", "manual", None, "2025-12-31")]
    # every task but the audit itself, with the state the API reports
    assert tasks == {task_id: state for task_id, state in states.items() if task_id != "audit"}
    assert ingested is not None and ingested[0] > 0


def test_task_logs_are_read_from_the_shared_log_folder(
        airflow_local: Deployment, triggered_run: tuple[dict[str, object], dict[str, str]]) -> None:
    """No log server runs and nothing of the DAG defers: neither a triggerer nor
    ``serve-logs`` is started, and the API server still shows a finished task's log."""
    commands = []
    for process in process_tree(airflow_local.process.pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            commands.append(" ".join(process.cmdline()).split())
    assert any(word.endswith("airflow_scheduler.py") for words in commands for word in words)
    assert not [words for words in commands if {"triggerer", "serve-logs"} & set(words)]
    api = airflow_local.api()
    try:
        text = api.task_log(DAG_ID, str(triggered_run[0]["dag_run_id"]), "ingest.crm")
    finally:
        api.close()
    assert "crm: extracting" in text, text[-2000:]
    assert "Could not read served logs" not in text


def test_dbt_tasks_run_on_the_project_the_scheduler_parsed(
        airflow_local: Deployment, triggered_run: tuple[dict[str, object], dict[str, str]]) -> None:
    """dags/orchestration/parsed_dbt_runner.py: the scheduler parsed the project once (in a child
    process) and warmed dbt up on it, and a dbt task, forked from it, ran on that parse instead
    of parsing again."""
    log = airflow_local.log.read_text()
    assert "dbt project parsed for the tasks in" in log
    assert ", dbt warmed up in" in log, "the scheduler did not warm dbt up for the tasks"
    api = airflow_local.api()
    try:
        text = api.task_log(DAG_ID, str(triggered_run[0]["dag_run_id"]),
                            "dbt.dim_customer_model_build")
    finally:
        api.close()
    assert "dbt runs on the project the scheduler parsed" in text, text[-3000:]
    assert "Completed successfully" in text


def test_ctrl_c_stops_every_component_within_seconds(
        airflow_local: Deployment, triggered_run: tuple[dict[str, object], dict[str, str]]) -> None:
    """Last in the module: it stops the deployment the tests above share."""
    survivors = airflow_local.interrupt(timeout_s=STOP_TIMEOUT_S)
    assert survivors == []
    assert airflow_local.process.returncode is not None
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{airflow_local.base_url}/api/v2/monitor/health", timeout=2)
