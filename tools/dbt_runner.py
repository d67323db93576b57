"""Run dbt from the sidecar with the project's own profiles and the same environment.

dbt runs in this process (dbt's programmatic ``dbtRunner``): a command costs dbt's work, not
a new interpreter importing dbt and its adapter again (about 2 s each here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ingestion.settings import path_setting

PRODUCTION_BUILD = ("build", "--exclude-resource-type", "unit_test")
"""The daily build: models, snapshots, seeds and their data tests. dbt's unit tests check the
SQL against fixed inputs, so they run in the test suite, not on every day's data."""


def project_dir() -> Path:
    return path_setting("RETAIL_DBT_PROJECT_DIR", Path.cwd()).resolve()


class DbtSession:
    """dbt commands run in this process on one parse of the project.

    The first command parses the project (``dbt parse``, which also writes
    ``target/manifest.json``); every command then gets that manifest
    (``dbtRunner(manifest=...)``, dbt's way to reuse a parse across invocations) instead of
    reading and checking the partial-parse file again: about 0.5 s a command here. The
    project must not change between the session's commands; a new session parses again.
    """

    def __init__(self) -> None:
        self._manifest: Any = None

    @staticmethod
    def _command(*args: str) -> list[str]:
        return [*args, "--project-dir", str(project_dir()), "--profiles-dir", str(project_dir())]

    def run(self, *args: str) -> None:
        """Run one dbt command, streaming its output; raise if it fails."""
        from dbt.cli.main import dbtRunner

        if self._manifest is None:
            parsed = dbtRunner().invoke(self._command("parse"))
            _raise_unless_success(parsed, ("parse",))
            self._manifest = parsed.result
        _raise_unless_success(dbtRunner(manifest=self._manifest).invoke(self._command(*args)),
                              args)


def _raise_unless_success(result: Any, args: tuple[str, ...]) -> None:
    if not result.success:
        reason = f": {result.exception}" if result.exception else ""
        raise RuntimeError(f"`dbt {' '.join(args)}` failed{reason}")
