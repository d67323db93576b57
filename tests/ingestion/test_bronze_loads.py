"""Bronze loads on DuckDB: incremental, idempotent, restartable, drift-tolerant."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from ingestion.demo import generator
from ingestion.demo.planted import planted_totals
from ingestion.demo.sources import demo_erp_url, ingest_demo_source
from ingestion.erp import PRIMARY_KEYS
from ingestion.ingest import SOURCES
from ingestion.pipeline import SourceReport
from ingestion.settings import Paths
from tests.ingestion.bronze import count, counts, query


def _ingest(paths: Paths, *sources: str) -> dict[str, SourceReport]:
    return {name: ingest_demo_source(name, "duckdb", paths, lambda _: None)
            for name in (sources or SOURCES)}


def _erp_counts(paths: Paths) -> dict[str, int]:
    engine = sa.create_engine(demo_erp_url(paths))
    with engine.connect() as conn:
        result: dict[str, int] = {t: conn.execute(sa.text(f"select count(*) from {t}")).scalar_one()
                  for t in PRIMARY_KEYS}
    engine.dispose()
    return result


def _wellformed_lines(file: Path) -> int:
    with file.open(newline="") as handle:
        return sum(1 for record in list(csv.reader(handle))[1:] if len(record) == 10)


def _file_rows(paths: Paths) -> int:
    """Well-formed data lines over all original (not re-delivered) files."""
    return sum(_wellformed_lines(file) for file in paths.landing_dir.glob("sales_*.csv")
               if "_resend" not in file.name)


def test_first_load_lands_every_source(workspace: Paths) -> None:
    reports = _ingest(workspace)
    loaded = counts(workspace.duckdb_path)
    erp = _erp_counts(workspace)
    for table, rows in erp.items():
        assert loaded[f"bronze_erp.{table}"] == rows
    assert loaded["bronze_crm.customers"] == 500
    assert loaded["bronze_sales.sales_lines"] == _file_rows(workspace)
    assert loaded["bronze_sales.rejected_lines"] == planted_totals(
        workspace.planted_path)["malformed_row"]
    assert reports["sales"].rows["sales_lines"] == loaded["bronze_sales.sales_lines"]
    lineage = query(workspace.duckdb_path,
                    "select count(*) from bronze_sales.sales_lines "
                    "where _dlt_load_id is null or _loaded_at is null or _source_file is null")
    assert lineage == [(0,)]
    # the files dlt hands to the warehouse are deleted once loaded, not kept per load
    assert list(workspace.pipelines_dir.rglob("package_completed.json"))
    assert not [f for f in workspace.pipelines_dir.rglob("*") if f.suffix == ".parquet"]


def test_second_ingest_with_nothing_new_adds_no_rows(workspace: Paths) -> None:
    _ingest(workspace)
    before = counts(workspace.duckdb_path)
    reports = _ingest(workspace)
    assert counts(workspace.duckdb_path) == before
    assert all(report.total_rows == 0 for report in reports.values())


def test_advance_loads_exactly_the_increment(workspace: Paths) -> None:
    _ingest(workspace)
    before = counts(workspace.duckdb_path)
    state = generator.advance(workspace, days=1)
    day_start = f"{state.business_date().isoformat()}T00:00:00Z"
    customers = pq.read_table(workspace.crm_dir / "customers.parquet")
    changed = customers.filter(pc.greater_equal(customers.column("updated_at"), day_start))
    new_file = workspace.landing_dir / f"sales_{state.business_date().isoformat()}.csv"
    new_lines = _wellformed_lines(new_file)

    _ingest(workspace)
    after = counts(workspace.duckdb_path)
    assert after["bronze_crm.customers"] - before["bronze_crm.customers"] == changed.num_rows
    assert after["bronze_crm.customer_deletions"] - before["bronze_crm.customer_deletions"] >= 1
    assert after["bronze_sales.sales_lines"] - before["bronze_sales.sales_lines"] == new_lines
    for table, rows in _erp_counts(workspace).items():
        assert after[f"bronze_erp.{table}"] == rows  # merged: one row per ERP row
    engine = sa.create_engine(demo_erp_url(workspace))
    with engine.connect() as conn:
        source_statuses: dict[str, int] = dict(conn.execute(sa.text(
            "select order_status, count(*) from orders group by 1")).all())
    engine.dispose()
    bronze_statuses = dict(query(workspace.duckdb_path,
                                 "select order_status, count(*) from bronze_erp.orders "
                                 "group by 1"))
    assert bronze_statuses == source_statuses


def test_redelivered_file_adds_no_rows(workspace: Paths) -> None:
    _ingest(workspace, "sales")
    before = count(workspace.duckdb_path, "bronze_sales.sales_lines")
    original = sorted(workspace.landing_dir.glob("sales_*.csv"))[-1]
    shutil.copyfile(original, workspace.landing_dir / "sales_again_from_pos.csv")
    original.touch()  # same name delivered again with a newer timestamp
    os.utime(original, (time.time() + 5, time.time() + 5))
    report = _ingest(workspace, "sales")["sales"]
    assert count(workspace.duckdb_path, "bronze_sales.sales_lines") == before
    assert "sales_lines" not in report.rows
    duplicates = query(workspace.duckdb_path,
                       "select file_name, duplicate_of from bronze_sales.delivered_files "
                       "where status = 'duplicate' order by file_name")
    assert sorted(duplicates) == sorted([("sales_again_from_pos.csv", original.name),
                                         (original.name, original.name)])


def test_schema_drift_new_crm_field_lands_and_is_reported(workspace: Paths) -> None:
    _ingest(workspace, "crm")
    generator.advance(workspace, days=1)  # drift day is 2: nothing new yet
    _ingest(workspace, "crm")
    columns = {c for (c,) in query(workspace.duckdb_path,
                                   "select column_name from information_schema.columns "
                                   "where table_name = 'customers'")}
    assert "preferred_channel" not in columns
    generator.advance(workspace, days=1)
    report = _ingest(workspace, "crm")["crm"]
    drift = [(c.table, c.column, c.type_conflict) for c in report.schema_changes]
    assert ("customers", "preferred_channel", False) in drift
    filled = count(workspace.duckdb_path, "bronze_crm.customers",
                   "preferred_channel is not null")
    assert filled == report.rows["customers"]


def test_type_conflict_does_not_crash_the_load(workspace: Paths) -> None:
    _ingest(workspace, "crm")
    customers = pq.read_table(workspace.crm_dir / "customers.parquet")
    rows = customers.to_pylist()
    rows[0]["marketing_opt_in"] = "maybe"  # a boolean field suddenly carries text
    rows[0]["updated_at"] = "2030-01-01T00:00:00Z"
    import pyarrow as pa

    bad = pa.Table.from_pylist(rows[:1], schema=customers.schema.set(
        customers.schema.get_field_index("marketing_opt_in"),
        pa.field("marketing_opt_in", pa.string())))
    rest = customers.slice(1).cast(bad.schema.set(
        bad.schema.get_field_index("marketing_opt_in"), pa.field("marketing_opt_in",
                                                                pa.string())))
    pq.write_table(pa.concat_tables([rest, bad]), workspace.crm_dir / "customers.parquet")
    report = _ingest(workspace, "crm")["crm"]
    conflicts = [c.column for c in report.schema_changes if c.type_conflict]
    assert conflicts and conflicts[0].startswith("marketing_opt_in__v_")
    assert report.rows["customers"] == 1


PAUSING_CLI = """
import sys, time
from ingestion import cli, pipeline

