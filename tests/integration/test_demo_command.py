"""The README's main command works twice in a row.

`make demo` runs `python -m tools.quickstart`; day 0 and one daily increment at a small scale
keep the test short while every dbt command of the demo (parse, the full build, an incremental
build on the same parse, docs) runs, and starting over (the warehouse and its load state removed
before regenerating) is what a second run needs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingestion.sources import URL_VARIABLES

pytestmark = pytest.mark.slow

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _run_demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.quickstart", "--scale", "0.02", "--days", "1"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900, check=False)


def _fct_sales_rows(duckdb_path: Path) -> int:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        row = con.execute("select count(*) from gold.fct_sales").fetchone()
    assert row is not None
    return int(row[0])


def _assert_docs_site(target: Path) -> None:
    """The docs site: its page, the catalog of the warehouse's relations, and the manifest
    with every built model's compiled SQL (the docs are generated without compiling again)."""
    assert (target / "index.html").is_file()
    catalog = json.loads((target / "catalog.json").read_text())
    assert "model.retail_medallion.fct_sales" in catalog["nodes"]
    manifest = json.loads((target / "manifest.json").read_text())
    models = {key: node for key, node in manifest["nodes"].items()
              if node["resource_type"] == "model" and node["config"]["enabled"]}
    assert models
    uncompiled = sorted(key for key, node in models.items() if not node.get("compiled_code"))
    assert not uncompiled, uncompiled


def test_demo_command_succeeds_twice_in_a_row_with_the_same_result(tmp_path: Path) -> None:
    duckdb_path = tmp_path / "warehouse" / "retail.duckdb"
    env = {
        **os.environ,
        "RETAIL_DEMO_DIR": str(tmp_path / "demo"),
        "RETAIL_DUCKDB_PATH": str(duckdb_path),
        "RETAIL_DLT_PIPELINES_DIR": str(tmp_path / "warehouse" / ".dlt"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    for inherited in (*URL_VARIABLES.values(), "RETAIL_DBT_TARGET"):
        env.pop(inherited, None)

    first = _run_demo(env)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    # a small demo builds at two dbt threads (tools.quickstart.default_threads)
    assert "Concurrency: 2 threads" in first.stdout, first.stdout[-4000:]
    assert "==> dbt build (incremental)" in first.stdout
    rows_after_first = _fct_sales_rows(duckdb_path)
    assert rows_after_first > 0
    _assert_docs_site(tmp_path / "target")

    second = _run_demo(env)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-2000:]
    assert "starting over: removing" in second.stdout
    # same seed, same data: the second demo rebuilds exactly what the first built
    assert _fct_sales_rows(duckdb_path) == rows_after_first
