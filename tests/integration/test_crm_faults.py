"""CRM faults on a real timeline: values of the wrong type, delete -> re-create.

Day 0 is generated, ingested with the real CLI and built with `dbt build`. On day 1 the CRM
sends new versions of a few customers whose marketing opt-in is "maybe" and whose
created_at is "last tuesday" (dlt lands them in variant columns), and hard-deletes one
customer. On day 2 that customer is re-created under the same id, and another customer is
deleted and re-created within the same day, so both arrive in one ingest. Faults are
written into the CRM stand-in's files the way the generator writes them. Each day is
ingested and built once; the tests read the warehouse afterwards.

When a PostgreSQL server is reachable, days 0 and 1 of the CRM are also loaded into a
private database and the CRM's silver models built there, to show the type conflicts are
quarantined the same way on PostgreSQL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ingestion.demo import crm_data
from ingestion.demo.state import DemoState
from ingestion.sources import URL_VARIABLES
from tests.conftest import TEST_SCALE, TEST_SEED
from tests.integration.conftest import (
    BIN_DIR,
    Warehouse,
    postgres_warehouse,
    private_postgres_database,
    run_step,
    skip_or_fail,
)

pytestmark = pytest.mark.slow

OPT_IN_MAYBE = "maybe"
CREATED_LAST_TUESDAY = "last tuesday"
# the CRM's silver models and the seed they read, for the PostgreSQL check
CRM_SILVER = ("+quarantine_crm", "+stg_crm__customers", "+stg_crm__customer_deletions")
END_OF_TIME = datetime(9999, 12, 31)


@dataclass(frozen=True)
class PlantedCustomers:
    """Who got which fault, and when the CRM deleted and re-created whom (UTC)."""

    opt_in_maybe: tuple[int, ...]
    created_last_tuesday: tuple[int, ...]
    deleted_day_one: int
    deleted_day_one_at: datetime
    recreated_day_two_at: datetime
    deleted_and_recreated: int = 0
    deleted_day_two_at: datetime = datetime(1900, 1, 1)
    recreated_same_day_at: datetime = datetime(1900, 1, 1)

    @property
    def type_conflicts(self) -> dict[int, str]:
        """customer id -> the rejected value quarantine_crm must show."""
        values: dict[int, list[str]] = {}
        for customer_id in self.created_last_tuesday:
            values.setdefault(customer_id, []).append(f"created_at: {CREATED_LAST_TUESDAY}")
        for customer_id in self.opt_in_maybe:
            values.setdefault(customer_id, []).append(f"marketing_opt_in: {OPT_IN_MAYBE}")
        return {customer_id: "; ".join(parts) for customer_id, parts in values.items()}


@dataclass
class BuildResult:
    label: str
    error: str | None


@dataclass
class CrmFaultsRun:
    warehouse: Warehouse
    planted: PlantedCustomers
    original_rows: dict[int, dict[str, Any]]
    builds: list[BuildResult] = field(default_factory=list)
    after_day_one: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    postgres: Warehouse | None = None
    postgres_missing_reason: str | None = None
    postgres_builds: list[BuildResult] = field(default_factory=list)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.warehouse.query(sql)


def _iso(moment: datetime) -> str:
    """The CRM API's timestamp format."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


def _business_date(demo_dir: Path) -> date:
    return DemoState.load(demo_dir / "state.json").business_date()


def _untouched_customer_ids(customers: pa.Table, deletions: pa.Table, day: date,
                            count: int, exclude: set[int]) -> list[int]:
    """Live customers the generator did not change today: the lowest ids, deterministic."""
    unchanged = customers.filter(pc.and_(
        pc.less(customers.column("updated_at"), day.isoformat()),
        pc.invert(customers.column("is_deleted"))))
    deleted = set(deletions.column("customer_id").to_pylist())
    ids = sorted(set(unchanged.column("customer_id").to_pylist()) - deleted - exclude)
    assert len(ids) >= count, "the demo has too few untouched customers to plant on"
    return ids[:count]


def _append_deletion(crm_dir: Path, customer_id: int, deleted_at: datetime) -> pa.Table:
    deletions = crm_data.read_deletions(crm_dir)
    return pa.concat_tables([deletions, pa.table({
        "customer_id": pa.array([customer_id], pa.int64()),
        "deleted_at": pa.array([_iso(deleted_at)], pa.string()),
    })])


