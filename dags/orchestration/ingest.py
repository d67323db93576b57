"""Ingestion tasks: land what is new in one source system in its bronze dataset.

A thin wrapper over ``ingestion.ingest.ingest_source`` (the same code path as
``python -m ingestion ingest``). After the load it registers every table of every new
load in ``audit.bronze_loads`` as ``pending``: the bronze gate validates what is pending.
It returns a JSON summary that Airflow keeps as XCom (the audit reads rows and seconds).
``BronzeIngestOperator`` runs it and reports its lineage (source system -> bronze tables) to
the OpenLineage provider.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.python import PythonOperator

from orchestration.audit import BronzeLoad, register_bronze_loads
from orchestration.warehouse import Warehouse

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

log = logging.getLogger(__name__)


class BronzeIngestOperator(PythonOperator):
    """One ingestion task: ``ingest_source_to_bronze(source, destination)``.

    After ``execute`` it keeps the summary, from which the OpenLineage provider gets the
    task's lineage: the source system as input, the bronze tables of the run's loads as
    outputs (with the rows loaded into each).
    """

    def __init__(self, *, source: str, destination: str, **kwargs: Any) -> None:
        super().__init__(
            python_callable=ingest_source_to_bronze,
            op_kwargs={"source": source, "destination": destination},
            **kwargs,
        )
        self.source = source
        self.summary: dict[str, Any] | None = None

    def execute(self, context: Any) -> Any:
        self.summary = super().execute(context)
        return self.summary

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """Called by the OpenLineage listener once the task has finished."""
        from orchestration.lineage.tasks import ingest_lineage

        return ingest_lineage(self.source, self.summary)


def ingest_source_to_bronze(source: str, destination: str, **context: Any) -> dict[str, Any]:
    """Load one source (``crm``, ``erp`` or ``sales``) into ``destination``; return the summary."""
    from ingestion.ingest import ingest_source
    from ingestion.settings import load_paths
    from ingestion.sources import configured_endpoints, demo_sources_requested

    paths = load_paths()
    if demo_sources_requested():
        # the demo's stand-ins, only when asked for (RETAIL_SOURCES=demo)
        from ingestion.demo.sources import ingest_demo_source

        report = ingest_demo_source(source, destination, paths, log.info)
    else:
        report = ingest_source(source, destination, paths, log.info,
                               configured_endpoints((source,)))
    summary = {
        "source": report.source,
        "dataset": report.dataset,
        "destination": destination,
        "load_ids": list(report.load_ids),
        "rows": dict(report.rows),
        "total_rows": report.total_rows,
        "resumed_rows": report.resumed_rows,
        "seconds": round(report.seconds, 3),
        "schema_changes": [asdict(change) for change in report.schema_changes],
        "type_conflicts": [asdict(change) for change in report.type_conflicts],
    }
    ti = context.get("ti")
    # The ingestion counts rows per table over all loads of the run (an interrupted load
    # completed first, then the new one): the last load carries the count, so the sum
    # over the loads, which is what the gate checks, is right.
    last = len(report.load_ids) - 1
    register_loads(
        destination,
        [
            BronzeLoad(report.dataset, table, load_id, rows if index == last else 0)
            for index, load_id in enumerate(report.load_ids)
            for table, rows in report.rows.items()
        ],
        dag_id=getattr(ti, "dag_id", ""),
        run_id=getattr(ti, "run_id", ""),
    )
    log.info(
        "%s: %d rows into %s in %.1f s (loads %s)",
        source,
        report.total_rows,
        report.dataset,
        report.seconds,
        ", ".join(report.load_ids) or "none: nothing new",
    )
    return summary


def register_loads(destination: str, loads: list[BronzeLoad], dag_id: str, run_id: str) -> None:
    """Put the new loads in the register the bronze gate reads."""
    if not loads:
        return
    with Warehouse(destination) as warehouse:
        register_bronze_loads(warehouse, loads, dag_id, run_id, datetime.now(UTC))
