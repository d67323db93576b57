"""DAG tests run against a private Airflow home; see ``airflow_harness``.

``airflow_harness`` is imported first, before anything imports Airflow, so that the whole
session (including the Power BI tests) uses the temporary home it sets up.
"""

from airflow_harness import airflow_db, dbt_manifest  # noqa: F401 - pytest fixtures
