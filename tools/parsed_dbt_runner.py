"""The dbt project parsed once, in the scheduler, for every dbt task forked from it.

Each dbt task of the DAG starts dbt, which reads the partial-parse file and rebuilds the
project's manifest: about 1 s of every task's 2 to 2.5 s on a 2-core laptop. The scheduler
(``tools/airflow_scheduler.py``) parses the project once instead and gives cosmos a
``dbtRunner`` holding that manifest (dbt's documented way to run several commands on one
parse); the LocalExecutor's task processes are forks of the scheduler, so each finds it
ready.

The manifest is used only while it still describes the project: for a command that builds
or tests, with the target it was parsed for, no ``--vars`` (vars change what a parse
renders), and while no file of the project has changed since (sizes and modification times
of the project's files, a few milliseconds to read). Otherwise dbt parses as before.
"""

from __future__ import annotations

import copyreg
import logging
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
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

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]


def project_folders(project_dir: Path) -> list[Path]:
    """The folders dbt parses, as ``dbt_project.yml`` names them."""
    try:
        config = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    return [project_dir / folder for key, default in PROJECT_FOLDERS.items()
            for folder in (config.get(key) or default)]


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


def _option(args: Sequence[str], *names: str) -> str | None:
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                return args[index + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


class ParsedProjectRunner(dbtRunner):
    """A ``dbtRunner`` that hands dbt the manifest parsed ahead while it still applies."""

    def __init__(self, manifest: Manifest, project_dir: Path, target: str,
                 fingerprint: Fingerprint) -> None:
        super().__init__()
        self.parsed = manifest
        self.project_dir = project_dir
        self.target = target
        self.fingerprint = fingerprint
        self.used_parsed = False

    def why_not(self, args: Sequence[str]) -> str | None:
        """Why ``args`` cannot run on the parsed manifest; ``None`` when they can."""
        command = next((arg for arg in args if not arg.startswith("-")), None)
        if command not in COMMANDS:
            return f"dbt {command} parses for itself"
        if _option(args, "--vars") is not None:
            return "the command sets --vars"
        if _option(args, "--target", "-t") not in (None, self.target):
            return f"the manifest was parsed for the target {self.target}"
        if project_fingerprint(self.project_dir) != self.fingerprint:
            return f"a file of {self.project_dir} changed since the scheduler started"
        return None

    def invoke(self, args: list[str], **kwargs: Any) -> dbtRunnerResult:
        reason = self.why_not(args)
        self.used_parsed = reason is None
        self.manifest = self.parsed if self.used_parsed else None
        if self.used_parsed:
            log.info("dbt runs on the project the scheduler parsed when it started")
        else:
            log.info("dbt parses the project: %s", reason)
        return super().invoke(args, **kwargs)


def parse_project(project_dir: Path, profiles_dir: Path, target: str,
                  timeout_s: float = 600) -> ParsedProjectRunner:
    """Parse the project in a child process and return a runner holding its manifest.

    The parse runs apart because dbt's static parser (``dbt_extractor``) starts a thread
    pool the first time it runs, and a process forked after that hangs for ever as soon as
    it parses again (a task whose project changed, which parses as before): the pool's
    threads do not exist in the fork. The child parses from the project's partial-parse file
    into a temporary target folder (the project's ``target/``, whose ``manifest.json`` the
    DAG reads, is left as it is) and hands the manifest over pickled. Raises
    ``RuntimeError`` when dbt cannot parse the project.
    """
    fingerprint = project_fingerprint(project_dir)
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
    return ParsedProjectRunner(manifest, project_dir, target, fingerprint)


def _parse_and_pickle(project_dir: Path, profiles_dir: Path, target: str, out: Path) -> int:
    """The child's part of ``parse_project``."""
    with tempfile.TemporaryDirectory(prefix="retail-dbt-parse-") as target_path:
        partial_parse = project_dir / "target" / "partial_parse.msgpack"
        if partial_parse.is_file():
            shutil.copy2(partial_parse, Path(target_path) / partial_parse.name)
        result = dbtRunner().invoke([
            "--quiet", "--no-write-json", "parse", "--project-dir", str(project_dir),
            "--profiles-dir", str(profiles_dir), "--target", target,
            "--target-path", target_path])
    if not result.success or not isinstance(result.result, Manifest):
        print(f"dbt parse failed: {result.exception}", file=sys.stderr)
        return 1
    with out.open("wb") as file:
        pickler = pickle.Pickler(file, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = {**copyreg.dispatch_table, Manifest: _manifest_state}
        pickler.dump(result.result)
    return 0


def _manifest_state(manifest: Manifest) -> tuple[Any, ...]:
    """The manifest's fields as they are, without its lock (``parse_project`` gives it one)
    and its lookups (made again on first use). dbt's own ``Manifest.__reduce_ex__`` leaves
    fields out and shifts the rest into the wrong ones (dbt 1.11: the source lookup becomes a
    ref lookup)."""
    state = {name: None if name.endswith("_lookup") else value
             for name, value in vars(manifest).items() if name != "_lock"}
    return object.__new__, (Manifest,), state


def install_for_cosmos(runner: dbtRunner) -> bool:
    """Make cosmos' DBT_RUNNER invocations use ``runner``; ``False`` if cosmos has no hook."""
    import airflow  # noqa: F401 - first: cosmos' modules import airflow's plugins, which import cosmos
    from cosmos.dbt import runner as cosmos_runner

    if not callable(getattr(cosmos_runner, "_get_cached_dbt_runner", None)):
        return False
    cosmos_runner._get_cached_dbt_runner = lambda: runner
    return True


if __name__ == "__main__":
    project, profiles, target_name, output = sys.argv[1:5]
    sys.exit(_parse_and_pickle(Path(project), Path(profiles), target_name, Path(output)))
