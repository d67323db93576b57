"""The lineage our own tasks report to the OpenLineage provider.

The provider's listener calls an operator's ``get_openlineage_facets_on_start`` /
``get_openlineage_facets_on_complete`` in the worker, after (or before) ``execute``; the
operators delegate here. Each function returns an ``OperatorLineage``: the inputs and outputs
of the task and, where useful, facets (rows written, the Power BI request id). The dbt tasks
need nothing from us: cosmos reports each node's inputs and output itself.

Nothing here may fail a task: the listener catches errors, and a source or target this module
cannot name gives a lineage without it (logged), not an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orchestration.lineage.naming import (
    DatasetName,
    UnsupportedTargetError,
    WarehouseNaming,
    powerbi_dataset,
    render_profile_target,
    source_system,
    warehouse_naming,
)
from orchestration.settings import DBT_PROFILE_NAME, load_settings

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

log = logging.getLogger(__name__)


def profile_naming(output_name: str) -> WarehouseNaming | None:
    """Naming of one output of the project's ``profiles.yml`` (``duckdb``, ``postgres``...),
    rendered with this worker's environment; ``None`` if it cannot be named."""
    settings = load_settings()
    try:
        rendered = render_profile_target(settings.profiles_yml, DBT_PROFILE_NAME, output_name)
        return warehouse_naming(rendered)
    except (UnsupportedTargetError, KeyError, OSError) as error:
        log.warning("OpenLineage: the %s warehouse's tables are not named: %s", output_name, error)
        return None


def source_url(source: str) -> str | None:
    """The URL an ingest task read: the configured one, else the demo's stand-in
    (``RETAIL_SOURCES=demo``); the demo CRM is named by the folder its stand-in serves."""
    from ingestion.settings import load_paths
    from ingestion.sources import configured_url, demo_sources_requested

    url = configured_url(source)
    if url or not demo_sources_requested():
        return url
    from ingestion.demo.sources import demo_erp_url

    paths = load_paths()
    stand_ins = {
        "crm": paths.crm_dir.resolve().as_uri(),
        "erp": demo_erp_url(paths),
        "sales": paths.landing_dir.resolve().as_uri(),
    }
    return stand_ins.get(source)


def ingest_lineage(source: str, summary: Mapping[str, Any] | None) -> OperatorLineage:
    """Source system -> the bronze tables this run of the ingest task loaded rows into."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    inputs = []
    url = source_url(source)
    if url:
        inputs.append(_input(source_system(url)))
    outputs = []
    if summary:
        naming = profile_naming(str(summary["destination"]))
        rows: Mapping[str, int] = summary.get("rows") or {}
        if naming is not None:
            outputs = [
                _output(naming.table(str(summary["dataset"]), table), rows=count)
                for table, count in sorted(rows.items())
            ]
    return OperatorLineage(inputs=inputs, outputs=outputs)


def powerbi_lineage(
    gold: Sequence[tuple[str, str]],
    api_base_url: str,
    group_id: str,
    dataset_id: str,
    request_id: str | None = None,
) -> OperatorLineage:
    """The gold tables the Power BI dataset imports -> the dataset; with the refresh's
    request id once it is known."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    target = powerbi_dataset(api_base_url, group_id, dataset_id)
    naming = profile_naming(load_settings().target)
    inputs = [_input(naming.table(schema, name)) for schema, name in gold] if naming else []
    run_facets: dict[str, Any] = {}
    if request_id:
        from openlineage.client.facet_v2 import external_query_run

        run_facets["externalQuery"] = external_query_run.ExternalQueryRunFacet(
            externalQueryId=request_id, source=target.namespace
        )
    return OperatorLineage(inputs=inputs, outputs=[_output(target)], run_facets=run_facets)


def _input(dataset: DatasetName) -> Any:
    from openlineage.client.event_v2 import InputDataset

    return InputDataset(namespace=dataset.namespace, name=dataset.name)


def _output(dataset: DatasetName, rows: int | None = None) -> Any:
    from openlineage.client.event_v2 import OutputDataset
    from openlineage.client.facet_v2 import output_statistics_output_dataset
    from openlineage.client.generated.base import OutputDatasetFacet

    facets: dict[str, OutputDatasetFacet] = {}
    if rows is not None:
        facets["outputStatistics"] = (
            output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(rowCount=rows)
        )
    return OutputDataset(namespace=dataset.namespace, name=dataset.name, outputFacets=facets)
