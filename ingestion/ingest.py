"""Land what is new in each source system in its bronze dataset."""

from __future__ import annotations

from ingestion.destinations import make_destination, make_staging, state_folder_name
from ingestion.errors import UserError
from ingestion.lookback import BronzeVersions
from ingestion.pipeline import Progress, SourceReport, run_source
from ingestion.settings import Paths, crm_http_settings, crm_page_size, erp_lookback_minutes
from ingestion.source_errors import explain_failure
from ingestion.sources import SourceEndpoints

SOURCES = ("crm", "erp", "sales")
DATASETS = {"crm": "bronze_crm", "erp": "bronze_erp", "sales": "bronze_sales"}


def ingest_source(name: str, destination_name: str, paths: Paths, progress: Progress,
                  endpoints: SourceEndpoints) -> SourceReport:
    """Land what is new in one source (read at its URL in ``endpoints``) in its bronze
    dataset of the given warehouse."""
    if name not in SOURCES:
        raise ValueError(f"unknown source {name!r}; choose one of {', '.join(SOURCES)}")
    url = endpoints.url(name)
    destination = make_destination(destination_name, paths)
    staging = make_staging(destination_name)
    pipelines_dir = paths.pipelines_dir / state_folder_name(destination_name, paths)
    dataset = DATASETS[name]
    versions = BronzeVersions()
    # each source's modules are imported when it runs: a CRM-only ingest does not pay for
    # SQLAlchemy or the filesystem source
    try:
        if name == "crm":
            from ingestion.crm import crm_session, crm_source

            http = crm_http_settings()
            source = crm_source(url, page_size=crm_page_size(),
                                lookback_minutes=erp_lookback_minutes(),
                                versions=versions, session=crm_session(http, progress))
            return run_source(name, source, destination, dataset, pipelines_dir,
                              progress, staging, versions)
        if name == "erp":
            from ingestion.erp import erp_source

            source = erp_source(url, lookback_minutes=erp_lookback_minutes(), versions=versions)
            return run_source(name, source, destination, dataset, pipelines_dir, progress,
                              staging, versions)
        from ingestion.sales import sales_source

        return run_source(name, sales_source(url), destination, dataset,
                          pipelines_dir, progress, staging)
    except UserError:
        raise
    except Exception as error:
        explained = explain_failure(error, name, url, destination_name)
        if explained is None:
            raise
        raise explained from error


def format_summary(reports: list[SourceReport]) -> str:
    lines = [f"{'table':<36} {'rows':>12}", "-" * 49]
    for report in reports:
        for table, rows in sorted(report.rows.items()):
            lines.append(f"{report.dataset + '.' + table:<36} {rows:>12,}")
    lines.append("-" * 49)
    for report in reports:
        lines.append(f"{report.source:<8} {report.total_rows:>12,} rows "
                     f"{report.seconds:>8.1f} s {report.rows_per_second:>12,.0f} rows/s")
    total_rows = sum(r.total_rows for r in reports)
    total_seconds = sum(r.seconds for r in reports)
    rate = total_rows / total_seconds if total_seconds else 0.0
    lines.append(f"{'total':<8} {total_rows:>12,} rows {total_seconds:>8.1f} s "
                 f"{rate:>12,.0f} rows/s")
    return "\n".join(lines + _notes(reports))


def _notes(reports: list[SourceReport]) -> list[str]:
    """What the row counts do not show: re-read rows, restored cursors, type conflicts."""
    notes = []
    for report in reports:
        if report.reread_rows:
            notes.append(f"{report.source}: {report.reread_rows:,} rows re-read in the "
                         "look-back window were already in bronze (not loaded again)")
        if report.restored_state:
            notes.append(f"{report.source}: cursors restored from the warehouse")
        for change in report.type_conflicts:
            notes.append(f"type conflict: {report.dataset}.{change.table}: values that do not "
                         f"fit their column landed in {change.column} ({change.data_type})")
    return notes
