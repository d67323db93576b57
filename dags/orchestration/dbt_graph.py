"""The dbt project as an Airflow task group, rendered by astronomer-cosmos.

Parsing stays fast: the graph is read from ``manifest.json`` produced ahead of time by
``dbt parse`` (``LoadMode.DBT_MANIFEST``); dbt itself only runs inside the tasks, in the
worker's process (``InvocationMode.DBT_RUNNER``), with the connection settings of our own
``profiles.yml``. Every seed, snapshot and model is one task that builds it and runs its
tests (``TestBehavior.BUILD``: ``dbt build --select <node>``), so a failed test fails that
task and stops everything downstream. Tests that span two models (``relationships``) run
in their own task once both exist.

One task per node rather than a run task and a test task (``AFTER_EACH``): 52 dbt tasks
instead of 89 when it was measured, and each task costs a process, a dbt start-up and a
scheduling gap whatever it does (dags/README.md has the measured figures).

``RETAIL_DBT_EXECUTION_MODE=watcher`` renders cosmos' ``ExecutionMode.WATCHER`` instead: one
producer task runs the whole ``dbt build`` and a sensor per node reports the node's result.
``local`` stays the default; dags/README.md ("Execution mode") has the measured reason.
"""

from __future__ import annotations

import gc
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    ExecutionMode,
    InvocationMode,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
    TestBehavior,
)

from orchestration.lineage.config import openlineage_enabled
from orchestration.lineage.dbt_inputs import add_seed_and_snapshot_inputs
from orchestration.settings import DBT_PROFILE_NAME, DBT_PROJECT_NAME, Settings

BUILT_RESOURCE_TYPES = frozenset({"model", "seed", "snapshot"})

TABLE_MATERIALIZATIONS = frozenset({"table", "incremental", "snapshot", "seed"})
"""Relations whose rows the audit counts (views would run their query again)."""


@dataclass(frozen=True)
class DbtRelation:
    """The relation a dbt task builds."""

    unique_id: str
    schema: str
    name: str
    materialized: str

    @property
    def is_table(self) -> bool:
        """Stored rows (not a view or an ephemeral model)."""
        return self.materialized in TABLE_MATERIALIZATIONS


EXECUTION_MODES = {"local": ExecutionMode.LOCAL, "watcher": ExecutionMode.WATCHER}
TEST_BEHAVIORS = {"local": TestBehavior.BUILD, "watcher": TestBehavior.AFTER_EACH}
"""The watcher's producer runs one ``dbt build`` already; its sensors take no ``BUILD``, so each
model's tests get a sensor of their own."""


class ManifestMissingError(FileNotFoundError):
    """The manifest the DAG renders from has not been produced."""


def freeze_what_exists(context: Any) -> None:
    """Let Python's cyclic collector skip every object that exists before dbt runs.

    Cosmos ends every dbt invocation with a full ``gc.collect()`` (to release dbt adapters'
    semaphores), which walks every object the process holds: Airflow's, the DAG's and, under
    ``dag.test()``, every earlier task's. ``gc.freeze()`` first leaves it only what the dbt
    invocation created (dags/README.md has the measured difference).
    """
    gc.freeze()


def share_the_parse(settings: Settings, context: Any) -> None:
    """Let the dbt tasks of one process run on one parse of the project.

    The scheduler's parse, where the task is its fork; otherwise the process parses once
    when it starts its second dbt command (``dag.test()`` runs every task in one process):
    ``orchestration/parsed_dbt_runner.py``. Imported here, as the task starts, so that
    parsing the DAG file does not import dbt.
    """
    from orchestration.parsed_dbt_runner import install_shared_parse

    install_shared_parse(settings.project_dir, settings.profiles_dir, settings.target)


