"""Callables of the non-dbt tasks: the two quality gates and the audit.

Each reads what earlier tasks left in XCom, works on the warehouse through
``orchestration.warehouse`` and returns a small JSON summary. Heavy libraries (Great
Expectations, pandas, database drivers) are imported here at run time only, never when
the scheduler parses the DAG file.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from orchestration.audit import (
    LOAD_FAILED,
    LOAD_PASSED,
    LOAD_PENDING,
    PipelineRun,
    TaskRun,
    mark_bronze_loads,
    record_pipeline_run,
    unvalidated_bronze_loads,
)
from orchestration.dbt_graph import DbtRelation
from orchestration.warehouse import Warehouse, warehouse_kind

log = logging.getLogger(__name__)

DQ_XCOM_KEY = "dq_report"
"""XCom key under which a gate leaves its full report (also when it fails)."""

FAILED_STATES = frozenset({"failed", "upstream_failed"})


def bronze_gate(target: str, **context: Any) -> dict[str, Any]:
    """Validate every load not yet passed; raise ``DataQualityError`` on a critical failure."""
    from orchestration.quality.bronze import bronze_checks
    from orchestration.quality.runner import GateReport, run_checks
    from orchestration.quality.thresholds import load_thresholds

    ti = context["ti"]
    with Warehouse(warehouse_kind(target)) as warehouse:
        loads = unvalidated_bronze_loads(warehouse)
        earlier = sorted({load.load_id for load in loads if load.status != LOAD_PENDING})
        if earlier:
            log.warning("Validating again loads that failed the gate before: %s", earlier)
        checks = bronze_checks(loads, load_thresholds())
        if checks:
            report = run_checks("bronze", checks, warehouse)
        else:
            log.info("No new bronze load to validate: every source was up to date")
            report = GateReport(gate="bronze", checks=[])
        verdict = LOAD_PASSED if report.success else LOAD_FAILED
        mark_bronze_loads(warehouse, loads, verdict, ti.run_id, datetime.now(UTC))
    return _finish_gate(report, ti)


def gold_gate(tables: Sequence[str], target: str, **context: Any) -> dict[str, Any]:
    """Validate the gold star schema; raise ``DataQualityError`` on a critical failure."""
    from orchestration.quality.gold import gold_checks
    from orchestration.quality.thresholds import load_thresholds

    checks = gold_checks(tables, load_thresholds())
    if not checks:
        log.info("No gold table is built by this DAG: nothing to validate")
    return _run_gate("gold", checks, target, context["ti"])


def _run_gate(gate: str, checks: Sequence[Any], target: str, ti: Any) -> dict[str, Any]:
    from orchestration.quality.runner import GateReport, run_checks

    if checks:
        with Warehouse(warehouse_kind(target)) as warehouse:
            report = run_checks(gate, checks, warehouse)
    else:
        report = GateReport(gate=gate, checks=[])
    return _finish_gate(report, ti)


def _finish_gate(report: Any, ti: Any) -> dict[str, Any]:
    summary = report.as_dict()
    # Pushed before raising, so the audit records the results of a failed gate too.
    ti.xcom_push(key=DQ_XCOM_KEY, value=summary)
    report.raise_for_critical()
    return {key: value for key, value in summary.items() if key != "results"}


def _run_type(value: Any) -> str:
    """``manual``, ``scheduled``, …: a worker's DagRun carries the enum, whose ``str()`` is
    ``DagRunType.MANUAL``."""
    return str(getattr(value, "value", value) or "")


def record_audit(
    target: str,
    ingest_task_ids: Sequence[str],
    gate_task_ids: Sequence[str],
    relations: Mapping[str, Mapping[str, Any]],
    **context: Any,
) -> dict[str, Any]:
    """Write this DAG run and its tasks to the audit tables; return the run's status."""
    ti = context["ti"]
    dag_run = context["dag_run"]
    dag_id, run_id = ti.dag_id, ti.run_id
    states = (ti.get_task_states(dag_id=dag_id, run_ids=[run_id]) or {}).get(run_id, {})
    finished = {
        (crumb["task_id"], crumb.get("map_index", -1)): crumb
        for crumb in ti.get_task_breadcrumbs(dag_id=dag_id, run_id=run_id)
    }
    ingested = _xcoms(ti, ingest_task_ids, "return_value")
    gates = _xcoms(ti, gate_task_ids, DQ_XCOM_KEY)
    built = {task_id: DbtRelation(**value) for task_id, value in relations.items()}

    with Warehouse(warehouse_kind(target)) as warehouse:
        tasks = []
        for task_id, state in sorted(states.items()):
            if task_id == ti.task_id:
                continue
            crumb = finished.get((task_id, -1), {})
            status = str(state) if state else "none"
            rows, dq = _task_rows(task_id, status, ingested, gates, built, warehouse)
            tasks.append(
                TaskRun(
                    task_id=task_id,
                    status=status,
                    operator=crumb.get("operator"),
                    seconds=_seconds(crumb.get("duration")),
                    rows=rows,
                    dq_success=None if dq is None or "success" not in dq else bool(dq["success"]),
                    dq_results=dq,
                )
            )
        # Tasks that failed themselves; those they stopped are upstream_failed.
        failed = tuple(task.task_id for task in tasks if task.status == "failed")
        stopped = any(task.status in FAILED_STATES for task in tasks)
        now = datetime.now(UTC)
        run = PipelineRun(
            dag_id=dag_id,
            run_id=run_id,
            logical_date=getattr(dag_run, "logical_date", None),
            data_interval_start=getattr(dag_run, "data_interval_start", None),
            data_interval_end=getattr(dag_run, "data_interval_end", None),
            run_type=_run_type(getattr(dag_run, "run_type", None)),
            target=target,
            started_at=getattr(dag_run, "start_date", None),
            ended_at=now,
            status="failed" if stopped else "success",
            failed_tasks=failed,
        )
        record_pipeline_run(warehouse, run, tasks, recorded_at=now)
    log.info(
        "Audit: run %s %s (%d tasks%s)",
        run_id,
        run.status,
        len(tasks),
        f"; failed: {', '.join(failed)}" if failed else "",
    )
    return {"status": run.status, "failed_tasks": list(failed), "tasks": len(tasks)}


