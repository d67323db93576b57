"""The dbt project follows its conventions, checked by dbt-score with the rules in
tests/lint/dbt_score_rules/ (layer prefixes, documentation, data tests, gold contracts,
yml placement).

The manifest comes from `dbt parse`, which needs no warehouse; it is written to a temporary
folder. `make lint` and the pre-commit hook run the same dbt-score command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
RULES_PARENT = Path(__file__).resolve().parent  # the dbt_score_rules package lives here
TIMEOUT_SECONDS = 600
# The rules every model must have been checked against; if dbt-score did not load
# dbt_score_rules, models would be scored on no rule at all and pass.
MODEL_RULES = {
    "dbt_score_rules.models.model_name_matches_its_layer",
    "dbt_score_rules.models.model_has_description",
    "dbt_score_rules.models.model_columns_are_documented",
    "dbt_score_rules.models.model_has_data_tests",
    "dbt_score_rules.models.model_grain_is_tested",
    "dbt_score_rules.models.gold_model_has_enforced_contract",
    "dbt_score_rules.models.model_yml_sits_next_to_the_model",
}


def tool(name: str) -> str:
    executable = BIN_DIR / name
    if not executable.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable}: "
                    "install the lint extra (pip install -e '.[lint]')")
    return str(executable)


def dbt_score(manifest: Path) -> tuple[int, dict[str, Any]]:
    """Exit code and JSON report of the same command `make lint` runs."""
    completed = subprocess.run(
        [tool("dbt-score"), "lint", "--manifest", str(manifest), "--format", "json",
         "--namespace", "dbt_score_rules",
         "--fail-project-under", "10", "--fail-any-item-under", "10"],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False,
        env={**os.environ, "PYTHONPATH": str(RULES_PARENT)},
    )
    try:
        return completed.returncode, json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"dbt-score did not produce a report (exit {completed.returncode}):\n"
                    f"{completed.stdout[-3000:]}\n{completed.stderr[-6000:]}")


def failures(report: dict[str, Any]) -> list[str]:
    return [
        f"{unique_id}: {rule} ({outcome['severity']}): {outcome['message']}"
        for unique_id, evaluable in report["evaluables"].items()
        for rule, outcome in evaluable["results"].items()
        if outcome["result"] != "OK"
    ]


@pytest.fixture(scope="session")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scratch = tmp_path_factory.mktemp("dbt-parse")
    env = {
        **os.environ,
        "RETAIL_DBT_TARGET": "duckdb",
        "RETAIL_DUCKDB_PATH": str(scratch / "unused.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    completed = subprocess.run(
        [tool("dbt"), "parse", "--project-dir", str(PROJECT_DIR),
         "--profiles-dir", str(PROJECT_DIR), "--target-path", str(scratch / "target"),
         "--log-path", str(scratch / "logs")],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, f"dbt parse failed:\n{completed.stdout[-6000:]}"
    return scratch / "target" / "manifest.json"


def test_project_follows_the_dbt_conventions(manifest: Path) -> None:
    exit_code, report = dbt_score(manifest)
    models = {uid: e for uid, e in report["evaluables"].items() if uid.startswith("model.")}
    assert models, "dbt-score evaluated no model"
    for unique_id, evaluable in models.items():
        missing = MODEL_RULES - set(evaluable["results"])
        assert not missing, f"{unique_id} was not checked against {sorted(missing)}"
    found = failures(report)
    assert found == [], f"{len(found)} convention violations:\n" + "\n".join(found)
    assert exit_code == 0


def test_conventions_reject_a_misnamed_uncontracted_gold_model(
    manifest: Path, tmp_path: Path
) -> None:
    """The check has teeth: fct_sales renamed and without its contract fails two rules."""
    document = json.loads(manifest.read_text())
    fct_sales = document["nodes"]["model.retail_medallion.fct_sales"]
    fct_sales["name"] = "sales_facts"
    fct_sales["config"]["contract"]["enforced"] = False
    broken = tmp_path / "manifest.json"
    broken.write_text(json.dumps(document))

    exit_code, report = dbt_score(broken)

    assert exit_code != 0
    results = report["evaluables"]["model.retail_medallion.fct_sales"]["results"]
    failed = {rule for rule, outcome in results.items() if outcome["result"] != "OK"}
    assert failed == {
        "dbt_score_rules.models.model_name_matches_its_layer",
        "dbt_score_rules.models.gold_model_has_enforced_contract",
    }
