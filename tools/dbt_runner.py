"""Run dbt from the sidecar with the project's own profiles and the same environment.

dbt runs in this process (dbt's programmatic ``dbtRunner``): a command costs dbt's work, not
a new interpreter importing dbt and its adapter again (about 2 s each here).
"""

from __future__ import annotations

from pathlib import Path

from ingestion.settings import path_setting

PRODUCTION_BUILD = ("build", "--exclude-resource-type", "unit_test")
"""The daily build: models, snapshots, seeds and their data tests. dbt's unit tests check the
SQL against fixed inputs, so they run in the test suite, not on every day's data."""


def project_dir() -> Path:
    return path_setting("RETAIL_DBT_PROJECT_DIR", Path.cwd()).resolve()


def run_dbt(*args: str, target: str | None = None) -> None:
    """Run one dbt command, streaming its output; raise if it fails."""
    from dbt.cli.main import dbtRunner

    command = [*args, "--project-dir", str(project_dir()), "--profiles-dir", str(project_dir())]
    if target:
        command += ["--target", target]
    result = dbtRunner().invoke(command)
    if not result.success:
        reason = f": {result.exception}" if result.exception else ""
        raise RuntimeError(f"`dbt {' '.join(args)}` failed{reason}")
