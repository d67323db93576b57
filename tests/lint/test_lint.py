"""The code follows the house style: SQL (sqlfluff, `.sqlfluff`), Python (ruff and mypy,
pyproject.toml). Each test runs the same command as `make lint` and the pre-commit hooks,
and shows the violations when there are any.

sqlfluff renders the models with the dbt templater, which opens the DuckDB target: the
test points it at an in-memory database (and keeps dbt's target/ and logs/ in a temporary
folder), so it neither needs a built warehouse nor locks the real one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
SQL_PATHS = ("models", "snapshots", "tests/dbt")
PYTHON_TYPED_PATHS = ("ingestion", "dags", "tools")
TIMEOUT_SECONDS = 900


def tool(name: str) -> str:
    executable = BIN_DIR / name
    if not executable.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable}: "
                    "install the lint extra (pip install -e '.[lint]')")
    return str(executable)


def run(command: list[str], env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_SECONDS, check=False)


def sqlfluff_env(scratch: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RETAIL_DBT_TARGET": "duckdb",
        "RETAIL_DUCKDB_PATH": ":memory:",
        "DBT_TARGET_PATH": str(scratch / "target"),
        "DBT_LOG_PATH": str(scratch / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def describe_sqlfluff_report(report: list[dict[str, object]]) -> str:
    by_rule: Counter[str] = Counter()
    lines: list[str] = []
    for file_report in report:
        violations = file_report.get("violations") or []
        assert isinstance(violations, list)
        path = Path(str(file_report["filepath"])).resolve().relative_to(PROJECT_DIR)
        for violation in violations:
            by_rule[violation["code"]] += 1
            lines.append(f"{path}:{violation.get('start_line_no')}: {violation['code']} "
                         f"{violation['description']}")
    summary = ", ".join(f"{code} {count}" for code, count in by_rule.most_common())
    return f"{len(lines)} sqlfluff violations ({summary}):\n" + "\n".join(lines[:200])


def test_sql_follows_the_house_style(tmp_path: Path) -> None:
    completed = run([tool("sqlfluff"), "lint", *SQL_PATHS, "--format", "json",
                     "--processes", "0", "--disable-progress-bar"], sqlfluff_env(tmp_path))
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"sqlfluff did not produce a report (exit {completed.returncode}):\n"
                    f"{completed.stdout[-3000:]}\n{completed.stderr[-6000:]}")
    assert report, f"sqlfluff found no SQL files under {SQL_PATHS}"
    violations = sum(len(file_report.get("violations") or []) for file_report in report)
    assert violations == 0, describe_sqlfluff_report(report)
    assert completed.returncode == 0, completed.stderr[-6000:]


def test_python_passes_ruff() -> None:
    completed = run([tool("ruff"), "check", ".", "--output-format", "concise"])
    assert completed.returncode == 0, f"ruff check .\n{completed.stdout}{completed.stderr}"


def test_python_passes_mypy() -> None:
    completed = run([tool("mypy"), *PYTHON_TYPED_PATHS])
    assert completed.returncode == 0, (
        f"mypy {' '.join(PYTHON_TYPED_PATHS)}\n{completed.stdout}{completed.stderr}"
    )
