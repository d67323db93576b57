"""The dbt project parsed once for many dbt tasks, instead of once by each.

Each dbt task of the DAG starts dbt, which reads the partial-parse file and rebuilds the
project's manifest: about 1 s of every task's 2 to 2.5 s on a 2-core laptop. Two kinds of
process run many dbt tasks, and each gives cosmos a ``dbtRunner`` holding one manifest
(dbt's documented way to run several commands on one parse):

- the scheduler of ``make airflow`` (``tools/airflow_scheduler.py``) parses the project
  before its executor starts (``parse_project``); the LocalExecutor's task processes are
  forks of the scheduler, so each finds it ready;
- a process that runs the tasks itself, one after the other (``dag.test()``, ``airflow dags
  test``), parses it when its second dbt command starts (``SharedParseRunner``, installed
  by each dbt task as it starts: ``install_shared_parse``). A task process that runs one
  command and exits never gets there, and parses as before.

The manifest is used only while it still describes the project: for a command that builds
or tests, with the target it was parsed for, no ``--vars`` (vars change what a parse
renders), while no file of the project has changed since (sizes and modification times
of the project's files, a few milliseconds to read) and while every environment variable
the parse read has the value it had then. Otherwise dbt parses as before.
"""

from __future__ import annotations

import copyreg
import logging
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from dbt.artifacts.schemas.run import RunExecutionResult
from dbt.cli.main import dbtRunner, dbtRunnerResult
from dbt.contracts.graph.manifest import Manifest

PROJECT_FOLDERS = {"model-paths": ["models"], "macro-paths": ["macros"],
                   "snapshot-paths": ["snapshots"], "seed-paths": ["seeds"],
                   "test-paths": ["tests"], "analysis-paths": ["analyses"]}
"""dbt_project.yml's keys for the folders dbt parses, with dbt's defaults."""
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml",
                 "selectors.yml")
COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot", "compile"})
"""The commands that take a manifest as it is; others (``parse``, ``docs``, ``deps``) parse."""
LINEAGE_COMMANDS = COMMANDS - {"compile"}
"""The commands whose artifacts the OpenLineage dbt integration turns into events."""

ENV_VAR_CALL = re.compile(r"""env_var\(\s*['"]([^'"]+)['"]""")

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]
Environment = dict[str, str | None]


def _project_config(project_dir: Path) -> dict[str, Any]:
    try:
        config = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    return config if isinstance(config, dict) else {}


def project_folders(project_dir: Path) -> list[Path]:
    """The folders dbt parses, as ``dbt_project.yml`` names them."""
    config = _project_config(project_dir)
    return [project_dir / folder for key, default in PROJECT_FOLDERS.items()
            for folder in (config.get(key) or default)]


def configured_target_path(project_dir: Path) -> str:
    """``dbt_project.yml``'s ``target-path`` (dbt's default: ``target``)."""
    return str(_project_config(project_dir).get("target-path") or "target")


