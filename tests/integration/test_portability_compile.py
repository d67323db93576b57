"""The project compiles for Databricks and Azure Synapse, and the SQL it compiles to is
valid in their dialects: parsed with sqlglot (databricks, tsql), and checked against the
rules the models follow so that one code base runs everywhere (flat CTEs; no limit, ::
or ||; in T-SQL no boolean literals and no conditions used as values or bare columns used
as conditions, since T-SQL has no boolean type).

No workspace or pool is needed: dbt-databricks and dbt-synapse run from the portability
virtualenv (RETAIL_PORTABILITY_BIN, default .venv-portability/bin) against placeholder
hosts, and nodes that must look at the database to compile are left out (listed below).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from tests.conftest import services_required

PROJECT_DIR = Path(__file__).resolve().parents[2]
STEP_TIMEOUT_SECONDS = 600

# Nodes whose compilation queries the database, with the reason; compiled on a live target only.
INTROSPECTING_MODELS = {
    "base_crm__customers": "column_if_exists reads the bronze columns (schema drift)",
    "base_crm__customer_deletions": "source_or_empty checks whether the deletion log exists",
    "agg_sales_daily": "is_incremental() looks up the existing table (table on Databricks, "
                       "but is_incremental() still asks the workspace)",
    "agg_sales_monthly": "is_incremental() looks up the existing table (as agg_sales_daily)",
    "base_sales__sales_lines": "is_incremental() looks up the existing table",
    "dq_row_reconciliation": "source_or_empty checks whether the deletion log exists",
    "fct_sales": "is_incremental() looks up the existing table",
    "int_sales_lines_unioned": "is_incremental() looks up the existing table",
    "stg_sales__delivered_files": "column_if_exists reads the bronze columns (reason column)",
    "stg_sales__rejected_lines": "source_or_empty checks whether the reject table exists",
}
INTROSPECTING_RESOURCE_TYPES = ("snapshot", "unit_test")

SQLGLOT_DIALECTS = {"databricks": "databricks", "synapse": "tsql"}


@dataclass(frozen=True)
class CompiledProject:
    target: str
    target_dir: Path
    manifest: dict


def portability_bin() -> Path:
    """The portability virtualenv's bin folder, or a skip (a failure in CI) saying how to get it."""
    default = PROJECT_DIR / ".venv-portability" / "bin"
    bin_dir = PROJECT_DIR / os.environ.get("RETAIL_PORTABILITY_BIN", str(default))
    if not (bin_dir / "dbt").exists():
        skip_or_fail(f"no portability virtualenv at {bin_dir} (make .venv-portability, "
                     "or point RETAIL_PORTABILITY_BIN at one)")
    return bin_dir


def skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (RETAIL_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def portability_env(work_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **extra}
    env.pop("RETAIL_DBT_TARGET", None)
    return env


def run_dbt(bin_dir: Path, target: str, work_dir: Path, env: dict[str, str],
            *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(bin_dir / "dbt"), *args, "--target", target,
               "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
               "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs")]
    completed = subprocess.run(command, cwd=work_dir, env=env, capture_output=True, text=True,
                               timeout=STEP_TIMEOUT_SECONDS, check=False)
    if completed.returncode != 0:
        raise AssertionError(
            f"`{' '.join(command)}` exited with {completed.returncode}\n"
            f"--- stdout (tail) ---\n{completed.stdout[-6000:]}\n"
            f"--- stderr (tail) ---\n{completed.stderr[-3000:]}")
    return completed


