"""``airflow scheduler`` with dbt already imported, for the LocalExecutor.

The LocalExecutor forks its worker processes from the scheduler, and each worker forks a
process per task (Linux: a bare ``os.fork``). A module the scheduler imported before its
executor started is therefore already loaded in every task process, where cosmos would
otherwise import dbt, its adapter and cosmos' own operator modules again for each of the
DAG's dbt tasks (about 1.5 to 2.5 s a task on a 2-core laptop). The forked processes share
those pages with the scheduler until they write to them.

It also parses the dbt project once (``dags/orchestration/parsed_dbt_runner.py``) and hands cosmos a
runner holding the manifest, so a task does not rebuild it from the partial-parse file; warms
dbt up on that parse (``warm_up``: what each task's dbt otherwise builds for itself on first
use, with no SQL run); then freezes Python's collector on all of it (``gc.freeze()``), so the
collections of the processes forked from it do not walk those objects again.

``python -m tools.airflow_scheduler [scheduler options]`` is what ``tools/airflow_local.py``
starts as the scheduler. A module that cannot be imported, or a project dbt cannot parse, is
reported and left to the task, which imports and parses as before: preloading saves time, it
never decides whether a task runs.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import time

PRELOADED_MODULES = (
    "dbt.cli.main",
    "dbt.adapters.factory",
    "cosmos.operators.local",
    "cosmos.dbt.runner",
    # what parsing the DAG file in each task process still imported (0.3 s of its 0.45 s)
    "cosmos.plugin.airflow3",
)
"""What every dbt task imports, whatever the target."""

TARGET_ADAPTERS = {
    "duckdb": "dbt.adapters.duckdb",
    "postgres": "dbt.adapters.postgres",
    "databricks": "dbt.adapters.databricks",
    "synapse": "dbt.adapters.synapse",
}
"""The adapter module of each target of ``profiles.yml`` (RETAIL_DBT_TARGET)."""


def modules_to_preload(target: str) -> list[str]:
    """The common modules, then the target's adapter when the project knows the target."""
    adapter = TARGET_ADAPTERS.get(target)
    return [*PRELOADED_MODULES, *([adapter] if adapter else [])]


def preload(names: list[str]) -> list[str]:
    """Import each module; return the ones that could not be imported."""
    missing = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def preparse_project() -> str:
    """Parse the dbt project for the LOCAL mode's tasks; say what was done.

    The project, profiles and target are the DAG's own settings (``load_settings``).
    """
    started = time.monotonic()
    try:
        from ingestion.settings import choice_setting
        from orchestration.parsed_dbt_runner import install_for_cosmos, parse_project, warm_up
        from orchestration.settings import load_settings

        if choice_setting("RETAIL_SCHEDULER_PARSES_DBT", "1", ("0", "1")) == "0":
            return "dbt project not parsed ahead (RETAIL_SCHEDULER_PARSES_DBT=0)"
        settings = load_settings()
        if settings.dbt_execution_mode != "local":
            return "dbt project not parsed ahead (only the LOCAL execution mode runs dbt per task)"
        runner = parse_project(settings.project_dir, settings.profiles_dir, settings.target)
        if not install_for_cosmos(runner):
            return "dbt project parsed, but this cosmos has no runner to replace: left to tasks"
    except Exception as error:  # noqa: BLE001 - whatever it is, the tasks parse as before
        return f"dbt project not parsed ahead, left to the tasks: {error}"
    parsed = f"dbt project parsed for the tasks in {time.monotonic() - started:.1f} s"
    started = time.monotonic()
    try:
        warm_up(runner, settings.profiles_dir)
    except Exception as error:  # noqa: BLE001 - the tasks still run on the parse
        return f"{parsed}; not warmed up, left to the tasks: {error}"
    return f"{parsed}, dbt warmed up in {time.monotonic() - started:.1f} s"


def main(argv: list[str] | None = None) -> None:
    started = time.monotonic()
    names = modules_to_preload(os.environ.get("RETAIL_DBT_TARGET", "duckdb"))
    missing = preload(names)
    loaded = [name for name in names if name not in missing]
    print(f"preloaded for the dbt tasks in {time.monotonic() - started:.1f} s: "
          f"{', '.join(loaded) or 'nothing'}"
          + (f"; not importable, left to the tasks: {', '.join(missing)}" if missing else ""),
          file=sys.stderr, flush=True)
    print(preparse_project(), file=sys.stderr, flush=True)
    gc.collect()
    gc.freeze()
    from airflow.__main__ import main as airflow_main

    sys.argv = ["airflow", "scheduler", *(sys.argv[1:] if argv is None else argv)]
    airflow_main()


if __name__ == "__main__":
    main()