def _xcoms(ti: Any, task_ids: Sequence[str], key: str) -> dict[str, Any]:
    values = {}
    for task_id in task_ids:
        value = ti.xcom_pull(task_ids=task_id, key=key)
        if value is not None:
            values[task_id] = value
    return values


def _task_rows(
    task_id: str,
    status: str,
    ingested: Mapping[str, Any],
    gates: Mapping[str, Any],
    built: Mapping[str, DbtRelation],
    warehouse: Warehouse,
) -> tuple[int | None, dict[str, Any] | None]:
    if task_id in ingested:
        summary = ingested[task_id]
        # Drift is not a verdict: the audit keeps it beside the rows (no dq_success).
        drift = {key: summary[key] for key in ("schema_changes", "type_conflicts")
                 if summary.get(key)}
        return int(summary.get("total_rows") or 0), drift or None
    if task_id in gates:
        report = dict(gates[task_id])
        return int(report.get("rows") or 0), report
    relation = built.get(task_id)
    if relation is None or not relation.is_table or status != "success" or not relation.schema:
        return None, None
    try:
        return warehouse.row_count(relation.schema, relation.name), None
    except Exception as error:  # noqa: BLE001 - a count must never fail the audit
        log.warning("Audit: could not count %s.%s: %s", relation.schema, relation.name, error)
        warehouse.rollback()
        return None, None


def _seconds(duration: Any) -> float | None:
    try:
        return round(float(duration), 3) if duration is not None else None
    except (TypeError, ValueError):
        return None