def dbt_task_group(settings: Settings, group_id: str = "dbt", **kwargs: Any) -> DbtTaskGroup:
    """The cosmos task group of the whole project (or of ``RETAIL_DBT_SELECT``)."""
    if not settings.manifest_path.is_file():
        raise ManifestMissingError(
            f"dbt manifest not found at {settings.manifest_path}: run `dbt parse "
            "--profiles-dir .` in the project (the Makefile does before `make airflow`), "
            "or point RETAIL_DBT_MANIFEST_PATH at one"
        )
    watcher = settings.dbt_execution_mode == "watcher"
    # under the watcher one producer task runs dbt once: nothing to share
    on_start = [freeze_what_exists] if watcher else [partial(share_the_parse, settings),
                                                     freeze_what_exists]
    operator_args: dict[str, Any] = {"install_deps": False, "on_execute_callback": on_start}
    if openlineage_enabled():
        # cosmos reports each node's lineage from run_results.json and manifest.json; the
        # callback adds the seeds and snapshots the OpenLineage dbt integration leaves out.
        operator_args["callback"] = add_seed_and_snapshot_inputs
    else:
        # otherwise nothing reads them (cosmos reads the runner's result): not writing them
        # saves time on every task.
        operator_args["dbt_cmd_global_flags"] = ["--no-write-json"]
    producer_args: dict[str, Any] = {}
    if settings.warehouse_pool:
        # Under the watcher only the producer writes the warehouse; its sensors only read
        # the producer's results, and in the one-slot pool they would queue behind it.
        (producer_args if watcher else operator_args)["pool"] = settings.warehouse_pool
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=settings.project_dir,
            manifest_path=settings.manifest_path,
            project_name=DBT_PROJECT_NAME,
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name=DBT_PROFILE_NAME,
            target_name=settings.target,
            profiles_yml_filepath=settings.profiles_yml,
        ),
        execution_config=ExecutionConfig(
            execution_mode=EXECUTION_MODES[settings.dbt_execution_mode],
            invocation_mode=InvocationMode.DBT_RUNNER,
            setup_operator_args=producer_args or None,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TEST_BEHAVIORS[settings.dbt_execution_mode],
            select=list(settings.dbt_select),
            # The Power BI exposure is not a dbt build step: the powerbi_refresh task is. Unit
            # tests check the SQL against fixed inputs: the test suite runs them, not every
            # day's build (as tools.dbt_runner.PRODUCTION_BUILD), saving a query per model.
            exclude=[*settings.dbt_exclude, "resource_type:exposure", "resource_type:unit_test"],
            emit_datasets=False,
            # A test on two models (relationships) gets its own task after both;
            # attached to the first it would fail before the second exists.
            should_detach_multiple_parents_tests=True,
        ),
        operator_args=operator_args,
        **kwargs,
    )


def built_relations(task_group: DbtTaskGroup, manifest_path: Path) -> dict[str, DbtRelation]:
    """``task_id -> relation`` for every task that builds a relation (not the test tasks).

    What a node builds comes from ``manifest.json`` (the DAG renders from it already), its
    schema as dbt resolved it; which task runs the node from Cosmos's public ``tasks_map``
    (dbt unique id -> task).
    """
    nodes = json.loads(manifest_path.read_text())["nodes"]
    relations = {}
    for unique_id, task_or_group in task_group.tasks_map.items():
        node = nodes.get(unique_id) or {}
        if node.get("resource_type") not in BUILT_RESOURCE_TYPES:
            continue
        task = _building_task(task_or_group)
        relations[task.task_id] = DbtRelation(
            unique_id=unique_id,
            schema=str(node["schema"]),
            name=str(node.get("alias") or node["name"]),
            materialized=str(node["config"].get("materialized") or node["resource_type"]),
        )
    return relations


def _building_task(task_or_group: Any) -> Any:
    """The task that builds the node: itself, or in a node's group (``AFTER_EACH``, as under
    the watcher) the one that is not its tests' task."""
    children = getattr(task_or_group, "children", None)
    if children is None:
        return task_or_group
    return next(child for child in children.values() if not child.task_id.endswith("test"))


def exposure_tables(manifest_path: Path) -> list[tuple[str, str]]:
    """``(schema, name)`` of every relation a dbt exposure (the Power BI report) depends on."""
    manifest = json.loads(manifest_path.read_text())
    nodes = manifest["nodes"]
    depended = {
        unique_id
        for exposure in manifest.get("exposures", {}).values()
        for unique_id in exposure.get("depends_on", {}).get("nodes", [])
    }
    return sorted(
        (str(nodes[uid]["schema"]), str(nodes[uid].get("alias") or nodes[uid]["name"]))
        for uid in depended
        if uid in nodes
    )


def gold_tables(relations: dict[str, DbtRelation], schema: str = "gold") -> list[str]:
    """Names of the gold tables the task group builds."""
    return sorted({r.name for r in relations.values() if r.schema == schema})
