"""OpenLineage names and the lineage our tasks report, without running the DAG.

The end-to-end test follows the events of a whole run on DuckDB with the demo sources;
these cover what it does not reach: PostgreSQL, configured source URLs (their credentials
never reach an event), Azure containers, and the inputs added to cosmos' dbt events.
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from openlineage.client.event_v2 import InputDataset, OutputDataset

from orchestration import dbt_graph
from orchestration.lineage.config import openlineage_enabled
from orchestration.lineage.dbt_inputs import add_seed_and_snapshot_inputs, unreported_inputs
from orchestration.lineage.naming import (
    DatasetName,
    UnsupportedTargetError,
    WarehouseNaming,
    powerbi_dataset,
    render_profile_target,
    source_system,
    warehouse_naming,
)
from orchestration.lineage.tasks import ingest_lineage, powerbi_lineage
from orchestration.settings import load_settings

PROFILES_YML = Path(__file__).resolve().parents[2] / "profiles.yml"


def test_duckdb_tables_are_named_after_the_file_as_the_profile_renders_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETAIL_DUCKDB_PATH", "/srv/dwh/retail_prod.duckdb")
    output = render_profile_target(PROFILES_YML, "retail_medallion", "duckdb")

    naming = warehouse_naming(output)

    assert naming == WarehouseNaming("duckdb:///srv/dwh/retail_prod.duckdb", "retail_prod")
    assert naming.table("gold", "fct_sales") == DatasetName(
        "duckdb:///srv/dwh/retail_prod.duckdb", "retail_prod.gold.fct_sales"
    )


def test_postgres_tables_are_named_by_host_port_and_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETAIL_PG_HOST", "dwh.internal")
    monkeypatch.setenv("RETAIL_PG_PORT", "6432")
    monkeypatch.setenv("RETAIL_PG_DATABASE", "retail_dwh")
    output = render_profile_target(PROFILES_YML, "retail_medallion", "postgres")

    naming = warehouse_naming(output)

    assert naming.table("bronze_erp", "orders") == DatasetName(
        "postgres://dwh.internal:6432", "retail_dwh.bronze_erp.orders"
    )


def test_a_target_without_naming_rule_is_refused() -> None:
    with pytest.raises(UnsupportedTargetError, match="synapse"):
        warehouse_naming({"type": "synapse", "server": "x"})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://svc:s3cret@crm.example.com/api/v2?token=abc",
         DatasetName("https://crm.example.com:443", "/api/v2")),
        ("http://127.0.0.1:8765", DatasetName("http://127.0.0.1:8765", "/")),
        ("postgresql+psycopg2://reader:s3cret@erp.internal/erp",
         DatasetName("postgres://erp.internal:5432", "erp")),
        ("mysql+pymysql://root:s3cret@10.0.0.5:3307/erp?charset=utf8mb4",
         DatasetName("mysql://10.0.0.5:3307", "erp")),
        ("sqlite:////data/demo/erp/erp.sqlite", DatasetName("file", "/data/demo/erp/erp.sqlite")),
        ("file:///data/landing/sales", DatasetName("file", "/data/landing/sales")),
        ("/data/landing/sales", DatasetName("file", "/data/landing/sales")),
        ("az://landing/sales/daily", DatasetName("abfss://landing", "/sales/daily")),
        ("abfss://landing@acct.dfs.core.windows.net/sales",
         DatasetName("abfss://landing@acct.dfs.core.windows.net", "/sales")),
    ],
)
def test_source_systems_are_named_by_their_url_without_credentials(
    url: str, expected: DatasetName
) -> None:
    named = source_system(url)

    assert named == expected
    assert "s3cret" not in named.namespace + named.name
    assert "token" not in named.name


def test_power_bi_dataset_is_named_by_workspace_and_dataset_id() -> None:
    assert powerbi_dataset("https://api.powerbi.com/v1.0/myorg", "g-1", "d-2") == DatasetName(
        "powerbi://api.powerbi.com/groups/g-1", "d-2"
    )


def test_ingest_reports_the_configured_source_and_the_bronze_tables_it_loaded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RETAIL_ERP_URL", "postgresql+psycopg2://reader:s3cret@erp.internal/erp")
    monkeypatch.setenv("RETAIL_DUCKDB_PATH", str(tmp_path / "retail.duckdb"))
    summary = {"destination": "duckdb", "dataset": "bronze_erp",
               "rows": {"orders": 12, "stores": 0}}

    lineage = ingest_lineage("erp", summary)

    assert [(d.namespace, d.name) for d in lineage.inputs] == [
        ("postgres://erp.internal:5432", "erp")
    ]
    warehouse = f"duckdb://{tmp_path / 'retail.duckdb'}"
    assert [(d.namespace, d.name, d.outputFacets["outputStatistics"].rowCount)
            for d in lineage.outputs] == [
        (warehouse, "retail.bronze_erp.orders", 12),
        (warehouse, "retail.bronze_erp.stores", 0),
    ]


def test_a_failed_ingest_reports_its_source_and_no_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETAIL_CRM_URL", "https://crm.example.com")

    lineage = ingest_lineage("crm", None)

    assert [(d.namespace, d.name) for d in lineage.inputs] == [("https://crm.example.com:443", "/")]
    assert lineage.outputs == []


def test_power_bi_refresh_reads_gold_and_writes_the_dataset_with_its_request_id(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RETAIL_DBT_TARGET", "duckdb")
    monkeypatch.setenv("RETAIL_DUCKDB_PATH", str(tmp_path / "retail.duckdb"))

    lineage = powerbi_lineage([("gold", "dim_store"), ("gold", "fct_sales")],
                              "https://api.powerbi.com/v1.0/myorg", "g-1", "d-2", "req-9")

    assert [d.name for d in lineage.inputs] == ["retail.gold.dim_store", "retail.gold.fct_sales"]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [
        ("powerbi://api.powerbi.com/groups/g-1", "d-2")
    ]
    assert lineage.run_facets["externalQuery"].externalQueryId == "req-9"


MANIFEST = {
    "nodes": {
        "model.p.dim_customer": {"resource_type": "model", "database": "retail",
                                 "schema": "gold", "alias": "dim_customer"},
        "snapshot.p.snp_customers": {"resource_type": "snapshot", "database": "retail",
                                     "schema": "snapshots", "alias": "snp_customers"},
        "seed.p.country_codes": {"resource_type": "seed", "database": "retail",
                                 "schema": "reference", "alias": "country_codes"},
        "model.p.stg_customers": {"resource_type": "model", "database": "retail",
                                  "schema": "silver", "alias": "stg_customers"},
        "test.p.not_null_dim": {"resource_type": "test", "database": "retail",
                                "schema": "gold", "alias": "not_null_dim"},
    },
    "parent_map": {
        "model.p.dim_customer": ["snapshot.p.snp_customers", "seed.p.country_codes",
                                 "model.p.stg_customers"],
        "snapshot.p.snp_customers": ["model.p.stg_customers"],
        "test.p.not_null_dim": ["model.p.dim_customer"],
    },
}


def test_seed_and_snapshot_parents_are_the_inputs_the_dbt_integration_leaves_out() -> None:
    assert unreported_inputs(MANIFEST) == {
        "retail.gold.dim_customer": ["retail.reference.country_codes",
                                     "retail.snapshots.snp_customers"],
    }


def test_the_cosmos_callback_adds_them_to_the_events_once(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_text(json.dumps(MANIFEST))
    namespace = "duckdb:///w/retail.duckdb"
    event = SimpleNamespace(
        inputs=[InputDataset(namespace=namespace, name="retail.silver.stg_customers"),
                InputDataset(namespace=namespace, name="retail.snapshots.snp_customers")],
        outputs=[OutputDataset(namespace=namespace, name="retail.gold.dim_customer")],
    )
    task = SimpleNamespace(openlineage_events_completes=[event])

    add_seed_and_snapshot_inputs(str(tmp_path), context={"ti": SimpleNamespace(task=task)})

    assert [(d.namespace, d.name) for d in event.inputs] == [
        (namespace, "retail.silver.stg_customers"),
        (namespace, "retail.snapshots.snp_customers"),
        (namespace, "retail.reference.country_codes"),
    ]


@pytest.mark.parametrize("enabled", [True, False])
def test_dbt_tasks_keep_dbt_artifacts_and_complete_the_inputs_only_for_lineage(
    enabled: bool, dbt_manifest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk import DAG

    monkeypatch.setattr(dbt_graph, "openlineage_enabled", lambda: enabled)
    with DAG("lineage_switch", schedule=None, start_date=datetime(2025, 1, 1, tzinfo=UTC)):
        group = dbt_graph.dbt_task_group(load_settings(), group_id="dbt")
    task = group.tasks_map["model.retail_medallion.fct_sales"]

    assert ("--no-write-json" in task.dbt_cmd_global_flags) is not enabled
    assert (task.callback is add_seed_and_snapshot_inputs) is enabled


def test_the_test_harness_runs_airflow_with_openlineage_on() -> None:
    # the end-to-end test reads the events this makes the provider write
    assert openlineage_enabled()


class LineageReceiver:
    """A local OpenLineage HTTP endpoint (Marquez's API path) that records what it gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                receiver.requests.append((self.path, self.headers.get("Authorization", ""), body))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LineageReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[LineageReceiver]:
    with LineageReceiver() as server:
        yield server


def test_the_documented_http_transport_posts_events_with_the_connections_key(
    receiver: LineageReceiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The HTTP configuration of dags/README.md, through the provider's own resolution."""
    from airflow.providers.openlineage.token_provider import resolve_airflow_connection_auth
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

    key = secrets.token_urlsafe(16)
    monkeypatch.setenv("AIRFLOW_CONN_OPENLINEAGE_DEFAULT",
                       json.dumps({"conn_type": "generic", "password": key}))
    monkeypatch.setenv("RETAIL_DUCKDB_PATH", str(tmp_path / "retail.duckdb"))
    config = {"transport": {
        "type": "http", "url": receiver.url, "endpoint": "api/v1/lineage",
        "auth": {"type": "airflow_connection_api_key", "conn_id": "openlineage_default"},
    }}
    resolve_airflow_connection_auth(config)
    lineage = ingest_lineage("sales", {"destination": "duckdb", "dataset": "bronze_sales",
                                       "rows": {"sales_lines": 5}})
    event = RunEvent(eventType=RunState.COMPLETE, eventTime=datetime.now(UTC).isoformat(),
                     run=Run(runId=str(uuid.uuid4())),
                     job=Job(namespace="default", name="retail_medallion.ingest.sales"),
                     producer="https://example.com/retail-medallion",
                     inputs=lineage.inputs, outputs=lineage.outputs)

    OpenLineageClient(config=config).emit(event)

    [(path, authorization, body)] = receiver.requests
    assert path == "/api/v1/lineage"
    assert authorization == f"Bearer {key}"
    assert [o["name"] for o in body["outputs"]] == ["retail.bronze_sales.sales_lines"]
    assert body["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == 5
