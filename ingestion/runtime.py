"""Process-wide defaults every entry point applies before any vendor library configures itself."""

import os

_DEFAULTS = {
    # telemetry off everywhere
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "DO_NOT_TRACK": "1",
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    # dlt would otherwise look its settings up as Airflow Variables whenever Airflow is
    # installed, even outside a task; our configuration comes from the environment.
    "PROVIDERS__ENABLE_AIRFLOW_SECRETS": "false",
    # Arrow tables get the load id too, so every bronze row can be traced to its load.
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true",
}


def apply_runtime_defaults() -> None:
    """Set each default unless the user chose otherwise."""
    for name, value in _DEFAULTS.items():
        os.environ.setdefault(name, value)