def pause(name):
    print(f"{name}: pausing before load", flush=True)
    time.sleep(120)

pipeline.before_load_hooks.append(pause)
sys.exit(cli.main(sys.argv[1:]))
"""
"""The real CLI, stopping for two minutes between normalize and load: time to kill it."""


def _run_pausing_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", PAUSING_CLI, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=os.environ.copy())


@pytest.mark.parametrize("source", SOURCES)
def test_ingest_killed_before_load_completes_on_next_run(
    workspace: Paths, source: str, tmp_path: Path,
) -> None:
    # a clean reference load of the same data, into another warehouse
    reference = Paths(workspace.demo_dir, tmp_path / "reference.duckdb", tmp_path / "ref-pipes")
    _ingest(reference, source)
    expected = counts(reference.duckdb_path)

    process = _run_pausing_cli("ingest", "--source", source)
    assert process.stdout is not None
    for line in process.stdout:
        if "pausing" in line:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert all(n == 0 for n in counts(workspace.duckdb_path).values())

    report = _ingest(workspace, source)[source]
    assert report.resumed_rows > 0
    assert counts(workspace.duckdb_path) == expected
    again = _ingest(workspace, source)[source]
    assert again.total_rows == 0
    assert counts(workspace.duckdb_path) == expected


def test_a_run_with_nothing_new_reports_no_load_for_any_source(workspace: Paths) -> None:
    """The ERP's look-back re-reads rows bronze already holds: dlt still stores its moved
    cursor, but that is no bronze load, so nothing is registered for the gate."""
    first = _ingest(workspace, *SOURCES)
    again = _ingest(workspace, *SOURCES)

    assert all(first[source].load_ids for source in SOURCES)
    assert {source: (again[source].load_ids, again[source].rows) for source in SOURCES} == {
        source: ([], {}) for source in SOURCES}
    assert again["erp"].reread_rows > 0
