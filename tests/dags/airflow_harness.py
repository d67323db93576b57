"""A private Airflow for the DAG tests: its own home, metadata database and dbt manifest.

Importing this module points Airflow at a fresh ``AIRFLOW_HOME`` (a temporary folder,
removed at exit) before Airflow itself is imported, and switches every vendor's telemetry
off (``ingestion.runtime.TELEMETRY_OFF``, forced here even where the shell turned one on).
Airflow reads its configuration once per process, so this must happen before the first
``import airflow``: ``tests/dags/conftest.py`` imports this module, and so does every
DAG test module outside ``tests/dags`` at its very top.

OpenLineage is on, as in a deployment, with the file transport: every event of every
``dag.test()`` in the process is appended to ``OPENLINEAGE_EVENTS`` (one JSON event a line,
see ``openlineage_events.py``). Like Airflow's, the provider's configuration is read once
per process, so it is set here, for every DAG test, not by one test.

The session fixtures migrate the SQLite metadata database once and produce the dbt
manifest the DAG renders from (``dbt parse`` into a temporary target path).
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from ingestion.runtime import TELEMETRY_OFF

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"
DAG_ID = "retail_medallion"

_HOME_MARKER = "RETAIL_TEST_AIRFLOW_HOME"
_DB_READY_MARKER = "RETAIL_TEST_AIRFLOW_DB_READY"
_MANIFEST_MARKER = "RETAIL_TEST_DBT_MANIFEST"


def configure_airflow_environment() -> Path:
    """Give this process a private Airflow home (once) and return it."""
    home_value = os.environ.get(_HOME_MARKER)
    if home_value:
        home = Path(home_value)
    else:
        home = Path(tempfile.mkdtemp(prefix="retail-airflow-test-"))
        os.environ[_HOME_MARKER] = str(home)
        atexit.register(shutil.rmtree, home, ignore_errors=True)
    if "airflow.settings" in sys.modules and os.environ.get("AIRFLOW_HOME") != str(home):
        raise RuntimeError(
            "airflow was imported before the test harness configured AIRFLOW_HOME; "
            "import airflow_harness first"
        )
    events = home / "openlineage" / "events.jsonl"
    events.parent.mkdir(parents=True, exist_ok=True)
    transport = {"type": "file", "log_file_path": str(events), "append": True}
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos"),
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport),
            "AIRFLOW__OPENLINEAGE__DISABLED": "False",
            **TELEMETRY_OFF,
        }
    )
    return home


AIRFLOW_HOME = configure_airflow_environment()
OPENLINEAGE_EVENTS = AIRFLOW_HOME / "openlineage" / "events.jsonl"
"""Where the OpenLineage provider appends the events of this process's DAG runs."""


def _dbt_executable() -> str:
    beside_python = Path(sys.executable).with_name("dbt")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dbt")
    if not found:
        raise RuntimeError("dbt is not installed next to this Python nor on PATH")
    return found


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The metadata database, migrated once per session (``airflow db migrate``)."""
    if os.environ.get(_DB_READY_MARKER) != str(AIRFLOW_HOME):
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            check=True,
            capture_output=True,
            timeout=300,
            env=os.environ.copy(),
        )
        os.environ[_DB_READY_MARKER] = str(AIRFLOW_HOME)
    return AIRFLOW_HOME / "airflow.db"


@pytest.fixture(scope="session")
def dbt_manifest() -> Iterator[Path]:
    """``manifest.json`` of the project as it is now, exported as RETAIL_DBT_MANIFEST_PATH."""
    ready = os.environ.get(_MANIFEST_MARKER)
    if ready and Path(ready).is_file():
        manifest = Path(ready)
    else:
        target = AIRFLOW_HOME / "dbt-target"
        env = os.environ | {"RETAIL_DUCKDB_PATH": str(AIRFLOW_HOME / "parse.duckdb")}
        result = subprocess.run(
            [
                _dbt_executable(),
                "parse",
                "--project-dir",
                str(REPO_ROOT),
                "--profiles-dir",
                str(REPO_ROOT),
                "--target-path",
                str(target),
                "--log-path",
                str(AIRFLOW_HOME / "dbt-logs"),
            ],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.fail(f"dbt parse failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
        manifest = target / "manifest.json"
        os.environ[_MANIFEST_MARKER] = str(manifest)
    previous = os.environ.get("RETAIL_DBT_MANIFEST_PATH")
    os.environ["RETAIL_DBT_MANIFEST_PATH"] = str(manifest)
    yield manifest
    if previous is None:
        os.environ.pop("RETAIL_DBT_MANIFEST_PATH", None)
    else:
        os.environ["RETAIL_DBT_MANIFEST_PATH"] = previous


def load_dag_bag() -> Any:
    """Parse ``dags/`` the way the DAG processor does."""
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=DAGS_FOLDER, bundle_path=DAGS_FOLDER)


def load_dag() -> Any:
    """The medallion DAG, parsed from its file with the current environment."""
    bag = load_dag_bag()
    assert not bag.import_errors, bag.import_errors
    return bag.dags[DAG_ID]


class _YoungGenerationsOnly:
    """Stands in for the ``gc`` module inside cosmos' dbt runner during ``dag.test()``.

    Cosmos runs a full ``gc.collect()`` after every dbt invocation. A worker runs each task
    in a fresh process, where that is cheap; ``dag.test()`` runs every task in this one
    long-lived test process, whose heap (Airflow, dbt, GX, several manifests) makes each
    full collection cost about half a second, a minute per DAG run. Collecting the young
    generations keeps the intent (release the dbt adapters' objects) at a fraction of it.
    """

    @staticmethod
    def collect(generation: int = 1) -> int:
        return gc.collect(min(generation, 1))


def run_dag(logical_date: datetime) -> Any:
    """``dag.test()`` for one logical date; returns the finished DagRun."""
    dag = load_dag()  # imports Airflow before cosmos, whose plugins re-enter Airflow
    import cosmos.dbt.runner

    with mock.patch.object(cosmos.dbt.runner, "gc", _YoungGenerationsOnly()):
        return dag.test(logical_date=logical_date)


def task_states(dag_run: Any) -> dict[str, str]:
    """``task_id -> state`` of a finished run."""
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