def plant_day_one(crm_dir: Path, day: date) -> tuple[PlantedCustomers, pa.Table]:
    """Type conflicts on new versions of four customers, and one hard delete.

    The CRM answers in JSON, so the opt-in column is written as text: "true" and "false"
    still fit the boolean column, "maybe" does not. Returns what was planted and the CRM's
    customers as the generator would hold them after the delete (to restore before day 2).
    """
    customers = crm_data.read_customers(crm_dir)
    ids = _untouched_customer_ids(customers, crm_data.read_deletions(crm_dir), day, 5, set())
    opt_in_maybe, created_last_tuesday, deleted = tuple(ids[0:3]), tuple(ids[2:4]), ids[4]
    changed_at = _iso(_at(day, 12))
    rows = []
    for row in customers.to_pylist():
        row["marketing_opt_in"] = "true" if row["marketing_opt_in"] else "false"
        if row["customer_id"] in opt_in_maybe:
            row.update(marketing_opt_in=OPT_IN_MAYBE, updated_at=changed_at)
        if row["customer_id"] in created_last_tuesday:
            row.update(created_at=CREATED_LAST_TUESDAY, updated_at=changed_at)
        if row["customer_id"] != deleted:
            rows.append(row)
    text_opt_in = customers.schema.set(customers.schema.get_field_index("marketing_opt_in"),
                                       pa.field("marketing_opt_in", pa.string()))
    planted = PlantedCustomers(
        opt_in_maybe=opt_in_maybe, created_last_tuesday=created_last_tuesday,
        deleted_day_one=deleted, deleted_day_one_at=_at(day, 21),
        recreated_day_two_at=datetime(1900, 1, 1))
    crm_data.write_crm(crm_dir, pa.Table.from_pylist(rows, schema=text_opt_in),
                       _append_deletion(crm_dir, deleted, planted.deleted_day_one_at))
    remaining = customers.filter(pc.not_equal(customers.column("customer_id"), deleted))
    return planted, remaining


def plant_day_two(crm_dir: Path, day: date, planted: PlantedCustomers,
                  deleted_row: dict[str, Any]) -> PlantedCustomers:
    """Re-create yesterday's deleted customer; delete and re-create another one today."""
    customers = crm_data.read_customers(crm_dir)
    exclude = {*planted.opt_in_maybe, *planted.created_last_tuesday, planted.deleted_day_one}
    same_day = _untouched_customer_ids(customers, crm_data.read_deletions(crm_dir), day, 1,
                                       exclude)[0]
    planted = PlantedCustomers(
        opt_in_maybe=planted.opt_in_maybe, created_last_tuesday=planted.created_last_tuesday,
        deleted_day_one=planted.deleted_day_one, deleted_day_one_at=planted.deleted_day_one_at,
        recreated_day_two_at=_at(day, 10), deleted_and_recreated=same_day,
        deleted_day_two_at=_at(day, 8), recreated_same_day_at=_at(day, 14))
    rows = customers.to_pylist()
    for row in rows:
        if row["customer_id"] == same_day:
            recreated = _iso(planted.recreated_same_day_at)
            row.update(created_at=recreated, updated_at=recreated, loyalty_tier="bronze")
    recreated = _iso(planted.recreated_day_two_at)
    rows.append({**deleted_row, "created_at": recreated, "updated_at": recreated,
                 "loyalty_tier": "bronze"})
    crm_data.write_crm(crm_dir, pa.Table.from_pylist(rows, schema=customers.schema),
                       _append_deletion(crm_dir, same_day, planted.deleted_day_two_at))
    return planted


def _build(warehouse: Warehouse, label: str, *args: str) -> BuildResult:
    """`dbt build`, keeping its failure for the test that checks it, not raising."""
    try:
        warehouse.dbt("build", *args)
    except AssertionError as failure:
        return BuildResult(label, str(failure))
    return BuildResult(label, None)


def _ingest_crm(warehouse: Warehouse) -> None:
    run_step([str(BIN_DIR / "python"), "-m", "ingestion", "ingest", "--source", "crm",
              "--destination", warehouse.target], warehouse.env)


@pytest.fixture(scope="module")
def crm_postgres_database() -> Iterator[tuple[str | None, str | None]]:
    """The CRM timeline's own database: the session's one may already hold the demo
    timeline's CRM tables, which the CRM's type conflicts must not land beside."""
    with private_postgres_database() as database:
        yield database


