"""OpenLineage for the run: the events are emitted by Airflow's OpenLineage provider.

``naming`` names the datasets after the OpenLineage spec, ``tasks`` builds the lineage our
own operators report (ingest: source system -> bronze tables; Power BI: gold tables ->
dataset), ``config`` tells whether the provider emits at all. The dbt nodes' lineage comes
from cosmos. Configuration: dags/README.md ("Lineage").
"""
