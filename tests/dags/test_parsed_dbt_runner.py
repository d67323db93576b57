"""The dbt project parsed once for many dbt tasks (``dags/orchestration/parsed_dbt_runner.py``).

Real dbt on a real DuckDB file, on a copy of the project (so a test can change a file of
it): a command runs on the parsed manifest while the project is as it was parsed, and dbt
parses again once it changed, or when the command needs its own parse. The process holding
the manifest can still fork a task that parses: the parse ran in a child process, so dbt's
static parser never started its thread pool in the parent (a fork of a process where it did
hangs in its next parse). A process that runs the tasks itself (``dag.test()``) parses once,
when it starts its second dbt command, and keeps a runner the scheduler gave it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.lineage.dbt_artifacts import node_parents
from orchestration.parsed_dbt_runner import (
    ParsedProjectRunner,
    SharedParseRunner,
    install_for_cosmos,
    install_shared_parse,
    parse_project,
    project_fingerprint,
    target_dir_of,
    writes_json,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_PARTS = ("models", "macros", "snapshots", "seeds", "tests/dbt", "dbt_project.yml",
                 "profiles.yml", "packages.yml")


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the dbt project, its DuckDB warehouse in the copy."""
    copy = tmp_path_factory.mktemp("dbt-project")
    for part in PROJECT_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, copy / part)
        else:
            shutil.copy2(source, copy / part)
    previous = os.environ.get("RETAIL_DUCKDB_PATH")
    os.environ["RETAIL_DUCKDB_PATH"] = str(copy / "retail.duckdb")
    yield copy
    if previous is None:
        os.environ.pop("RETAIL_DUCKDB_PATH", None)
    else:
        os.environ["RETAIL_DUCKDB_PATH"] = previous


@pytest.fixture(scope="module")
def parsed(project_copy: Path) -> ParsedProjectRunner:
    return parse_project(project_copy, project_copy, "duckdb")


def _build(project: Path, *extra: str) -> list[str]:
    """Run the date dimension alone (`build` would also run its relationship tests, which
    need the facts)."""
    return ["run", "--select", "dim_date", "--project-dir", str(project),
            "--profiles-dir", str(project), *extra]


def test_a_build_runs_on_the_parsed_manifest(parsed: ParsedProjectRunner,
                                             project_copy: Path) -> None:
    result = parsed.invoke(_build(project_copy, "--target", "duckdb"))
    assert result.success, result.exception
    assert parsed.used_parsed
    # dbt-duckdb keeps the database open in this process: a connection must match its own
    with duckdb.connect(str(project_copy / "retail.duckdb")) as con:
        days = con.execute("select count(*) from gold.dim_date").fetchone()
    assert days is not None and days[0] > 365


def test_commands_the_manifest_does_not_fit_parse_for_themselves(
        parsed: ParsedProjectRunner, project_copy: Path) -> None:
    assert parsed.why_not(_build(project_copy)) is None
    assert parsed.why_not(["--quiet", "test", "--select", "dim_date"]) is None
    assert "parses for itself" in str(parsed.why_not(["parse"]))
    assert "parses for itself" in str(parsed.why_not(["docs", "generate"]))
    assert "--vars" in str(parsed.why_not([*_build(project_copy), "--vars", "{a: 1}"]))
    assert "target duckdb" in str(parsed.why_not([*_build(project_copy), "--target",
                                                  "postgres"]))


