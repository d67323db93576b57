"""Run dbt from the sidecar with the project's own profiles and the same environment."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ingestion.settings import path_setting


def project_dir() -> Path:
    return path_setting("RETAIL_DBT_PROJECT_DIR", Path.cwd()).resolve()


def dbt_executable() -> str:
    beside_python = Path(sys.executable).parent / "dbt"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dbt")
    if not found:
        raise FileNotFoundError("dbt is not installed in this environment: run `make demo`")
    return found


def run_dbt(*args: str, target: str | None = None) -> None:
    """Run one dbt command, streaming its output; raise if it fails."""
    command = [dbt_executable(), *args, "--project-dir", str(project_dir()),
               "--profiles-dir", str(project_dir())]
    if target:
        command += ["--target", target]
    completed = subprocess.run(command, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"`dbt {' '.join(args)}` failed with exit code "
                           f"{completed.returncode}")
