"""The demo generator: deterministic, scaled, and honest about what it planted."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from ingestion.demo import generator
from ingestion.demo.planted import read_planted
from ingestion.erp import PRIMARY_KEYS
from ingestion.settings import Paths


def _paths(root: Path) -> Paths:
    return Paths(demo_dir=root / "demo", duckdb_path=root / "w.duckdb",
                 pipelines_dir=root / "p")


def _fingerprint(paths: Paths) -> dict[str, str]:
    """A digest of everything the three sources would deliver."""
    digest: dict[str, str] = {}
    for file in sorted(paths.landing_dir.glob("*.csv")):
        digest[file.name] = hashlib.sha256(file.read_bytes()).hexdigest()
    for file in sorted(paths.crm_dir.glob("*.parquet")):
        digest[file.name] = hashlib.sha256(
            str(pq.read_table(file).to_pylist()).encode()).hexdigest()
    engine = sa.create_engine(f"sqlite:///{paths.erp_sqlite_path}")
    with engine.connect() as conn:
        for table, key in PRIMARY_KEYS.items():
            rows = conn.execute(sa.text(f"select * from {table} order by {key}")).all()
            digest[table] = hashlib.sha256(str(rows).encode()).hexdigest()
    engine.dispose()
    return digest


def test_same_seed_gives_identical_sources_across_days(tmp_path: Path) -> None:
    first, second = _paths(tmp_path / "a"), _paths(tmp_path / "b")
    for paths in (first, second):
        generator.generate(paths, scale=0.05, seed=7)
        generator.advance(paths, days=2)
    assert _fingerprint(first) == _fingerprint(second)


def test_other_seed_gives_other_data(tmp_path: Path) -> None:
    first, second = _paths(tmp_path / "a"), _paths(tmp_path / "b")
    generator.generate(first, scale=0.05, seed=1)
    generator.generate(second, scale=0.05, seed=2)
    a, b = _fingerprint(first), _fingerprint(second)
    assert a.keys() == b.keys()
    for name in ("customers.parquet", "products", "orders", "order_lines",
                 "sales_2025-12-31.csv"):
        assert a[name] != b[name], name


def _sales_rows(paths: Paths) -> int:
    return sum(sum(1 for _ in f.open()) - 1 for f in paths.landing_dir.glob("*.csv"))


def test_scale_sets_the_volumes(tmp_path: Path) -> None:
    small, large = _paths(tmp_path / "s"), _paths(tmp_path / "l")
    generator.generate(small, scale=0.1, seed=3)
    generator.generate(large, scale=0.3, seed=3)
    assert pq.read_table(small.crm_dir / "customers.parquet").num_rows == 1_000
    assert pq.read_table(large.crm_dir / "customers.parquet").num_rows == 3_000
    # scale 1 is ~200k sales lines: ~160k POS lines plus ~40k ERP order lines
    assert 14_000 < _sales_rows(small) < 18_500
    assert 44_000 < _sales_rows(large) < 54_000


def test_scale_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale must be positive"):
        generator.generate(_paths(tmp_path), scale=0, seed=1)


def test_advance_without_generate_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="python -m ingestion generate"):
        generator.advance(_paths(tmp_path), days=1)


def test_planted_register_matches_the_files(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    generator.generate(paths, scale=0.05, seed=11)
    generator.advance(paths, days=3)
    planted = read_planted(paths.planted_path)
    assert {b.day for b in planted} == {0, 1, 2, 3}
    totals: dict[str, int] = {}
    for batch in planted:
        totals[batch.kind] = totals.get(batch.kind, 0) + batch.count

    originals = [f for f in paths.landing_dir.glob("*.csv") if "_resend" not in f.name]
    resends = [f for f in paths.landing_dir.glob("*.csv") if "_resend" in f.name]
    records = [row for f in originals for row in csv.reader(f.open())][0:]
    data = [r for r in records if r and r[0] != "transaction_id"]
    assert sum(1 for r in data if len(r) == 11) == totals["malformed_row"]
    wellformed = [r for r in data if len(r) == 10]
    assert sum(1 for r in wellformed if r[0] == "") == totals["null_transaction_id"]
    assert sum(1 for r in wellformed if r[2] == "ST999") == totals["unknown_store"]
    assert sum(1 for r in wellformed if r[8] == "31/02/2026 25:61") == \
        totals["unparseable_sold_at"]
    assert sum(1 for r in wellformed if r[6].startswith("-")) == totals["negative_unit_price"]
    keys = [(r[0], r[1]) for r in wellformed if r[0]]
    assert len(keys) - len(set(keys)) == totals["duplicate_line"]
    assert len(resends) == totals["duplicate_file"] == 2  # from day 2 on, one per day
    for resend in resends:
        original = paths.landing_dir / resend.name.replace("_resend", "")
        assert resend.read_bytes() == original.read_bytes()

    engine = sa.create_engine(f"sqlite:///{paths.erp_sqlite_path}")
    with engine.connect() as conn:
        negative = conn.execute(sa.text("select count(*) from order_lines where quantity < 1"))
        orphans = conn.execute(sa.text(
            "select count(*) from order_lines l left join orders o using (order_id) "
            "where o.order_id is null"))
        assert negative.scalar_one() == totals["negative_quantity"]
        assert orphans.scalar_one() == totals["orphan_order_line"]
    engine.dispose()
