"""The DAG as the scheduler sees it: it parses, in the right order, with every dbt node.

These tests parse ``dags/`` with Airflow's own DagBag against a manifest made by
``dbt parse`` for this session; no task runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow_harness import DAG_ID, DAGS_FOLDER, load_dag, load_dag_bag

pytestmark = pytest.mark.usefixtures("airflow_db", "dbt_manifest")

INGEST_TASKS = ("ingest.crm", "ingest.erp", "ingest.sales")
GATE_AND_AFTER = ("bronze_gate", "gold_gate", "powerbi_refresh", "audit")


@pytest.fixture
def default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The DAG as configured out of the box (DuckDB, default retries and schedule)."""
    for name in (
        "RETAIL_DBT_TARGET",
        "RETAIL_DLT_DESTINATION",
        "RETAIL_DBT_SELECT",
        "RETAIL_DBT_EXCLUDE",
        "RETAIL_DAG_RETRIES",
        "RETAIL_DAG_SCHEDULE",
        "RETAIL_DUCKDB_POOL",
        "RETAIL_DBT_EXECUTION_MODE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def dag(default_settings: None) -> Any:
    return load_dag()


@pytest.fixture
def manifest(dbt_manifest: Path) -> dict[str, Any]:
    return json.loads(dbt_manifest.read_text())


def dbt_tasks(dag: Any) -> Iterator[Any]:
    for task in dag.tasks:
        if task.task_id.startswith("dbt."):
            yield task


def node_id(task: Any) -> str | None:
    node = (getattr(task, "extra_context", None) or {}).get("dbt_node_config") or {}
    return node.get("unique_id")


def upstream_closure(task: Any) -> set[str]:
    return set(task.get_flat_relative_ids(upstream=True))


def test_every_dag_file_imports_without_errors(default_settings: None) -> None:
    bag = load_dag_bag()

    assert bag.import_errors == {}
    assert DAG_ID in bag.dags
    dag_files = {Path(path).name for path in DAGS_FOLDER.glob("*.py")}
    parsed_files = {Path(dag.fileloc).name for dag in bag.dags.values()}
    assert dag_files == parsed_files


def test_parsing_reads_the_manifest_and_never_runs_dbt(
    default_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dbt.cli.main import dbtRunner

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("dbt must not run while the DAG file is parsed")

    monkeypatch.setattr(dbtRunner, "invoke", refuse)
    monkeypatch.setattr("subprocess.Popen.__init__", refuse)

    started = time.perf_counter()
    bag = load_dag_bag()
    seconds = time.perf_counter() - started

    assert bag.import_errors == {}
    stats = {Path(stat.file).name: stat.duration for stat in bag.dagbag_stats}
    print(f"\nDAG file parse: {stats}; whole DagBag {seconds:.2f} s")


def test_stages_run_in_order_ingest_bronze_gate_dbt_gold_gate_powerbi_audit(dag: Any) -> None:
    bronze_gate = dag.get_task("bronze_gate")
    gold_gate = dag.get_task("gold_gate")
    refresh = dag.get_task("powerbi_refresh")
    audit = dag.get_task("audit")
    dbt = list(dbt_tasks(dag))

    assert set(INGEST_TASKS) <= upstream_closure(bronze_gate)
    assert dbt, "the dbt task group rendered no task"
    for task in dbt:
        assert "bronze_gate" in upstream_closure(task), task.task_id
    assert {task.task_id for task in dbt} <= upstream_closure(gold_gate)
    assert refresh.upstream_task_ids == {"gold_gate"}
    assert audit.upstream_task_ids == {t.task_id for t in dag.tasks} - {"audit"}
    assert audit.downstream_task_ids == set()


def test_audit_runs_after_failures_without_deciding_the_run_state(dag: Any) -> None:
    audit = dag.get_task("audit")

    assert audit.is_teardown
    assert getattr(audit.trigger_rule, "value", audit.trigger_rule) == "all_done_setup_success"
    assert not any(task.is_setup for task in dag.tasks), "no setup: the rule means all done"
    assert not audit.on_failure_fail_dagrun


def test_every_dbt_node_in_the_manifest_has_a_task_that_builds_and_tests_it(
    dag: Any, manifest: dict[str, Any]
) -> None:
    project = manifest["metadata"].get("project_name", "retail_medallion")
    buildable = {
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in {"model", "seed", "snapshot"}
        and node["package_name"] == project
        and node["config"].get("enabled", True)
        and node["config"].get("materialized") != "ephemeral"
    }
    tests = {
        unique_id: [parent for parent in node["depends_on"]["nodes"] if parent in buildable]
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and node["config"].get("enabled", True)
    }
    builders: dict[str, Any] = {}
    testers: dict[str, list[Any]] = {}
    for task in dbt_tasks(dag):
        unique_id = node_id(task)
        if unique_id is None:
            continue
        if type(task).__name__.startswith("DbtTest"):
            testers.setdefault(unique_id, []).append(task)
        else:
            builders[unique_id] = task

    assert buildable - set(builders) == set()
    # `dbt build` per node: the node's own tests run inside the task that builds it
    assert {type(task).__name__ for task in builders.values()} == {"DbtBuildLocalOperator"}
    for test_id, parents in tests.items():
        if len(manifest["nodes"][test_id]["depends_on"]["nodes"]) > 1:
            # A test on several nodes runs in its own task once all of them are built.
            assert test_id in testers, f"{test_id} has no task"
            runs_after = upstream_closure(testers[test_id][0])
            for parent in parents:
                assert builders[parent].task_id in runs_after, (test_id, parent)
        else:
            assert test_id not in testers, f"{test_id} runs apart from its model"


def test_schedule_catchup_and_retries_are_configured(dag: Any) -> None:
    from orchestration.alerts import notify_failure

    assert dag.schedule == "@daily"
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    ingest = dag.get_task("ingest.sales")
    assert ingest.retries == 2
    assert ingest.retry_exponential_backoff == 2.0
    assert ingest.max_retry_delay is not None
    assert notify_failure in _callbacks(ingest)
    some_model = next(task for task in dbt_tasks(dag) if task.task_id.endswith("_build"))
    assert some_model.retries == 2
    assert notify_failure in _callbacks(some_model)
    for task_id in ("bronze_gate", "gold_gate", "powerbi_refresh"):
        assert dag.get_task(task_id).retries == 0, f"{task_id} must not retry"


def _callbacks(task: Any, kind: str = "on_failure_callback") -> list[Any]:
    callbacks = getattr(task, kind)
    return list(callbacks) if isinstance(callbacks, list | tuple) else [callbacks]


def test_every_dbt_task_lets_the_collector_skip_what_exists_before_dbt_runs(dag: Any) -> None:
    import gc

    from orchestration.dbt_graph import freeze_what_exists

    for task in dbt_tasks(dag):
        assert freeze_what_exists in _callbacks(task, "on_execute_callback"), task.task_id
    frozen = gc.get_freeze_count()
    try:
        freeze_what_exists({})
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()


def test_every_dbt_task_shares_its_process_parse_of_the_project(dag: Any) -> None:
    from orchestration.dbt_graph import share_the_parse

    for task in dbt_tasks(dag):
        starts = _callbacks(task, "on_execute_callback")
        shared = [getattr(callback, "func", None) is share_the_parse for callback in starts]
        # first: the runner is in place before the collector is frozen on it
        assert shared[:1] == [True] and shared.count(True) == 1, task.task_id


def test_duckdb_tasks_share_a_one_writer_pool(dag: Any) -> None:
    for task in dag.tasks:
        if task.task_id == "powerbi_refresh":
            assert task.pool == "default_pool"
        else:
            assert task.pool == "retail_duckdb", task.task_id
    assert dag.get_task("ingest.erp").upstream_task_ids == {"ingest.crm"}
    assert dag.get_task("ingest.sales").upstream_task_ids == {"ingest.erp"}


def test_postgres_target_ingests_sources_in_parallel(
    default_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETAIL_DBT_TARGET", "postgres")

    dag = load_dag()

    for task_id in INGEST_TASKS:
        assert dag.get_task(task_id).upstream_task_ids == set()
    assert {task.pool for task in dag.tasks} == {"default_pool"}


def test_missing_manifest_is_reported_as_an_import_error(
    default_settings: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RETAIL_DBT_MANIFEST_PATH", str(tmp_path / "no-manifest.json"))

    bag = load_dag_bag()

    errors = " ".join(bag.import_errors.values())
    assert "dbt manifest not found" in errors
    assert "dbt parse" in errors


def test_the_audit_knows_what_each_dbt_task_builds_from_the_manifest(
    dag: Any, manifest: dict[str, Any]
) -> None:
    relations = dag.get_task("audit").op_kwargs["relations"]
    builders = {node_id(task): task.task_id for task in dbt_tasks(dag)
                if not type(task).__name__.startswith("DbtTest")}

    assert set(relations) == set(builders.values())
    for unique_id, task_id in builders.items():
        node = manifest["nodes"][unique_id]
        assert relations[task_id]["unique_id"] == unique_id
        assert (relations[task_id]["schema"], relations[task_id]["name"]) == (
            node["schema"], node["alias"])
    fct_sales = relations["dbt.fct_sales_model_build"]
    assert (fct_sales["schema"], fct_sales["materialized"]) == ("gold", "incremental")
    assert "agg_sales_daily" in dag.get_task("gold_gate").op_kwargs["tables"]


def test_watcher_mode_runs_one_build_in_the_pool_and_a_sensor_per_node(
    default_settings: None, monkeypatch: pytest.MonkeyPatch, manifest: dict[str, Any]
) -> None:
    monkeypatch.setenv("RETAIL_DBT_EXECUTION_MODE", "watcher")

    dag = load_dag()

    producer = dag.get_task("dbt.dbt_producer_watcher")
    assert type(producer).__name__ == "DbtProducerWatcherOperator"
    assert producer.pool == "retail_duckdb"
    assert producer.upstream_task_ids == {"bronze_gate"}
    sensors = [task for task in dbt_tasks(dag) if "producer" not in task.task_id]
    assert sensors and all(task.pool == "default_pool" for task in sensors)
    # one sensor per node the audit counts, and the audit finds each node's builder
    relations = dag.get_task("audit").op_kwargs["relations"]
    assert relations["dbt.fct_sales.run"]["name"] == "fct_sales"
    built = {uid for uid, node in manifest["nodes"].items()
             if node["resource_type"] in {"model", "seed", "snapshot"}}
    assert {rel["unique_id"] for rel in relations.values()} == built


def test_an_unknown_execution_mode_is_an_import_error_naming_the_variable(
    default_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETAIL_DBT_EXECUTION_MODE", "kubernetes")

    errors = " ".join(load_dag_bag().import_errors.values())

    assert "RETAIL_DBT_EXECUTION_MODE" in errors and "local, watcher" in errors
