"""Audit tables in the warehouse: one row per pipeline run, one per task of that run.

``audit.pipeline_runs``: dag id, run id, logical date, data interval, run type, dbt
target, start and end, status (``success`` | ``failed``) and the tasks that failed (not the
ones they stopped, which end ``upstream_failed``).

``audit.task_runs``: dag id, run id, task id, map index, operator, status, seconds, rows
(ingested rows, validated rows, or rows of the table a dbt task built) and, for the
quality gates, the Great Expectations results as JSON.

``audit.bronze_loads``: the register of dlt loads made by the DAG (dataset, table, load
id, rows the ingestion reported) and their bronze-gate status: ``pending`` until the gate
validates them, then ``passed`` or ``failed``. The gate validates every load that has not
passed yet, so a load that failed the gate is validated again by the next run instead of
slipping into silver because the next ingestion found nothing new.

Writing is idempotent per run: a re-run of the same DAG run (cleared in the UI) replaces
its rows instead of adding a second set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestration.warehouse import Warehouse, relation

AUDIT_SCHEMA = "audit"
PIPELINE_RUNS = "pipeline_runs"
TASK_RUNS = "task_runs"
BRONZE_LOADS = "bronze_loads"

LOAD_PENDING = "pending"
LOAD_PASSED = "passed"
LOAD_FAILED = "failed"

_JSON_TYPE = {"duckdb": "json", "postgres": "jsonb"}


@dataclass(frozen=True)
class PipelineRun:
    """One DAG run as recorded at its end."""

    dag_id: str
    run_id: str
    logical_date: datetime | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    run_type: str
    target: str
    started_at: datetime | None
    ended_at: datetime
    status: str
    failed_tasks: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskRun:
    """One task instance of a DAG run."""

    task_id: str
    status: str
    map_index: int = -1
    operator: str | None = None
    seconds: float | None = None
    rows: int | None = None
    dq_success: bool | None = None
    dq_results: dict[str, Any] | None = field(default=None)


@dataclass(frozen=True)
class BronzeLoad:
    """One table of one dlt load, as the ingestion reported it."""

    dataset: str
    table: str
    load_id: str
    rows: int
    status: str = LOAD_PENDING


def ensure_audit_tables(warehouse: Warehouse) -> None:
    """Create the audit schema and tables when missing."""
    json_type = _JSON_TYPE[warehouse.kind]
    warehouse.execute(f"create schema if not exists {AUDIT_SCHEMA}")
    warehouse.execute(
        f"""
        create table if not exists {relation(AUDIT_SCHEMA, PIPELINE_RUNS)} (
            dag_id varchar not null,
            run_id varchar not null,
            logical_date timestamp with time zone,
            data_interval_start timestamp with time zone,
            data_interval_end timestamp with time zone,
            run_type varchar,
            target varchar,
            started_at timestamp with time zone,
            ended_at timestamp with time zone,
            seconds double precision,
            status varchar not null,
            failed_tasks varchar,
            recorded_at timestamp with time zone not null
        )
        """
    )
    warehouse.execute(
        f"""
        create table if not exists {relation(AUDIT_SCHEMA, TASK_RUNS)} (
            dag_id varchar not null,
            run_id varchar not null,
            task_id varchar not null,
            map_index integer not null,
            operator varchar,
            status varchar,
            seconds double precision,
            row_count bigint,
            dq_success boolean,
            dq_results {json_type},
            recorded_at timestamp with time zone not null
        )
        """
    )
    warehouse.execute(
        f"""
        create table if not exists {relation(AUDIT_SCHEMA, BRONZE_LOADS)} (
            dataset varchar not null,
            table_name varchar not null,
            load_id varchar not null,
            reported_rows bigint not null,
            dag_id varchar,
            run_id varchar,
            ingested_at timestamp with time zone not null,
            status varchar not null,
            validated_at timestamp with time zone,
            validated_by_run_id varchar,
            primary key (dataset, table_name, load_id)
        )
        """
    )


def register_bronze_loads(
    warehouse: Warehouse,
    loads: Sequence[BronzeLoad],
    dag_id: str,
    run_id: str,
    ingested_at: datetime,
) -> None:
    """Add new loads to the register as ``pending`` (a load already there is kept)."""
    ensure_audit_tables(warehouse)
    table = relation(AUDIT_SCHEMA, BRONZE_LOADS)
    for load in loads:
        known = warehouse.fetch_all(
            f"select 1 from {table} where dataset = ? and table_name = ? and load_id = ?",
            [load.dataset, load.table, load.load_id],
        )
        if known:
            continue
        warehouse.execute(
            f"insert into {table} (dataset, table_name, load_id, reported_rows, dag_id, "
            "run_id, ingested_at, status) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                load.dataset,
                load.table,
                load.load_id,
                load.rows,
                dag_id,
                run_id,
                ingested_at,
                LOAD_PENDING,
            ],
        )
    warehouse.commit()


def unvalidated_bronze_loads(warehouse: Warehouse) -> list[BronzeLoad]:
    """Loads in the register that have not passed the bronze gate yet."""
    ensure_audit_tables(warehouse)
    rows = warehouse.fetch_all(
        "select dataset, table_name, load_id, reported_rows, status "
        f"from {relation(AUDIT_SCHEMA, BRONZE_LOADS)} where status <> ? "
        "order by dataset, table_name, load_id",
        [LOAD_PASSED],
    )
    return [BronzeLoad(str(d), str(t), str(i), int(n), str(s)) for d, t, i, n, s in rows]


def mark_bronze_loads(
    warehouse: Warehouse,
    loads: Sequence[BronzeLoad],
    status: str,
    run_id: str,
    validated_at: datetime,
) -> None:
    """Record the gate's verdict on the given loads."""
    warehouse.executemany(
        f"update {relation(AUDIT_SCHEMA, BRONZE_LOADS)} "
        "set status = ?, validated_at = ?, validated_by_run_id = ? "
        "where dataset = ? and table_name = ? and load_id = ?",
        [[status, validated_at, run_id, load.dataset, load.table, load.load_id] for load in loads],
    )
    warehouse.commit()


def record_pipeline_run(
    warehouse: Warehouse, run: PipelineRun, tasks: Sequence[TaskRun], recorded_at: datetime
) -> None:
    """Replace the audit rows of ``run`` with the given run and task rows."""
    ensure_audit_tables(warehouse)
    key = [run.dag_id, run.run_id]
    for table in (PIPELINE_RUNS, TASK_RUNS):
        warehouse.execute(
            f"delete from {relation(AUDIT_SCHEMA, table)} where dag_id = ? and run_id = ?", key
        )
    seconds = (
        (run.ended_at - run.started_at).total_seconds() if run.started_at is not None else None
    )
    warehouse.execute(
        f"insert into {relation(AUDIT_SCHEMA, PIPELINE_RUNS)} values "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run.dag_id,
            run.run_id,
            run.logical_date,
            run.data_interval_start,
            run.data_interval_end,
            run.run_type,
            run.target,
            run.started_at,
            run.ended_at,
            seconds,
            run.status,
            ",".join(run.failed_tasks) or None,
            recorded_at,
        ],
    )
    warehouse.executemany(
        f"insert into {relation(AUDIT_SCHEMA, TASK_RUNS)} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                run.dag_id,
                run.run_id,
                task.task_id,
                task.map_index,
                task.operator,
                task.status,
                task.seconds,
                task.rows,
                task.dq_success,
                json.dumps(task.dq_results) if task.dq_results is not None else None,
                recorded_at,
            ]
            for task in tasks
        ],
    )
    warehouse.commit()
