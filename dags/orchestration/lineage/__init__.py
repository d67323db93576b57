"""OpenLineage for the run: the events are emitted by Airflow's OpenLineage provider.

``naming`` names the datasets after the OpenLineage spec, ``tasks`` builds the lineage our
own operators report (ingest: source system -> bronze tables; Power BI: gold tables ->
dataset), ``dbt_inputs`` adds the seeds and snapshots to the dbt nodes' lineage cosmos
reports, ``config`` tells whether the provider emits at all. Configuration: dags/README.md
("Lineage").
"""