def project_fingerprint(project_dir: Path) -> Fingerprint:
    """Path, size and modification time of every file a parse of the project reads."""
    paths = [project_dir / name for name in PROJECT_FILES]
    for folder in project_folders(project_dir):
        paths.extend(path for path in folder.rglob("*") if path.is_file())
    entries = []
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        entries.append((str(path.relative_to(project_dir)), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(entries))


def parse_environment(manifest: Manifest, project_dir: Path, profiles_dir: Path) -> Environment:
    """The values of the environment variables a parse of the project read: those dbt
    recorded in the manifest and those ``dbt_project.yml`` and ``profiles.yml`` name (the
    target's database, schemas and configs rendered into every node)."""
    names = set(manifest.env_vars)
    for path in (project_dir / "dbt_project.yml", profiles_dir / "profiles.yml"):
        try:
            names.update(ENV_VAR_CALL.findall(path.read_text()))
        except OSError:
            continue
    return {name: os.environ.get(name) for name in sorted(names)}


def _option(args: Sequence[str], *names: str) -> str | None:
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                return args[index + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def command_of(args: Sequence[str]) -> str | None:
    """The dbt command of a dbt command line (its first word that is not an option)."""
    return next((arg for arg in args if not arg.startswith("-")), None)


def writes_json(args: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether dbt would write its JSON artifacts for this command line."""
    if "--no-write-json" in args:
        return False
    if "--write-json" in args:
        return True
    return environ.get("DBT_WRITE_JSON", "true").strip().lower() not in {"0", "false", "no"}


def target_dir_of(args: Sequence[str], environ: Mapping[str, str],
                  configured: str = "target") -> Path:
    """Where dbt writes a command's artifacts: ``--target-path``, else ``DBT_TARGET_PATH``,
    else the project's ``target-path`` (``configured``), under ``--project-dir`` when relative."""
    path = Path(_option(args, "--target-path") or environ.get("DBT_TARGET_PATH") or configured)
    if path.is_absolute():
        return path
    return Path(_option(args, "--project-dir") or environ.get("DBT_PROJECT_DIR") or ".") / path


class ParsedProjectRunner(dbtRunner):
    """A ``dbtRunner`` that hands dbt the manifest parsed ahead while it still applies."""

    def __init__(self, manifest: Manifest, project_dir: Path, target: str,
                 fingerprint: Fingerprint, environment: Environment,
                 parsed_by: str = "the scheduler") -> None:
        super().__init__()
        self.parsed = manifest
        self.project_dir = project_dir
        self.target = target
        self.fingerprint = fingerprint
        self.environment = environment
        self.parsed_by = parsed_by
        self.used_parsed = False
        self.target_path = configured_target_path(project_dir)

    def why_not(self, args: Sequence[str]) -> str | None:
        """Why ``args`` cannot run on the parsed manifest; ``None`` when they can."""
        command = command_of(args)
        if command not in COMMANDS:
            return f"dbt {command} parses for itself"
        if _option(args, "--vars") is not None:
            return "the command sets --vars"
        if _option(args, "--target", "-t") not in (None, self.target):
            return f"the manifest was parsed for the target {self.target}"
        return self.stale()

    def stale(self) -> str | None:
        """How the project or its environment changed since the parse; ``None`` if not."""
        if project_fingerprint(self.project_dir) != self.fingerprint:
            return f"a file of {self.project_dir} changed since {self.parsed_by} parsed it"
        changed = [name for name, value in self.environment.items()
                   if os.environ.get(name) != value]
        if changed:
            return f"the environment variable {changed[0]} changed since {self.parsed_by} parsed"
        return None

    def invoke(self, args: list[str], **kwargs: Any) -> dbtRunnerResult:
        # not at the top: this file also runs as a script (the parse's child process)
        from orchestration.lineage.dbt_artifacts import write_run_artifacts

        reason = self.why_not(args)
        self.used_parsed = reason is None
        self.manifest = self.parsed if self.used_parsed else None
        if not self.used_parsed:
            log.info("dbt parses the project: %s", reason)
            return super().invoke(args, **kwargs)
        log.info("dbt runs on the project %s parsed", self.parsed_by)
        if command_of(args) not in LINEAGE_COMMANDS or not writes_json(args, os.environ):
            return super().invoke(args, **kwargs)
        # dbt would write the whole project's manifest: the lineage needs the nodes it ran
        result = super().invoke(["--no-write-json", *args], **kwargs)
        if isinstance(result.result, RunExecutionResult):
            target_dir = target_dir_of(args, os.environ, self.target_path)
            write_run_artifacts(self.parsed, result.result, target_dir)
        return result


def parse_project(project_dir: Path, profiles_dir: Path, target: str,
                  timeout_s: float = 600) -> ParsedProjectRunner:
    """Parse the project in a child process and return a runner holding its manifest.

    The parse runs apart because dbt's static parser (``dbt_extractor``) starts a thread
    pool the first time it runs, and a process forked after that hangs for ever as soon as
    it parses again (a task whose project changed, which parses as before): the pool's
    threads do not exist in the fork. The child parses (``parse_here``) and hands the
    manifest over pickled. Raises ``RuntimeError`` when dbt cannot parse the project.
    """
    fingerprint = project_fingerprint(project_dir)
    environment = {name: os.environ.get(name) for name in os.environ}
    with tempfile.TemporaryDirectory(prefix="retail-dbt-parse-") as work:
        pickled = Path(work) / "manifest.pickle"
        done = subprocess.run(
            [sys.executable, __file__, str(project_dir), str(profiles_dir), target,
             str(pickled)], capture_output=True, text=True, timeout=timeout_s, check=False)
        if done.returncode != 0 or not pickled.is_file():
            raise RuntimeError(f"dbt could not parse {project_dir}: "
                               f"{(done.stderr or done.stdout).strip()[-2000:]}")
        manifest = pickle.loads(pickled.read_bytes())
    if not isinstance(manifest, Manifest):
        raise RuntimeError(f"the parse of {project_dir} gave no manifest")
    # a lock of each process's own, not a semaphore every forked task would share
    manifest._lock = threading.Lock()  # type: ignore[assignment]
    environment = {name: environment.get(name) for name in
                   parse_environment(manifest, project_dir, profiles_dir)}
    return ParsedProjectRunner(manifest, project_dir, target, fingerprint, environment)


def warm_up(runner: ParsedProjectRunner, profiles_dir: Path) -> None:
    """Do once, in the process that will fork the tasks, what each dbt task otherwise does
    first in its own process, where nothing of it is left from the task before: no SQL, no
    file of the project written.

    - ``dbt ls`` on the parsed manifest loads and validates the project and the profile
      (dbt builds a JSON schema per config class on first use), registers the adapter
      (whose behaviour flags read their callers' source) and builds the graph;
    - ``manifest.json`` written to a scratch folder: the serialisers of every artifact
      class, which mashumaro compiles on first use;
    - every macro's Jinja template compiled into dbt's process-wide template cache.

    Profiled over one day through the scheduler (scale 1, 62 tasks), the task processes
    spent about a third of their CPU time on these. The adapter ``ls`` registered is
    dropped again: every dbt command registers its own.
    """
    from dbt.adapters.factory import reset_adapters
    from dbt.parser.manifest import write_manifest
    from dbt_common.clients.jinja import template_cache

    with tempfile.TemporaryDirectory(prefix="retail-dbt-warm-up-") as scratch:
        listed = dbtRunner(manifest=runner.parsed).invoke([
            "--log-level", "none", "--log-level-file", "none", "--no-write-json", "ls",
            "--resource-type", "exposure", "--project-dir", str(runner.project_dir),
            "--profiles-dir", str(profiles_dir), "--target", runner.target,
            "--target-path", scratch])
        reset_adapters()
        if not listed.success:
            raise RuntimeError(f"dbt ls failed: {listed.exception}")
        write_manifest(runner.parsed, scratch)
    for macro in runner.parsed.macros.values():
        template_cache.get_node_template(macro)


def parse_here(project_dir: Path, profiles_dir: Path, target: str) -> Manifest:
    """Parse the project in this process, from its partial-parse file, into a temporary
    target folder (the project's ``target/``, whose ``manifest.json`` the DAG reads, is left
    as it is). Raises ``RuntimeError`` when dbt cannot parse the project."""
    with tempfile.TemporaryDirectory(prefix="retail-dbt-parse-") as target_path:
        partial_parse = project_dir / "target" / "partial_parse.msgpack"
        if partial_parse.is_file():
            shutil.copy2(partial_parse, Path(target_path) / partial_parse.name)
        result = dbtRunner().invoke([
            "--quiet", "--no-write-json", "parse", "--project-dir", str(project_dir),
            "--profiles-dir", str(profiles_dir), "--target", target,
            "--target-path", target_path])
    if not result.success or not isinstance(result.result, Manifest):
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    return result.result


def _parse_and_pickle(project_dir: Path, profiles_dir: Path, target: str, out: Path) -> int:
    """The child's part of ``parse_project``."""
    try:
        manifest = parse_here(project_dir, profiles_dir, target)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    with out.open("wb") as file:
        pickler = pickle.Pickler(file, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = {**copyreg.dispatch_table, Manifest: _manifest_state}
        pickler.dump(manifest)
    return 0


def _manifest_state(manifest: Manifest) -> tuple[Any, ...]:
    """The manifest's fields as they are, without its lock (``parse_project`` gives it one)
    and its lookups (made again on first use). dbt's own ``Manifest.__reduce_ex__`` leaves
    fields out and shifts the rest into the wrong ones (dbt 1.11: the source lookup becomes a
    ref lookup)."""
    state = {name: None if name.endswith("_lookup") else value
             for name, value in vars(manifest).items() if name != "_lock"}
    return object.__new__, (Manifest,), state


class SharedParseRunner(dbtRunner):
    """cosmos' runner in a process given no parse ahead: the project is parsed here, once,
    when the process starts its second dbt command, and every later one runs on that parse
    while it applies (``ParsedProjectRunner``). Until then, and if that parse fails, dbt
    parses for each command as before. Once the project or its environment changed (a
    second ``dag.test()`` on another warehouse), the count starts again."""

    def __init__(self, project_dir: Path, profiles_dir: Path, target: str) -> None:
        super().__init__()
        self.project_dir = project_dir
        self.profiles_dir = profiles_dir
        self.target = target
        self.commands = 0
        self.parsed_runner: ParsedProjectRunner | None = None
        self.parse_failed = False

    def _parse_once(self) -> None:
        fingerprint = project_fingerprint(self.project_dir)
        try:
            manifest = parse_here(self.project_dir, self.profiles_dir, self.target)
        except RuntimeError as error:
            self.parse_failed = True
            log.warning("dbt parses for each command: %s", error)
            return
        environment = parse_environment(manifest, self.project_dir, self.profiles_dir)
        self.parsed_runner = ParsedProjectRunner(manifest, self.project_dir, self.target,
                                                 fingerprint, environment,
                                                 parsed_by="this process")

    def invoke(self, args: list[str], **kwargs: Any) -> dbtRunnerResult:
        if self.parsed_runner is not None and self.parsed_runner.stale():
            self.parsed_runner, self.commands = None, 0
        if self.parsed_runner is None and not self.parse_failed and command_of(args) in COMMANDS:
            self.commands += 1
            if self.commands >= 2:
                self._parse_once()
        if self.parsed_runner is not None:
            return self.parsed_runner.invoke(args, **kwargs)
        return super().invoke(args, **kwargs)


def _cosmos_runner_module() -> Any:
    import airflow  # noqa: F401 - first: cosmos' modules import airflow's plugins, which import cosmos
    from cosmos.dbt import runner as cosmos_runner

    if not callable(getattr(cosmos_runner, "_get_cached_dbt_runner", None)):
        return None
    return cosmos_runner


def installed_runner() -> dbtRunner | None:
    """The runner this module gave cosmos in this process, if any."""
    cosmos_runner = _cosmos_runner_module()
    getter = getattr(cosmos_runner, "_get_cached_dbt_runner", None)
    runner = getattr(getter, "runner", None)
    return runner if isinstance(runner, dbtRunner) else None


def install_for_cosmos(runner: dbtRunner) -> bool:
    """Make cosmos' DBT_RUNNER invocations use ``runner``; ``False`` if cosmos has no hook."""
    cosmos_runner = _cosmos_runner_module()
    if cosmos_runner is None:
        return False

    def get_runner() -> dbtRunner:
        return runner

    get_runner.runner = runner  # type: ignore[attr-defined]
    cosmos_runner._get_cached_dbt_runner = get_runner
    return True


def install_shared_parse(project_dir: Path, profiles_dir: Path, target: str) -> dbtRunner | None:
    """Give cosmos a ``SharedParseRunner`` unless this process already has a runner of this
    module: the scheduler's parse, or an earlier task's runner for the same project, profiles
    and target. Return the runner in place."""
    runner = installed_runner()
    if isinstance(runner, SharedParseRunner) and (
            runner.project_dir, runner.profiles_dir, runner.target) != (
            project_dir, profiles_dir, target):
        runner = None  # another DAG's settings in this process
    if runner is None:
        runner = SharedParseRunner(project_dir, profiles_dir, target)
        if not install_for_cosmos(runner):
            return None
    return runner


if __name__ == "__main__":
    project, profiles, target_name, output = sys.argv[1:5]
    sys.exit(_parse_and_pickle(Path(project), Path(profiles), target_name, Path(output)))