def require_pyodbc(bin_dir: Path) -> None:
    """dbt-synapse imports pyodbc, which needs the unixODBC library (Debian: libodbc2)."""
    probe = subprocess.run([str(bin_dir / "python"), "-c", "import pyodbc"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        skip_or_fail("pyodbc cannot be imported in the portability virtualenv "
                     f"(apt-get install libodbc2): {probe.stderr.strip().splitlines()[-1:]}")


@pytest.fixture(scope="module", params=["databricks", "synapse"])
def compiled_project(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[CompiledProject]:
    target: str = request.param
    bin_dir = portability_bin()
    if target == "synapse":
        require_pyodbc(bin_dir)
    work_dir = tmp_path_factory.mktemp(f"compile-{target}")
    # made-up credentials: compiling must never need a real workspace or pool
    env = portability_env(work_dir, RETAIL_DATABRICKS_TOKEN=secrets.token_hex(16),
                          RETAIL_SYNAPSE_CLIENT_ID="placeholder-client",
                          RETAIL_SYNAPSE_CLIENT_SECRET=secrets.token_hex(16))
    run_dbt(bin_dir, target, work_dir, env, "parse")
    excluded = [*INTROSPECTING_MODELS,
                *(f"resource_type:{kind}" for kind in INTROSPECTING_RESOURCE_TYPES)]
    run_dbt(bin_dir, target, work_dir, env,
            "compile", "--no-populate-cache", "--exclude", *excluded)
    manifest = json.loads((work_dir / "target" / "manifest.json").read_text())
    yield CompiledProject(target=target, target_dir=work_dir / "target", manifest=manifest)


def compiled_files(project: CompiledProject) -> dict[str, Path]:
    """unique_id -> compiled SQL file, for every model and data test that was compiled."""
    files = {}
    for unique_id, node in project.manifest["nodes"].items():
        if node["package_name"] != "retail_medallion":
            continue
        if node["resource_type"] not in ("model", "test"):
            continue
        path = project.target_dir / "compiled" / "retail_medallion" / node["original_file_path"]
        if node["resource_type"] == "test" and node["original_file_path"].endswith(".yml"):
            path = path / node["path"]
        if path.exists():
            files[unique_id] = path
    return files


def dialect_problems(sql: str, dialect: str) -> list[str]:
    """What in one compiled statement breaks the portability rules of the target dialect."""
    problems = []
    tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(sql)
    token_types = {token.token_type for token in tokens}
    for token_type, shown in ((TokenType.LIMIT, "limit"), (TokenType.DCOLON, "::"),
                              (TokenType.DPIPE, "||")):
        if token_type in token_types:
            problems.append(f"uses {shown}")
    for tree in sqlglot.parse(sql, read=dialect):
        if tree is None:
            continue
        if any(with_.find_ancestor(exp.CTE, exp.Subquery) for with_ in tree.find_all(exp.With)):
            problems.append("nested CTE")
        if dialect == "tsql":
            problems.extend(tsql_boolean_problems(tree))
    return problems


def tsql_boolean_problems(tree: exp.Expr) -> list[str]:
    problems = []
    if any(True for _ in tree.find_all(exp.Boolean)):
        problems.append("boolean literal")
    for select in tree.find_all(exp.Select):
        for projection in select.expressions:
            value = projection.this if isinstance(projection, exp.Alias) else projection
            while isinstance(value, (exp.Cast, exp.Paren)):
                value = value.this
            if isinstance(value, (exp.Predicate, exp.Connector, exp.Not)):
                problems.append(f"condition used as a value: {projection.sql('tsql')[:80]}")
    conditions = [where.this for where in tree.find_all(exp.Where)]
    conditions += [branch.this for branch in tree.find_all(exp.If)]
    for condition in conditions:
        operands = [condition]
        for junction in condition.find_all(exp.Not, exp.And, exp.Or):
            operands.extend(junction.iter_expressions())
        for operand in operands:
            while isinstance(operand, exp.Paren):
                operand = operand.this
            if isinstance(operand, exp.Column):
                problems.append(f"bare column used as a condition: {operand.sql('tsql')}")
    return problems


def test_every_model_compiles_except_those_that_need_a_live_connection(
        compiled_project: CompiledProject) -> None:
    models = {node["name"] for node in compiled_project.manifest["nodes"].values()
              if node["resource_type"] == "model"}
    compiled = {Path(path).stem for uid, path in compiled_files(compiled_project).items()
                if uid.startswith("model.")}
    assert compiled == models - set(INTROSPECTING_MODELS)


def test_every_compiled_statement_parses_in_the_target_dialect(
        compiled_project: CompiledProject) -> None:
    dialect = SQLGLOT_DIALECTS[compiled_project.target]
    failures = {}
    files = compiled_files(compiled_project)
    for unique_id, path in files.items():
        try:
            sqlglot.parse(path.read_text(), read=dialect)
        except sqlglot.errors.SqlglotError as error:
            failures[unique_id] = str(error)[:300]
    assert len(files) > 100  # models and data tests, the introspecting ones left out
    assert failures == {}


def test_compiled_sql_keeps_the_portability_rules(compiled_project: CompiledProject) -> None:
    dialect = SQLGLOT_DIALECTS[compiled_project.target]
    problems = {unique_id: found for unique_id, path in compiled_files(compiled_project).items()
                if (found := dialect_problems(path.read_text(), dialect))}
    assert problems == {}
