"""Process-wide defaults every entry point applies before any vendor library configures itself.

The one home of these defaults, telemetry off among them. Python entry points get them by
importing ``ingestion`` (its ``__init__`` calls ``apply_runtime_defaults``); the test harness
imports ``TELEMETRY_OFF`` from here; and the Makefile, whose ``dbt``, ``sqlfluff`` and
``airflow`` commands start outside Python, exports what ``python ingestion/runtime.py``
prints. Standard library only, so the Makefile can run it before the virtualenv exists.
"""

import os

TELEMETRY_OFF = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}
"""Every vendor's usage reporting switched off: dbt, dlt, Cosmos, Airflow, Great Expectations,
and the cross-vendor ``DO_NOT_TRACK``."""

RUNTIME_DEFAULTS = {
    **TELEMETRY_OFF,
    # dlt would otherwise look its settings up as Airflow Variables whenever Airflow is
    # installed, even outside a task; our configuration comes from the environment.
    "PROVIDERS__ENABLE_AIRFLOW_SECRETS": "false",
    # Arrow tables get the load id too, so every bronze row can be traced to its load.
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true",
    # The files dlt hands to the warehouse (parquet, for Arrow data) are deleted once loaded:
    # dlt keeps them by default, a copy of every load in the pipelines folder.
    "LOAD__DELETE_COMPLETED_JOBS": "true",
    # Airflow's OpenLineage listener emits a task's events from a thread of the task's process
    # rather than from a fork of it. Under `airflow dags test` a fork that looks a connection
    # up (the Power BI task's lineage) hangs until the provider kills it, 13 s per event.
    "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
}


def apply_runtime_defaults() -> None:
    """Set each default unless the user chose otherwise."""
    for name, value in RUNTIME_DEFAULTS.items():
        os.environ.setdefault(name, value)


def main() -> None:
    """Print the defaults as ``NAME=value`` words, for the Makefile to export."""
    print(" ".join(f"{name}={value}" for name, value in RUNTIME_DEFAULTS.items()))


if __name__ == "__main__":
    main()
