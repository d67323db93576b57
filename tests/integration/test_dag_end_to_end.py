"""The medallion DAG end to end with ``dag.test()``: demo data, DuckDB, local Power BI.

Two demo days run through the whole DAG (dlt -> bronze gate -> dbt via cosmos -> gold
gate -> Power BI refresh -> audit); then a corrupt sales delivery stops the same DAG at
the bronze gate, before dbt and before Power BI. The first run's OpenLineage events (file
transport, see ``airflow_harness``) must form the lineage source systems -> bronze -> silver
-> gold -> Power BI dataset. The Power BI REST API is the local
stand-in from ``tests/dags/powerbi_server.py``, configured the way a deployment configures
it: ``AIRFLOW_CONN_POWERBI_DEFAULT``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Airflow must see the test harness's AIRFLOW_HOME before it is first imported.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dags"))

import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402
import pytest  # noqa: E402
from airflow_harness import (  # noqa: E402, F401
    DAG_ID,
    OPENLINEAGE_EVENTS,
    airflow_db,
    dbt_manifest,
    run_dag,
    task_states,
)
from openlineage_events import EventLog, LineageGraph, datasets, task_completes  # noqa: E402
from powerbi_server import FakePowerBIServer  # noqa: E402

from ingestion.demo import crm_data, generator  # noqa: E402
from ingestion.demo.state import DemoState  # noqa: E402
from ingestion.settings import Paths  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

DAY_0 = datetime(2025, 12, 31, tzinfo=UTC)
"""Logical date of the run over day 0 (the generator's history ends on 2025-12-31)."""
DAY_1 = datetime(2026, 1, 1, tzinfo=UTC)

GOLD_TABLES = (
    "dim_customer",
    "dim_product",
    "dim_store",
    "dim_date",
    "fct_sales",
    "fct_orders",
    "agg_sales_daily",
    "agg_sales_monthly",
    "customer_rfm",
    "customer_lifetime_value",
    "customer_cohort_retention",
)


class WebhookReceiver:
    """A local incoming webhook (Slack/Teams style) that records the JSON bodies it gets."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.messages.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/alerts"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def powerbi(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePowerBIServer]:
    with FakePowerBIServer(polls_until_done=1) as server:
        monkeypatch.setenv("AIRFLOW_CONN_POWERBI_DEFAULT", server.connection_json())
        yield server


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        monkeypatch.setenv("RETAIL_ALERT_WEBHOOK_URL", receiver.url)
        yield receiver


@pytest.fixture
def pipeline(
    airflow_db: Path,  # noqa: F811 - fixture
    dbt_manifest: Path,  # noqa: F811 - fixture
    workspace: Paths,
    powerbi: FakePowerBIServer,
    webhook: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> Paths:
    """Day 0 of the demo in a private workspace, the DAG configured for DuckDB."""
    for name in ("RETAIL_DBT_TARGET", "RETAIL_DLT_DESTINATION", "RETAIL_DBT_SELECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RETAIL_DAG_RETRIES", "0")  # a failure fails now, not after backoff
    monkeypatch.setenv("RETAIL_POWERBI_POLL_S", "0.1")
    return workspace


def query(paths: Paths, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(paths.duckdb_path)) as con:
        return con.execute(sql).fetchall()


def count(paths: Paths, table: str) -> int:
    return int(query(paths, f"select count(*) from {table}")[0][0])


def gold_tables_present(paths: Paths) -> set[str]:
    rows = query(
        paths, "select table_name from information_schema.tables where table_schema = 'gold'"
    )
    return {name for (name,) in rows}


def test_two_demo_days_build_gold_and_refresh_power_bi_once_per_run(
    pipeline: Paths, powerbi: FakePowerBIServer, webhook: WebhookReceiver
) -> None:
    lineage = EventLog(OPENLINEAGE_EVENTS)
    started = time.perf_counter()
    first = run_dag(DAY_0)
    first_seconds = time.perf_counter() - started

    assert str(first.state) == "success", _not_succeeded(first)
    check_lineage(task_completes(lineage.events(), DAG_ID), pipeline, powerbi)
    assert set(GOLD_TABLES) <= gold_tables_present(pipeline)
    for table in GOLD_TABLES:
        assert count(pipeline, f"gold.{table}") > 0, table
    assert len(powerbi.refresh_posts) == 1
    sales_after_day_0 = count(pipeline, "gold.fct_sales")

    generator.advance(pipeline, 1)
    conflicted = plant_opt_in_type_conflict(pipeline)
    started = time.perf_counter()
    second = run_dag(DAY_1)
    second_seconds = time.perf_counter() - started

    assert str(second.state) == "success", _not_succeeded(second)
    assert len(powerbi.refresh_posts) == 2
    assert len(powerbi.accepted_request_ids) == 2
    assert count(pipeline, "gold.fct_sales") > sales_after_day_0
    assert webhook.messages == []

    runs = query(
        pipeline,
        "select logical_date::date, status, failed_tasks from audit.pipeline_runs "
        "order by logical_date",
    )
    assert [(str(day), status, failed) for day, status, failed in runs] == [
        ("2025-12-31", "success", None),
        ("2026-01-01", "success", None),
    ]
    ingested = query(
        pipeline,
        "select r.logical_date::date, t.row_count from audit.task_runs t "
        "join audit.pipeline_runs r using (dag_id, run_id) "
        "where t.task_id = 'ingest.sales' order by 1",
    )
    assert [rows for _, rows in ingested] and all(rows > 0 for _, rows in ingested)
    gate = query(
        pipeline,
        "select dq_success, dq_results from audit.task_runs t "
        "join audit.pipeline_runs r using (dag_id, run_id) "
        "where t.task_id = 'gold_gate' and r.logical_date::date = date '2026-01-01'",
    )
    assert gate[0][0] is True
    assert json.loads(gate[0][1])["failed_critical"] == 0
    built = query(
        pipeline,
        "select row_count from audit.task_runs where task_id = 'dbt.fct_sales_model_build' "
        "order by recorded_at desc limit 1",
    )
    assert built == [(count(pipeline, "gold.fct_sales"),)]
    assert query(pipeline, "select distinct status from audit.bronze_loads") == [("passed",)]

    # The CRM's type conflict: quarantined in silver, and the ingest task's audit row says so.
    [(dq_success, drift)] = query(
        pipeline,
        "select t.dq_success, t.dq_results from audit.task_runs t "
        "join audit.pipeline_runs r using (dag_id, run_id) "
        "where t.task_id = 'ingest.crm' and r.logical_date::date = date '2026-01-01'",
    )
    assert dq_success is None
    assert [(c["table"], c["column"]) for c in json.loads(drift)["type_conflicts"]] == [
        ("customers", "marketing_opt_in__v_text")
    ]
    assert query(
        pipeline,
        "select record_key, rejected_value from silver.quarantine_crm "
        "where quarantine_rule = 'type_conflict'",
    ) == [(str(conflicted), "marketing_opt_in: maybe")]
    print(f"\ndag.test() wall time: day 0 {first_seconds:.1f} s, day 1 {second_seconds:.1f} s")


def test_corrupt_sales_delivery_stops_the_dag_at_the_bronze_gate(
    pipeline: Paths, powerbi: FakePowerBIServer, webhook: WebhookReceiver
) -> None:
    corrupted = corrupt_sales_quantities(pipeline, every=5)

    failed = run_dag(DAY_0)

    states = task_states(failed)
    assert str(failed.state) == "failed"
    assert states["bronze_gate"] == "failed"
    assert all(states[t] == "success" for t in ("ingest.crm", "ingest.erp", "ingest.sales"))
    dbt_states = {state for task_id, state in states.items() if task_id.startswith("dbt.")}
    assert dbt_states == {"upstream_failed"}
    assert states["gold_gate"] == states["powerbi_refresh"] == "upstream_failed"
    assert states["audit"] == "success"
    assert powerbi.requests == []
    assert gold_tables_present(pipeline) == set()

    [(status, failed_tasks)] = query(
        pipeline, "select status, failed_tasks from audit.pipeline_runs"
    )
    assert status == "failed" and failed_tasks == "bronze_gate"
    [(dq_success, dq_results)] = query(
        pipeline, "select dq_success, dq_results from audit.task_runs where task_id = 'bronze_gate'"
    )
    assert dq_success is False
    failures = [
        (result["check"], expectation["kwargs"].get("column"), expectation["result"])
        for result in json.loads(dq_results)["results"]
        for expectation in result["expectations"]
        if not expectation["success"]
    ]
    assert [(check, column) for check, column, _ in failures] == [
        ("bronze_sales.sales_lines", "quantity")
    ]
    assert failures[0][2]["unexpected_count"] >= corrupted
    assert len(webhook.messages) == 1
    assert "bronze_gate" in webhook.messages[0]["text"]

    # Nothing new to ingest the next day: the failed load is validated again, not skipped.
    again = run_dag(DAY_1)

    assert str(again.state) == "failed"
    assert task_states(again)["bronze_gate"] == "failed"
    assert powerbi.requests == []


def check_lineage(
    runs: dict[str, dict[str, Any]], paths: Paths, powerbi: FakePowerBIServer
) -> None:
    """The task runs' COMPLETE events: each task's inputs and outputs, and together the
    lineage from every source system through bronze, silver and gold to the Power BI dataset."""
    warehouse = f"duckdb://{os.environ['RETAIL_DUCKDB_PATH']}"

    def table(schema: str, name: str) -> tuple[str, str]:
        return warehouse, f"retail.{schema}.{name}"

    def layer(dataset: tuple[str, str]) -> str:
        namespace, name = dataset
        if namespace != warehouse:
            return namespace.split(":", 1)[0]
        return name.split(".")[1].split("_")[0]  # bronze_sales -> bronze

    sources = {
        "crm": ("file", str(paths.crm_dir.resolve())),
        "erp": ("file", str(paths.erp_sqlite_path.resolve())),
        "sales": ("file", str(paths.landing_dir.resolve())),
    }
    for source, system in sources.items():
        ingest = runs[f"ingest.{source}"]
        assert datasets(ingest, "inputs") == {system}, source
        written = datasets(ingest, "outputs")
        assert written and {name.split(".")[1] for _, name in written} == {f"bronze_{source}"}
    loaded = {o["name"]: o["outputFacets"]["outputStatistics"]["rowCount"]
              for o in runs["ingest.sales"]["outputs"]}
    assert loaded["retail.bronze_sales.sales_lines"] == count(paths, "bronze_sales.sales_lines")

    fct_sales = runs["dbt.fct_sales_model_build"]
    assert datasets(fct_sales, "outputs") == {table("gold", "fct_sales")}
    assert {layer(d) for d in datasets(fct_sales, "inputs")} >= {"silver"}
    staging = runs["dbt.base_sales__sales_lines_model_build"]
    assert table("bronze_sales", "sales_lines") in datasets(staging, "inputs")
    # a snapshot as input: added to what the OpenLineage dbt integration reports
    assert table("snapshots", "snp_crm__customers") in datasets(
        runs["dbt.dim_customer_model_build"], "inputs")

    dataset = (f"powerbi://{urlsplit(powerbi.api_base_url).netloc}/groups/{powerbi.group_id}",
               powerbi.dataset_id)
    refresh = runs["powerbi_refresh"]
    assert datasets(refresh, "outputs") == {dataset}
    assert datasets(refresh, "inputs") == {table("gold", name) for name in GOLD_TABLES}
    assert refresh["run"]["facets"]["externalQuery"]["externalQueryId"] in (
        powerbi.accepted_request_ids
    )

    graph = LineageGraph(runs.values())
    upstream = graph.ancestors(dataset)
    silver = {d for d in upstream if layer(d) == "silver"}
    for source, system in sources.items():
        chain = [layer(d) for d in graph.path(system, dataset)]
        assert chain[:2] == ["file", "bronze"] and chain[-2:] == ["gold", "powerbi"], source
        assert any(system in graph.ancestors(d) for d in silver), source
    chain = [layer(d) for d in graph.path(sources["sales"], table("gold", "fct_sales"))]
    assert chain[0] == "file" and chain[-1] == "gold", chain
    assert chain.index("bronze") < chain.index("silver") < chain.index("gold"), chain
    assert {table("gold", name) for name in GOLD_TABLES} <= upstream


def plant_opt_in_type_conflict(paths: Paths) -> int:
    """A new version of one customer whose marketing opt-in is "maybe"; return its id.

    The CRM answers in JSON text: "true"/"false" still fit the boolean column, "maybe" does
    not and lands in a dlt variant column.
    """
    crm_dir = paths.demo_dir / "crm"
    customers = crm_data.read_customers(crm_dir)
    today = DemoState.load(paths.demo_dir / "state.json").business_date()
    deleted = set(crm_data.read_deletions(crm_dir).column("customer_id").to_pylist())
    rows = customers.to_pylist()
    target = min(row["customer_id"] for row in rows
                 if not row["is_deleted"] and row["customer_id"] not in deleted
                 and row["updated_at"] < today.isoformat())
    for row in rows:
        row["marketing_opt_in"] = "true" if row["marketing_opt_in"] else "false"
        if row["customer_id"] == target:
            row.update(marketing_opt_in="maybe", updated_at=f"{today.isoformat()}T12:00:00Z")
    schema = customers.schema.set(customers.schema.get_field_index("marketing_opt_in"),
                                  pa.field("marketing_opt_in", pa.string()))
    crm_data.write_crm(crm_dir, pa.Table.from_pylist(rows, schema=schema),
                       crm_data.read_deletions(crm_dir))
    return target


def corrupt_sales_quantities(paths: Paths, every: int) -> int:
    """Replace the quantity of every ``every``-th line of each landed file; return how many."""
    corrupted = 0
    for file in sorted(paths.landing_dir.glob("*.csv")):
        with file.open(newline="") as handle:
            rows = list(csv.reader(handle))
        header, lines = rows[0], rows[1:]
        quantity = header.index("quantity")
        for index in range(0, len(lines), every):
            if len(lines[index]) == len(header):
                lines[index][quantity] = "n/a"
                corrupted += 1
        with file.open("w", newline="") as handle:
            csv.writer(handle, quoting=csv.QUOTE_ALL).writerows([header, *lines])
    return corrupted


def _not_succeeded(dag_run: Any) -> str:
    bad = {t: s for t, s in task_states(dag_run).items() if s not in {"success", "skipped"}}
    return f"tasks not successful: {bad}"
