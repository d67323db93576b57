"""Whether this Airflow emits OpenLineage events: the provider decides, we only ask.

The OpenLineage provider (``apache-airflow-providers-openlineage``) is on when it has a
transport (``[openlineage] transport``, ``AIRFLOW__OPENLINEAGE__TRANSPORT``, a config file or
connection) and not ``[openlineage] disabled``. The dbt tasks then keep dbt's
``run_results.json`` and ``manifest.json``, which cosmos turns into each node's lineage;
otherwise they skip writing them (``--no-write-json``), which saves time on every task.
"""

from __future__ import annotations


def openlineage_enabled() -> bool:
    """True when the OpenLineage provider is installed and configured to emit events."""
    try:
        from airflow.providers.openlineage.conf import is_disabled
    except ImportError:
        return False
    return not is_disabled()
