"""Ingest faults seen in the field, replayed with the real CLI against real warehouses.

One demo timeline per warehouse engine, run once per module: DuckDB (two warehouse files,
switching back and forth, a late ERP/CRM change, a lost state folder, a type conflict) and
PostgreSQL (two databases). The small tests below read what each step printed and landed.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from ingestion.demo import crm_data, generator
from ingestion.demo.sources import demo_erp_url, ingest_demo_source
from ingestion.demo.state import DemoState
from ingestion.erp import PRIMARY_KEYS
from ingestion.ingest import SOURCES
from ingestion.settings import Paths, load_paths
from ingestion.sources import URL_VARIABLES
from tests.ingestion.bronze import counts, postgres_counts, query

pytestmark = pytest.mark.slow

LATE_ORDER_LINE_ID = 700_000_001
CLI_TIMEOUT_S = 300


@dataclass
class Run:
    """One `python -m ingestion ...` as the user saw it."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(env: dict[str, str], *args: str) -> Run:
    done = subprocess.run([sys.executable, "-m", "ingestion", *args], env=env,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False)
    return Run(done.returncode, done.stdout, done.stderr)


def ingested(env: dict[str, str], *args: str) -> Run:
    run = run_cli(env, "ingest", *args)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def ingest_in_process(env: dict[str, str], destination: str = "duckdb") -> None:
    """The same code path as the CLI, without a new interpreter (for steps nobody reads)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in URL_VARIABLES.values():
            patch.delenv(name, raising=False)
        for name, value in env.items():
            if name.startswith("RETAIL_"):
                patch.setenv(name, value)
        for source in SOURCES:
            ingest_demo_source(source, destination, load_paths(), lambda _: None)


def cli_env(demo_dir: Path, duckdb_path: Path, pipelines_dir: Path, **extra: str
            ) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in URL_VARIABLES.values()}
    env.update(RETAIL_DEMO_DIR=str(demo_dir), RETAIL_DUCKDB_PATH=str(duckdb_path),
               RETAIL_DLT_PIPELINES_DIR=str(pipelines_dir), **extra)
    return env


# --- what the sources hold -------------------------------------------------------------

def erp_counts(paths: Paths) -> dict[str, int]:
    engine = sa.create_engine(demo_erp_url(paths))
    with engine.connect() as conn:
        result = {f"bronze_erp.{t}": int(conn.execute(sa.text(f"select count(*) from {t}"))
                                         .scalar_one()) for t in PRIMARY_KEYS}
    engine.dispose()
    return result


def crm_rows(paths: Paths) -> tuple[int, int]:
    """(customers, hard deletions) the CRM serves: one current version per customer."""
    return (crm_data.read_customers(paths.crm_dir).num_rows,
            crm_data.read_deletions(paths.crm_dir).num_rows)


def wellformed_lines(file: Path) -> int:
    with file.open(newline="") as handle:
        return sum(1 for record in list(csv.reader(handle))[1:] if len(record) == 10)


def sales_lines(paths: Paths) -> int:
    """Well-formed lines over all original (not re-delivered) files."""
    return sum(wellformed_lines(file) for file in paths.landing_dir.glob("sales_*.csv")
               if "_resend" not in file.name)


def duplicated_versions(duckdb_path: Path) -> dict[str, int]:
    """Rows beyond the first of each version (key + cursor / file + line): must be 0."""
    checks = {
        "bronze_crm.customers": "customer_id, updated_at",
        "bronze_crm.customer_deletions": "customer_id, deleted_at",
        "bronze_sales.sales_lines": "_source_file, _source_row",
        **{f"bronze_erp.{t}": key for t, key in PRIMARY_KEYS.items()},
    }
    return {table: query(duckdb_path, f"select count(*) - count(distinct ({columns})) "
                                      f"from {table}")[0][0]
            for table, columns in checks.items()}


# --- planting faults in the demo sources -----------------------------------------------

def plant_late_erp_changes(paths: Paths, orders_cursor: datetime, lines_cursor: datetime
                           ) -> int:
    """Cancel an order and add an order line, both stamped before the cursors; the order id."""
    engine = sa.create_engine(demo_erp_url(paths))
    with engine.begin() as conn:
        order_id, product_id, price = conn.execute(sa.text(
            "select o.order_id, l.product_id, l.unit_price from orders o "
            "join order_lines l on l.order_id = o.order_id "
            "where o.order_status = 'delivered' and o.updated_at < :before "
            "order by o.order_id limit 1"), {"before": orders_cursor - timedelta(hours=2)}
        ).one()
        conn.execute(sa.text("update orders set order_status = 'cancelled', updated_at = :at "
                             "where order_id = :id"),
                     {"at": orders_cursor - timedelta(minutes=10), "id": order_id})
        conn.execute(sa.text(
            "insert into order_lines (order_line_id, order_id, product_id, quantity, "
            "unit_price, discount_amount, updated_at) values (:id, :order_id, :product_id, 1, "
            ":price, 0, :at)"),
            {"id": LATE_ORDER_LINE_ID, "order_id": order_id, "product_id": product_id,
             "price": price, "at": lines_cursor - timedelta(minutes=5)})
    engine.dispose()
    return int(order_id)


def _rewrite_customer(paths: Paths, customer_id: int, changes: dict[str, object],
                      schema: pa.Schema | None = None) -> None:
    customers = crm_data.read_customers(paths.crm_dir)
    rows = customers.to_pylist()
    for row in rows:
        if row["customer_id"] == customer_id:
            row.update(changes)
    table = pa.Table.from_pylist(rows, schema=schema or customers.schema)
    pq.write_table(table, paths.crm_dir / crm_data.CUSTOMERS_FILE)


def plant_late_crm_change(paths: Paths, cursor: str) -> int:
    """A customer moves, stamped 10 minutes before the CRM cursor; the customer id."""
    stamp = datetime.fromisoformat(cursor) - timedelta(minutes=10)
    customers = crm_data.read_customers(paths.crm_dir)
    day_before = (stamp - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    untouched = customers.filter(pc.less(customers.column("updated_at"), day_before))
    customer_id = int(untouched.column("customer_id")[0].as_py())
    _rewrite_customer(paths, customer_id, {"city": "Late City",
                                           "updated_at": stamp.strftime("%Y-%m-%dT%H:%M:%SZ")})
    return customer_id


def plant_type_conflict(paths: Paths, at: str, not_customer: int) -> int:
    """A boolean CRM field suddenly carries text for one (newly changed) customer."""
    customers = crm_data.read_customers(paths.crm_dir)
    customer_id = next(c for c in customers.column("customer_id").to_pylist()
                       if c != not_customer)
    schema = customers.schema.set(customers.schema.get_field_index("marketing_opt_in"),
                                  pa.field("marketing_opt_in", pa.string()))
    rows = customers.cast(schema)
    pq.write_table(rows, paths.crm_dir / crm_data.CUSTOMERS_FILE)
    _rewrite_customer(paths, customer_id, {"marketing_opt_in": "maybe", "updated_at": at},
                      schema)
    return customer_id


# --- the DuckDB timeline -----------------------------------------------------------------

@dataclass
class Step:
    run: Run | None
    a: dict[str, int]
    b: dict[str, int] = field(default_factory=dict)


@dataclass
class DuckDBTimeline:
    paths: Paths
    a: Path
    b: Path
    steps: dict[str, Step] = field(default_factory=dict)
    expected: dict[str, dict[str, int]] = field(default_factory=dict)
    late_order_id: int = 0
    late_customer_id: int = 0
    conflict_customer_id: int = 0


def _source_expectation(paths: Paths) -> dict[str, int]:
    customers, deletions = crm_rows(paths)
    return {**erp_counts(paths), "bronze_crm.customers": customers,
            "bronze_crm.customer_deletions": deletions,
            "bronze_sales.sales_lines": sales_lines(paths)}


def _day_increment(paths: Paths, state: DemoState, before: dict[str, int]
                   ) -> dict[str, int]:
    """Rows a warehouse that has everything up to yesterday must gain today."""
    day_start = f"{state.business_date().isoformat()}T00:00:00Z"
    customers = crm_data.read_customers(paths.crm_dir)
    changed = customers.filter(pc.greater_equal(customers.column("updated_at"), day_start))
    new_file = paths.landing_dir / f"sales_{state.business_date().isoformat()}.csv"
    return {"bronze_crm.customers": changed.num_rows,
            "bronze_sales.sales_lines": wellformed_lines(new_file),
            "bronze_crm.customer_deletions":
                crm_rows(paths)[1] - before.get("bronze_crm.customer_deletions", 0)}


@pytest.fixture(scope="module")
def duckdb_timeline(tmp_path_factory: pytest.TempPathFactory, demo_template: Path
                    ) -> DuckDBTimeline:
    root = tmp_path_factory.mktemp("ingest-faults")
    shutil.copytree(demo_template, root / "demo")
    pipelines = root / "pipelines"
    a, b = root / "warehouse" / "retail.duckdb", root / "warehouse" / "other.duckdb"
    paths = Paths(demo_dir=root / "demo", duckdb_path=a, pipelines_dir=pipelines)
    env_a = cli_env(paths.demo_dir, a, pipelines)
    env_b = cli_env(paths.demo_dir, b, pipelines)
    timeline = DuckDBTimeline(paths, a, b)

    ingest_in_process(env_a)
    timeline.steps["day0"] = Step(None, counts(a))
    timeline.expected["day0"] = _source_expectation(paths)
    timeline.steps["rerun"] = Step(ingested(env_a), counts(a))

    orders_cursor, lines_cursor = query(a, "select (select max(updated_at) from "
                                           "bronze_erp.orders), (select max(updated_at) from "
                                           "bronze_erp.order_lines)")[0]
    crm_cursor = query(a, "select strftime(max(updated_at) at time zone 'UTC', "
                          "'%Y-%m-%dT%H:%M:%S') from bronze_crm.customers")[0][0]
    state = generator.advance(paths, days=1)
    increment = _day_increment(paths, state, timeline.steps["rerun"].a)
    timeline.late_order_id = plant_late_erp_changes(paths, orders_cursor, lines_cursor)
    timeline.late_customer_id = plant_late_crm_change(paths, crm_cursor)
    timeline.expected["day1_increment"] = increment
    ingest_in_process(env_a)
    timeline.steps["day1"] = Step(None, counts(a))
    timeline.expected["day1"] = _source_expectation(paths)
    ingest_in_process(env_b)
    timeline.steps["new_warehouse"] = Step(None, counts(a), counts(b))

    state = generator.advance(paths, days=1)
    timeline.expected["day2_increment"] = _day_increment(
        paths, state, timeline.steps["new_warehouse"].a)
    ingest_in_process(env_a)
    timeline.steps["back_to_a"] = Step(None, counts(a), counts(b))
    timeline.expected["day2"] = _source_expectation(paths)

    for folder in pipelines.glob("duckdb-retail-*"):
        shutil.rmtree(folder)  # the state folder of warehouse A is lost
    end_of_day = f"{state.business_date().isoformat()}T23:59:00Z"
    timeline.conflict_customer_id = plant_type_conflict(paths, end_of_day,
                                                        timeline.late_customer_id)
    timeline.steps["state_lost"] = Step(ingested(env_a), counts(a), counts(b))
    return timeline


def _grown(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {table: after[table] - before[table] for table in after if after[table] != before[table]}


def test_rerun_with_nothing_new_adds_no_rows_and_says_rows_were_reread(
        duckdb_timeline: DuckDBTimeline) -> None:
    rerun = duckdb_timeline.steps["rerun"]
    assert rerun.run is not None
    assert rerun.a == duckdb_timeline.steps["day0"].a
    assert re.search(r"^total +0 rows", rerun.run.stdout, re.MULTILINE)
    reread = re.search(r"^erp: ([\d,]+) rows re-read in the look-back window were already "
                       r"in bronze \(not loaded again\)$", rerun.run.stdout, re.MULTILINE)
    assert reread and int(reread.group(1).replace(",", "")) > 0


def test_late_erp_cancellation_and_order_line_land_in_bronze(
        duckdb_timeline: DuckDBTimeline) -> None:
    a = duckdb_timeline.a
    status = query(a, "select order_status from bronze_erp.orders "
                      f"where order_id = {duckdb_timeline.late_order_id}")
    assert status == [("cancelled",)]
    late_line = query(a, "select order_id, quantity from bronze_erp.order_lines "
                         f"where order_line_id = {LATE_ORDER_LINE_ID}")
    assert late_line == [(duckdb_timeline.late_order_id, 1)]


def test_erp_bronze_matches_the_erp_after_late_changes(duckdb_timeline: DuckDBTimeline) -> None:
    day1 = duckdb_timeline.steps["day1"].a
    for table, rows in duckdb_timeline.expected["day1"].items():
        if table.startswith("bronze_erp."):
            assert day1[table] == rows, table  # merged by key: one row per ERP row


def test_late_crm_change_lands_as_a_new_version(duckdb_timeline: DuckDBTimeline) -> None:
    versions = query(duckdb_timeline.a, "select city from bronze_crm.customers "
                                        f"where customer_id = {duckdb_timeline.late_customer_id} "
                                        "order by updated_at")
    assert len(versions) == 2 and versions[-1] == ("Late City",)
    grown = _grown(duckdb_timeline.steps["day1"].a, duckdb_timeline.steps["rerun"].a)
    expected = duckdb_timeline.expected["day1_increment"]
    assert grown["bronze_crm.customers"] == expected["bronze_crm.customers"] + 1
    assert grown["bronze_sales.sales_lines"] == expected["bronze_sales.sales_lines"]


def test_new_warehouse_gets_the_full_history(duckdb_timeline: DuckDBTimeline) -> None:
    step = duckdb_timeline.steps["new_warehouse"]
    assert step.a == duckdb_timeline.steps["day1"].a  # A untouched
    for table, rows in duckdb_timeline.expected["day1"].items():
        assert step.b[table] == rows, table
    assert step.b["bronze_sales.delivered_files"] == step.a["bronze_sales.delivered_files"]
    assert step.b["bronze_sales.rejected_lines"] == step.a["bronze_sales.rejected_lines"]


def test_switching_back_loads_only_the_increment(duckdb_timeline: DuckDBTimeline) -> None:
    steps = duckdb_timeline.steps
    increment = duckdb_timeline.expected["day2_increment"]
    grown = _grown(steps["back_to_a"].a, steps["new_warehouse"].a)
    for table in ("bronze_crm.customers", "bronze_sales.sales_lines"):
        assert grown[table] == increment[table], table
    for table, rows in duckdb_timeline.expected["day2"].items():
        if table.startswith("bronze_erp."):
            assert steps["back_to_a"].a[table] == rows, table
    assert steps["back_to_a"].b == steps["new_warehouse"].b  # B untouched while A loads


def test_no_version_lands_twice_in_either_warehouse(duckdb_timeline: DuckDBTimeline) -> None:
    for warehouse in (duckdb_timeline.a, duckdb_timeline.b):
        assert set(duplicated_versions(warehouse).values()) == {0}, warehouse


def test_lost_state_folder_is_restored_from_the_warehouse(
        duckdb_timeline: DuckDBTimeline) -> None:
    step = duckdb_timeline.steps["state_lost"]
    assert step.run is not None
    assert step.run.stdout.count("cursors restored from the warehouse") >= 3
    grown = _grown(step.a, duckdb_timeline.steps["back_to_a"].a)
    assert grown == {"bronze_crm.customers": 1}  # only the one changed customer
    assert step.b == duckdb_timeline.steps["back_to_a"].b


def test_type_conflict_is_listed_in_the_run_summary(duckdb_timeline: DuckDBTimeline) -> None:
    run = duckdb_timeline.steps["state_lost"].run
    assert run is not None
    stdout = run.stdout
    summary = stdout[stdout.index("table "):]
    assert "type conflict: bronze_crm.customers" in summary
    assert "marketing_opt_in__v_text" in summary
    landed = query(duckdb_timeline.a, "select marketing_opt_in__v_text from "
                                      "bronze_crm.customers where customer_id = "
                                      f"{duckdb_timeline.conflict_customer_id} "
                                      "and marketing_opt_in__v_text is not null")
    assert landed == [("maybe",)]


# --- PostgreSQL: two databases -------------------------------------------------------------

@pytest.fixture(scope="module")
def pg_two_databases(pg_admin_url: str) -> Iterator[tuple[str, str]]:
    names = [f"retail_test_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'create database "{name}"'))
    yield names[0], names[1]
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@dataclass
class PostgresTimeline:
    paths: Paths
    urls: tuple[str, str]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    expected: dict[str, dict[str, int]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def postgres_timeline(tmp_path_factory: pytest.TempPathFactory, demo_template: Path,
                      pg_admin_url: str, pg_two_databases: tuple[str, str]) -> PostgresTimeline:
    root = tmp_path_factory.mktemp("ingest-faults-pg")
    shutil.copytree(demo_template, root / "demo")
    paths = Paths(root / "demo", root / "unused.duckdb", root / "pipelines")
    admin = sa.make_url(pg_admin_url)
    urls = (admin.set(database=pg_two_databases[0]).render_as_string(hide_password=False),
            admin.set(database=pg_two_databases[1]).render_as_string(hide_password=False))
    pg = {"RETAIL_PG_HOST": admin.host or "127.0.0.1", "RETAIL_PG_PORT": str(admin.port or 5432),
          "RETAIL_PG_USER": admin.username or "postgres",
          "RETAIL_PG_PASSWORD": admin.password or ""}
    envs = [cli_env(paths.demo_dir, paths.duckdb_path, paths.pipelines_dir, **pg,
                    RETAIL_PG_DATABASE=name) for name in pg_two_databases]
    timeline = PostgresTimeline(paths, urls)
    ingest_in_process(envs[0], "postgres")
    timeline.expected["day0"] = _source_expectation(paths)
    ingest_in_process(envs[1], "postgres")
    timeline.counts["day0_first"] = postgres_counts(urls[0])
    timeline.counts["day0_second"] = postgres_counts(urls[1])
    state = generator.advance(paths, days=1)
    timeline.expected["increment"] = _day_increment(paths, state, timeline.counts["day0_first"])
    ingest_in_process(envs[0], "postgres")
    ingest_in_process(envs[1], "postgres")
    timeline.counts["day1_first"] = postgres_counts(urls[0])
    timeline.counts["day1_second"] = postgres_counts(urls[1])
    timeline.expected["day1"] = _source_expectation(paths)
    return timeline


@pytest.mark.postgres
def test_new_postgres_database_gets_the_full_history(postgres_timeline: PostgresTimeline
                                                     ) -> None:
    first, second = postgres_timeline.counts["day0_first"], postgres_timeline.counts["day0_second"]
    for table, rows in postgres_timeline.expected["day0"].items():
        assert first.get(table, 0) == rows, table
    assert second == first


@pytest.mark.postgres
def test_each_postgres_database_continues_incrementally(postgres_timeline: PostgresTimeline
                                                        ) -> None:
    increment = postgres_timeline.expected["increment"]
    for which in ("first", "second"):
        before = postgres_timeline.counts[f"day0_{which}"]
        after = postgres_timeline.counts[f"day1_{which}"]
        for table in ("bronze_crm.customers", "bronze_sales.sales_lines"):
            assert after[table] - before.get(table, 0) == increment[table], (which, table)
        for table, rows in postgres_timeline.expected["day1"].items():
            if table.startswith("bronze_erp."):
                assert after[table] == rows, (which, table)


# --- clear errors -------------------------------------------------------------------------

def _one_line_error(run: Run) -> str:
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    return lines[0]


@pytest.fixture
def empty_env(tmp_path: Path) -> dict[str, str]:
    """No demo data generated yet, an empty warehouse folder."""
    return cli_env(tmp_path / "demo", tmp_path / "warehouse" / "retail.duckdb",
                   tmp_path / "pipelines")


def test_bad_postgres_port_is_one_line_naming_the_setting(empty_env: dict[str, str],
                                                          demo_template: Path) -> None:
    env = {**empty_env, "RETAIL_DEMO_DIR": str(demo_template), "RETAIL_PG_PORT": "abc"}
    run = run_cli(env, "ingest", "--destination", "postgres")
    line = _one_line_error(run)
    assert "RETAIL_PG_PORT" in line and "'abc'" in line


def test_verbose_shows_the_traceback(empty_env: dict[str, str]) -> None:
    run = run_cli(empty_env, "ingest", "--source", "erp", "--verbose")
    assert run.returncode == 2
    assert "Traceback" in run.stderr and run.stderr.rstrip().splitlines()[-1].startswith("error:")


def test_erp_before_generate_names_generate_and_the_erp_setting(
        empty_env: dict[str, str]) -> None:
    line = _one_line_error(run_cli(empty_env, "ingest", "--source", "erp"))
    assert "python -m ingestion generate" in line and "RETAIL_ERP_URL" in line
    assert "unable to open database file" not in line


def test_unset_source_url_is_one_line_and_never_falls_back_to_the_demo(
        empty_env: dict[str, str], demo_template: Path) -> None:
    """Demo files lying around are never read unless RETAIL_SOURCES=demo asks for them."""
    env = {k: v for k, v in empty_env.items() if k != "RETAIL_SOURCES"}
    env["RETAIL_DEMO_DIR"] = str(demo_template)
    for source, variable in (("all", "RETAIL_CRM_URL"), ("erp", "RETAIL_ERP_URL"),
                             ("sales", "RETAIL_SALES_BUCKET_URL")):
        line = _one_line_error(run_cli(env, "ingest", "--source", source))
        assert line.startswith(f"error: {variable} is not set"), line
        assert "RETAIL_SOURCES=demo" in line
    assert not Path(env["RETAIL_DUCKDB_PATH"]).exists(), "nothing may be loaded"

    wrong = _one_line_error(run_cli({**env, "RETAIL_SOURCES": "dmeo"}, "ingest"))
    assert "RETAIL_SOURCES='dmeo'" in wrong


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_postgres_warehouse_is_one_line(empty_env: dict[str, str],
                                                    demo_template: Path) -> None:
    env = {**empty_env, "RETAIL_DEMO_DIR": str(demo_template), "RETAIL_PG_HOST": "127.0.0.1",
           "RETAIL_PG_PORT": str(_free_port())}
    line = _one_line_error(run_cli(env, "ingest", "--source", "erp", "--destination",
                                   "postgres"))
    assert "PostgreSQL warehouse" in line and "RETAIL_PG_HOST" in line
    assert "RETAIL_PG_PORT" in line


class SilentServer:
    """A socket that accepts connections and never answers: a hanging API."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.2)
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                self.accepted.append(self.socket.accept()[0])
            except OSError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for connection in self.accepted:
            connection.close()
        self.socket.close()


@pytest.fixture
def silent_crm() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def test_hanging_crm_prints_each_retry_then_one_line(empty_env: dict[str, str],
                                                     silent_crm: SilentServer) -> None:
    env = {**empty_env, "RETAIL_CRM_URL": silent_crm.url, "RETAIL_CRM_TIMEOUT_S": "0.5",
           "RETAIL_CRM_MAX_ATTEMPTS": "3"}
    run = run_cli(env, "ingest", "--source", "crm")
    retries = [line for line in run.stdout.splitlines() if "crm: no answer from" in line]
    assert [line.split("; ")[-1].split(" in ")[0] for line in retries] == [
        "attempt 2 of 3", "attempt 3 of 3"]
    line = _one_line_error(run)
    assert "CRM API did not answer" in line and "RETAIL_CRM_URL" in line
    assert len(silent_crm.accepted) == 3
