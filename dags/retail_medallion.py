"""Daily medallion pipeline: bronze ingestion -> bronze gate -> dbt -> gold gate -> Power BI.

The file only declares the graph; the work lives in ``dags/orchestration/``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, TaskGroup, chain

from orchestration.alerts import notify_failure
from orchestration.dbt_graph import built_relations, dbt_task_group, exposure_tables, gold_tables
from orchestration.ingest import BronzeIngestOperator
from orchestration.powerbi import PowerBIRefreshOperator
from orchestration.settings import INGEST_SOURCES, load_settings
from orchestration.tasks import bronze_gate, gold_gate, record_audit

settings = load_settings()
pool = settings.warehouse_pool  # None: the default pool

with DAG(
    dag_id="retail_medallion",
    description="dlt -> bronze gate -> dbt (cosmos) -> gold gate -> Power BI refresh",
    schedule=settings.schedule,
    start_date=settings.start_date,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args={
        "owner": "data-platform",
        "retries": settings.retries,
        "retry_delay": timedelta(seconds=settings.retry_delay_s),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(seconds=settings.max_retry_delay_s),
        "on_failure_callback": notify_failure,
    },
    tags=["retail", "medallion", "dbt", "cosmos"],
    doc_md=__doc__,
) as dag:
    with TaskGroup("ingest", tooltip="dlt: one task per source system") as ingest:
        ingest_tasks = [
            BronzeIngestOperator(
                task_id=source, source=source, destination=settings.destination, pool=pool
            )
            for source in INGEST_SOURCES
        ]
        if settings.single_writer:
            # One writer per DuckDB file: the pool already serialises; the chain makes
            # the order visible and deterministic.
            chain(*ingest_tasks)
    ingest_task_ids = [task.task_id for task in ingest_tasks]

    check_bronze = PythonOperator(
        task_id="bronze_gate",
        python_callable=bronze_gate,
        op_kwargs={"target": settings.target},
        retries=0,  # a data-quality failure is not transient
        pool=pool,
    )

    dbt = dbt_task_group(settings, group_id="dbt")
    relations = built_relations(dbt, settings.manifest_path)

    check_gold = PythonOperator(
        task_id="gold_gate",
        python_callable=gold_gate,
        op_kwargs={"tables": gold_tables(relations), "target": settings.target},
        retries=0,
        pool=pool,
    )

    refresh_powerbi = PowerBIRefreshOperator(
        task_id="powerbi_refresh",
        conn_id=settings.powerbi_conn_id,
        timeout_s=settings.powerbi_timeout_s,
        poll_interval_s=settings.powerbi_poll_s,
        retries=0,  # a retry would start a second refresh; see the operator's README
        # what the dataset imports (the dbt exposure), for its OpenLineage inputs
        lineage_inputs=exposure_tables(settings.manifest_path),
    )

    # A teardown runs once all its upstream tasks are done (trigger rule all_done, as it
    # has no setup task) and does not decide the run's state: a failed gate still fails
    # the run while the audit records it. It waits for every task, not only the last.
    audit = PythonOperator(
        task_id="audit",
        python_callable=record_audit,
        op_kwargs={
            "target": settings.target,
            "ingest_task_ids": ingest_task_ids,
            "gate_task_ids": [check_bronze.task_id, check_gold.task_id],
            "relations": {task_id: asdict(rel) for task_id, rel in relations.items()},
        },
        pool=pool,
    ).as_teardown()

    chain(ingest, check_bronze, dbt, check_gold, refresh_powerbi, audit)
    audit.set_upstream([task for task in dag.tasks if task is not audit])