def test_a_changed_environment_variable_the_parse_read_is_parsed_again(
        parsed: ParsedProjectRunner, project_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # profiles.yml names it: the warehouse, and with it the database of every node
    assert parsed.environment["RETAIL_DUCKDB_PATH"] == str(project_copy / "retail.duckdb")
    monkeypatch.setenv("RETAIL_DUCKDB_PATH", str(project_copy / "elsewhere.duckdb"))
    assert "RETAIL_DUCKDB_PATH changed" in str(parsed.why_not(_build(project_copy)))
    monkeypatch.undo()
    assert parsed.why_not(_build(project_copy)) is None


def test_a_process_parses_once_when_it_starts_its_second_dbt_command(project_copy: Path) -> None:
    runner = SharedParseRunner(project_copy, project_copy, "duckdb")
    listed = runner.invoke(["--quiet", "ls", "--select", "dim_date", "--project-dir",
                            str(project_copy), "--profiles-dir", str(project_copy)])
    assert listed.success, listed.exception
    first = runner.invoke(_build(project_copy))
    assert first.success, first.exception
    # `ls` parses for itself, and a task process that runs one command parses as before
    assert runner.commands == 1 and runner.parsed_runner is None
    for _ in range(2):
        result = runner.invoke(_build(project_copy))
        assert result.success, result.exception
        assert runner.parsed_runner is not None and runner.parsed_runner.used_parsed
    assert runner.parsed_runner.parsed_by == "this process"
    # another warehouse (a second dag.test() in the process): it counts again, then parses
    elsewhere = project_copy / "elsewhere.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETAIL_DUCKDB_PATH", str(elsewhere))
        assert runner.invoke(_build(project_copy)).success
        assert runner.commands == 1 and runner.parsed_runner is None
        assert runner.invoke(_build(project_copy)).success
        assert runner.parsed_runner is not None and runner.parsed_runner.used_parsed
        assert runner.parsed_runner.environment["RETAIL_DUCKDB_PATH"] == str(elsewhere)
    with duckdb.connect(str(elsewhere)) as con:
        days = con.execute("select count(*) from gold.dim_date").fetchone()
    assert days is not None and days[0] > 365


@pytest.fixture
def cosmos_runner_module() -> Iterator[Any]:
    """cosmos' runner module, its runner put back afterwards."""
    import airflow  # noqa: F401 - before cosmos, as in a task process
    from cosmos.dbt import runner

    original = runner._get_cached_dbt_runner
    yield runner
    runner._get_cached_dbt_runner = original


def test_each_dbt_task_keeps_the_runner_its_process_has(
        cosmos_runner_module: Any, parsed: ParsedProjectRunner, project_copy: Path) -> None:
    shared = install_shared_parse(project_copy, project_copy, "duckdb")
    assert isinstance(shared, SharedParseRunner)
    assert cosmos_runner_module.get_runner() is shared
    # the process's next task keeps it, and with it the parse it may hold
    assert install_shared_parse(project_copy, project_copy, "duckdb") is shared
    # a DAG of other settings gets its own
    other = install_shared_parse(project_copy, project_copy, "postgres")
    assert isinstance(other, SharedParseRunner) and other is not shared
    assert other.target == "postgres" and cosmos_runner_module.get_runner() is other
    # a fork of the scheduler keeps the scheduler's
    assert install_for_cosmos(parsed)
    assert install_shared_parse(project_copy, project_copy, "duckdb") is parsed
    assert cosmos_runner_module.get_runner() is parsed


def _lineage(project: Path, target: Path) -> list[tuple[Any, ...]]:
    """The OpenLineage events the dbt integration makes of ``target``'s artifacts, as cosmos
    asks it to after each dbt task: job, event type, inputs, outputs, SQL."""
    from openlineage.common.provider.dbt.local import DbtLocalArtifactProcessor

    processor = DbtLocalArtifactProcessor(producer="tests", job_namespace="retail",
                                          project_dir=str(project), target="duckdb",
                                          profile_name="retail_medallion",
                                          target_path=str(target))
    processor.should_raise_on_unsupported_command = False
    events = processor.parse()
    summary = []
    for event in [*events.starts, *events.completes, *events.fails]:
        sql = (event.job.facets or {}).get("sql")
        summary.append((event.job.name, str(event.eventType),
                        sorted(f"{d.namespace}/{d.name}" for d in event.inputs or []),
                        sorted(f"{d.namespace}/{d.name}" for d in event.outputs or []),
                        getattr(sql, "query", None)))
    return sorted(summary, key=repr)