@pytest.fixture(scope="module")
def crm_run(tmp_path_factory: pytest.TempPathFactory,
            crm_postgres_database: tuple[str | None, str | None]) -> CrmFaultsRun:
    root = tmp_path_factory.mktemp("crm-faults")
    demo_dir = root / "demo"
    base_env = {**os.environ, "RETAIL_DEMO_DIR": str(demo_dir),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for inherited in (*URL_VARIABLES.values(), "RETAIL_DBT_TARGET"):
        base_env.pop(inherited, None)
    duck = Warehouse(
        target="duckdb", work_dir=root / "duckdb",
        env={**base_env, "RETAIL_DUCKDB_PATH": str(root / "duckdb" / "retail.duckdb"),
             "RETAIL_DLT_PIPELINES_DIR": str(root / "duckdb" / "pipelines")})
    pg_url, pg_reason = crm_postgres_database
    pg = postgres_warehouse(pg_url, root, base_env) if pg_url else None
    return _run_timeline(demo_dir, base_env, duck, pg, pg_reason)


def _run_timeline(demo_dir: Path, base_env: dict[str, str], duck: Warehouse,
                  pg: Warehouse | None, pg_reason: str | None) -> CrmFaultsRun:
    """Day 0, day 1 (type conflicts, a hard delete), day 2 (re-creations)."""
    python = str(BIN_DIR / "python")
    crm_dir = demo_dir / "crm"
    run_step([python, "-m", "ingestion", "generate", "--scale", str(TEST_SCALE),
              "--seed", str(TEST_SEED)], base_env)
    duck.ingest()
    builds = [_build(duck, "day 0")]
    pg_builds = []
    if pg is not None:
        _ingest_crm(pg)
        pg_builds.append(_build(pg, "day 0", "--select", *CRM_SILVER))

    run_step([python, "-m", "ingestion", "advance", "--days", "1"], base_env)
    original = {row["customer_id"]: row for row in crm_data.read_customers(crm_dir).to_pylist()}
    planted, remaining = plant_day_one(crm_dir, _business_date(demo_dir))
    duck.ingest()
    builds.append(_build(duck, "day 1"))
    if pg is not None:
        _ingest_crm(pg)
        pg_builds.append(_build(pg, "day 1", "--select", *CRM_SILVER))
    run = CrmFaultsRun(warehouse=duck, planted=planted, original_rows=original,
                       postgres=pg, postgres_missing_reason=pg_reason)
    run.after_day_one["dim_customer_deleted"] = duck.query(
        "select valid_to, is_current, is_hard_deleted from gold.dim_customer "
        f"where customer_id = {planted.deleted_day_one}")
    # the CRM holds its customers typed again; bronze keeps the conflicting versions
    crm_data.write_crm(crm_dir, remaining, crm_data.read_deletions(crm_dir))

    run_step([python, "-m", "ingestion", "advance", "--days", "1"], base_env)
    run.planted = plant_day_two(crm_dir, _business_date(demo_dir), planted,
                                original[planted.deleted_day_one])
    duck.ingest()
    builds.append(_build(duck, "day 2"))
    run.builds, run.postgres_builds = builds, pg_builds
    return run


def _type_conflicts(warehouse: Warehouse) -> dict[int, str]:
    rows = warehouse.query(
        "select record_key, rejected_value from silver.quarantine_crm "
        "where quarantine_rule = 'type_conflict' and table_name = 'customers'")
    assert len(rows) == len({key for key, _ in rows}), "one quarantine row per bronze row"
    return {int(key): value for key, value in rows}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def test_every_dbt_build_exits_zero(crm_run: CrmFaultsRun) -> None:
    failed = {build.label: build.error for build in crm_run.builds if build.error}
    assert [build.label for build in crm_run.builds] == ["day 0", "day 1", "day 2"]
    assert failed == {}


def test_type_conflicts_are_quarantined_with_the_raw_value(crm_run: CrmFaultsRun) -> None:
    assert _type_conflicts(crm_run.warehouse) == crm_run.planted.type_conflicts
    rules = crm_run.query("select quarantine_rule, count(*) from silver.quarantine_crm "
                          "group by quarantine_rule")
    assert rules == [("type_conflict", 4)]


def test_type_conflicts_are_never_read_as_nulls(crm_run: CrmFaultsRun) -> None:
    nulls = crm_run.query(
        "select count(*) from silver.stg_crm__customers "
        "where is_marketing_opt_in is null or created_at is null")
    assert nulls == [(0,)]
    nulls_in_gold = crm_run.query(
        "select count(*) from gold.dim_customer "
        "where customer_id <> -1 and (is_marketing_opt_in is null or created_at is null)")
    assert nulls_in_gold == [(0,)]


def test_customer_with_a_type_conflict_keeps_its_last_valid_version(
        crm_run: CrmFaultsRun) -> None:
    conflicted = sorted(crm_run.planted.type_conflicts)
    silver = crm_run.query(
        "select customer_id, is_marketing_opt_in, created_at from silver.stg_crm__customers "
        f"where customer_id in ({', '.join(map(str, conflicted))}) order by customer_id")
    expected = [(customer_id, crm_run.original_rows[customer_id]["marketing_opt_in"],
                 _utc(crm_run.original_rows[customer_id]["created_at"]))
                for customer_id in conflicted]
    assert silver == expected


def test_type_conflict_rows_reconcile_as_quarantined(crm_run: CrmFaultsRun) -> None:
    columns = [name for (name,) in crm_run.query(
        "select column_name from information_schema.columns where table_schema = 'silver' "
        "and table_name = 'dq_row_reconciliation' order by ordinal_position")]
    row_classes = [c for c in columns if c.endswith("_rows") and c != "bronze_rows"]
    loads = crm_run.query(
        f"select table_name, _dlt_load_id, bronze_rows, {', '.join(row_classes)} "
        "from silver.dq_row_reconciliation where source_name = 'crm' order by _dlt_load_id")
    unbalanced = [load for load in loads if load[2] != sum(load[3:])]
    assert unbalanced == []
    bronze_rows = {table: n for table, n in crm_run.query(
        "select 'customers', count(*) from bronze_crm.customers union all "
        "select 'customer_deletions', count(*) from bronze_crm.customer_deletions")}
    for table, total in bronze_rows.items():
        assert sum(load[2] for load in loads if load[0] == table) == total
    quarantined = row_classes.index("quarantined_rows") + 3
    assert sum(load[quarantined] for load in loads if load[0] == "customers") == 4


def _versions(crm_run: CrmFaultsRun, customer_id: int) -> list[tuple[Any, ...]]:
    return crm_run.query(
        "select valid_from, valid_to, is_current, is_hard_deleted, loyalty_tier "
        f"from gold.dim_customer where customer_id = {customer_id} order by valid_from")


def test_customer_re_created_in_a_later_run_is_current_and_not_deleted(
        crm_run: CrmFaultsRun) -> None:
    planted = crm_run.planted
    # after day 1: deleted, no current version
    assert crm_run.after_day_one["dim_customer_deleted"] == [
        (planted.deleted_day_one_at, False, True)]
    versions = _versions(crm_run, planted.deleted_day_one)
    old_tier = crm_run.original_rows[planted.deleted_day_one]["loyalty_tier"].strip().lower()
    assert versions == [
        (datetime(1900, 1, 1), planted.deleted_day_one_at, False, True, old_tier),
        (planted.recreated_day_two_at, END_OF_TIME, True, False, "bronze"),
    ]


def test_customer_deleted_and_re_created_in_one_run_is_current_and_not_deleted(
        crm_run: CrmFaultsRun) -> None:
    planted = crm_run.planted
    versions = _versions(crm_run, planted.deleted_and_recreated)
    assert versions[-2:] == [
        (versions[-2][0], planted.deleted_day_two_at, False, True, versions[-2][4]),
        (planted.recreated_same_day_at, END_OF_TIME, True, False, "bronze"),
    ]
    assert all(not hard_deleted for *_, hard_deleted, _ in versions[:-2])


def test_dim_customer_windows_are_checked_by_dbt_after_deletes_and_re_creations(
        crm_run: CrmFaultsRun) -> None:
    """The SCD2 rule has one home, the dbt test scd2_windows (no empty or overlapping
    windows, a gap only after a hard delete, one current version unless the latest was
    hard-deleted): it ran and passed in the last build, after the day-two re-creations."""
    target = crm_run.warehouse.work_dir / "target"
    results = json.loads((target / "run_results.json").read_text())["results"]
    scd2 = {r["unique_id"].split(".")[2]: (r["status"], r["failures"]) for r in results
            if r["unique_id"].startswith("test.retail_medallion.scd2_windows_")}
    assert scd2 == {
        "scd2_windows_dim_customer_is_hard_deleted__customer_id": ("pass", 0),
        "scd2_windows_dim_product_product_id": ("pass", 0),
        "scd2_windows_dim_store_store_id": ("pass", 0),
    }
    deleted = crm_run.query("select distinct customer_id from gold.dim_customer "
                            "where is_hard_deleted")
    assert (crm_run.planted.deleted_day_one,) in deleted


def test_postgres_quarantines_the_same_type_conflicts(crm_run: CrmFaultsRun) -> None:
    if crm_run.postgres is None:
        skip_or_fail(crm_run.postgres_missing_reason or "PostgreSQL is not available")
    assert crm_run.postgres is not None
    failed = {build.label: build.error for build in crm_run.postgres_builds if build.error}
    assert failed == {}
    assert _type_conflicts(crm_run.postgres) == crm_run.planted.type_conflicts
    nulls = crm_run.postgres.query(
        "select count(*) from silver.stg_crm__customers "
        "where is_marketing_opt_in is null or created_at is null")
    assert nulls == [(0,)]