def test_a_task_on_the_parsed_manifest_writes_the_lineage_of_its_nodes_only(
        parsed: ParsedProjectRunner, project_copy: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """dbt would write the whole project's manifest after the command; the runner writes the
    nodes it ran and their parents, and the lineage made of it is the one dbt's would give."""
    from dbt.parser.manifest import write_manifest

    monkeypatch.setenv("DBT_PROFILES_DIR", str(project_copy))
    ours, dbts = tmp_path / "ours", tmp_path / "dbt"
    # a view over a bronze source (empty until ingested) and its tests
    result = parsed.invoke(["build", "--select", "stg_sales__rejected_lines",
                            "--indirect-selection", "cautious", "--project-dir",
                            str(project_copy), "--profiles-dir", str(project_copy),
                            "--target-path", str(ours)])
    assert result.success, result.exception
    assert parsed.used_parsed
    # what dbt itself writes at the end of the command, from the same manifest
    dbts.mkdir()
    write_manifest(parsed.parsed, str(dbts))
    shutil.copy2(ours / "run_results.json", dbts / "run_results.json")

    ran = {r["unique_id"] for r in json.loads((ours / "run_results.json").read_text())["results"]}
    assert "model.retail_medallion.stg_sales__rejected_lines" in ran and len(ran) >= 2
    written = json.loads((ours / "manifest.json").read_text())
    kept = set(written["nodes"]) | set(written["sources"])
    assert kept == ran | {"source.retail_medallion.bronze_sales.rejected_lines"}
    full = json.loads((dbts / "manifest.json").read_text())
    assert len(full["nodes"]) > 10 * len(kept)
    assert list(written["nodes"]) == [uid for uid in full["nodes"] if uid in kept]
    # every node's parents as dbt lists them, those of the tests on two models included
    assert {uid: node_parents(parsed.parsed, uid) for uid in full["nodes"]} == {
        uid: full["parent_map"][uid] for uid in full["nodes"]}

    lineage = _lineage(project_copy, ours)
    assert lineage == _lineage(project_copy, dbts)
    view = [event for event in lineage if event[0].endswith("stg_sales__rejected_lines.build.run")
            and "COMPLETE" in event[1]]
    assert view and any("bronze_sales.rejected_lines" in name for name in view[0][2])
    assert view[0][4] and "rejected_lines" in view[0][4]


def test_the_artifacts_go_where_dbt_would_write_them() -> None:
    """cosmos runs dbt in a copy of the project and reads ``<copy>/target`` afterwards."""
    cosmos = ["build", "--select", "x", "--project-dir", "/tmp/copy"]
    assert target_dir_of(cosmos, {}) == Path("/tmp/copy/target")
    assert target_dir_of(cosmos, {}, "out") == Path("/tmp/copy/out")
    assert target_dir_of(cosmos, {"DBT_TARGET_PATH": "/elsewhere"}) == Path("/elsewhere")
    assert target_dir_of([*cosmos, "--target-path=t2"], {}) == Path("/tmp/copy/t2")
    assert writes_json(cosmos, {}) and not writes_json(["--no-write-json", *cosmos], {})
    assert not writes_json(cosmos, {"DBT_WRITE_JSON": "False"})


def test_a_changed_project_is_parsed_again(parsed: ParsedProjectRunner,
                                           project_copy: Path) -> None:
    model = project_copy / "models" / "marts" / "core" / "dim_date.sql"
    model.write_text(model.read_text() + "\n-- changed while the scheduler ran\n")
    assert "changed since the scheduler parsed it" in str(parsed.why_not(_build(project_copy)))
    result = parsed.invoke(_build(project_copy))
    assert result.success, result.exception
    assert not parsed.used_parsed


def _run_in_new_process(script: str, **env: str) -> None:
    """Run ``script`` in a fresh interpreter (forking in this one would copy pytest's own
    state) with ``env`` added; it must exit 0 within 5 minutes, so a hung fork fails."""
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr[-3000:]


def test_a_fork_of_the_process_holding_the_manifest_can_still_parse(project_copy: Path) -> None:
    script = textwrap.dedent(f"""
        import os, sys, tempfile
        from pathlib import Path
        from orchestration.parsed_dbt_runner import parse_project
        from dbt.cli.main import dbtRunner
        project = Path({str(project_copy)!r})
        parse_project(project, project, "duckdb")
        child = os.fork()
        if child == 0:
            with tempfile.TemporaryDirectory() as target:
                result = dbtRunner().invoke(["--quiet", "parse", "--project-dir", str(project),
                                             "--profiles-dir", str(project),
                                             "--target-path", target])
            os._exit(0 if result.success else 3)
        sys.exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
    """)
    _run_in_new_process(script, PYTHONPATH=str(REPO_ROOT))


def test_a_warmed_up_process_still_forks_tasks_that_build_and_parse(project_copy: Path,
                                                                     tmp_path: Path) -> None:
    """What ``make airflow``'s scheduler does before it forks the tasks: parse, then warm dbt
    up. The warm-up runs no SQL, writes nothing into the project, leaves no adapter and no
    thread behind, and fills the caches the tasks would each fill (the config classes' JSON
    schemas, every macro's template). A fork of it still builds on the parsed manifest, and
    still parses for itself."""
    script = textwrap.dedent(f"""
        import os, sys, tempfile, threading
        from pathlib import Path
        from dbt.adapters.factory import FACTORY
        from dbt.cli.main import dbtRunner
        from dbt_common.clients.jinja import template_cache
        from dbt_common.dataclass_schema import dbtClassMixin
        from orchestration.parsed_dbt_runner import parse_project, project_fingerprint, warm_up
        project = Path({str(project_copy)!r})
        runner = parse_project(project, project, "duckdb")
        files = project_fingerprint(project)
        schemas = dbtClassMixin.json_schema.__func__.cache_info().currsize
        warm_up(runner, project)
        assert project_fingerprint(project) == files, "the warm-up wrote into the project"
        assert not FACTORY.adapters, FACTORY.adapters
        assert threading.active_count() == 1, threading.enumerate()
        assert dbtClassMixin.json_schema.__func__.cache_info().currsize >= schemas + 3
        assert all(m.macro_sql in template_cache.file_cache for m in runner.parsed.macros.values())
        child = os.fork()
        if child == 0:
            built = runner.invoke(["run", "--select", "dim_date", "--project-dir", str(project),
                                   "--profiles-dir", str(project), "--target", "duckdb"])
            if not (built.success and runner.used_parsed):
                os._exit(3)
            with tempfile.TemporaryDirectory() as target:
                parsed = dbtRunner().invoke(["--quiet", "parse", "--project-dir", str(project),
                                             "--profiles-dir", str(project),
                                             "--target-path", target])
            os._exit(0 if parsed.success else 4)
        sys.exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
    """)
    _run_in_new_process(script, PYTHONPATH=f"{REPO_ROOT}:{REPO_ROOT / 'dags'}",
                        # not the module's warehouse, which this process holds open
                        RETAIL_DUCKDB_PATH=str(tmp_path / "warmed.duckdb"))


def test_a_project_dbt_cannot_parse_is_reported(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: [not, a, name]\n")
    with pytest.raises(RuntimeError, match="could not parse"):
        parse_project(tmp_path, tmp_path, "duckdb")


def test_the_fingerprint_covers_the_folders_dbt_project_yml_names(project_copy: Path) -> None:
    files = {entry[0] for entry in project_fingerprint(project_copy)}
    assert "dbt_project.yml" in files
    assert any(name.startswith("models/") and name.endswith(".sql") for name in files)
    assert any(name.startswith("tests/dbt/") for name in files)  # test-paths: ["tests/dbt"]
    (project_copy / "notes.txt").write_text("not read by dbt\n")
    assert "notes.txt" not in {entry[0] for entry in project_fingerprint(project_copy)}
