"""Land what is new in each source system in its bronze dataset."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from ingestion.crm import crm_source
from ingestion.demo.crm_server import RunningCrmServer
from ingestion.destinations import make_destination, make_staging
from ingestion.erp import erp_source
from ingestion.pipeline import Progress, SourceReport, run_source
from ingestion.sales import sales_source
from ingestion.settings import Paths, erp_url

SOURCES = ("crm", "erp", "sales")
DATASETS = {"crm": "bronze_crm", "erp": "bronze_erp", "sales": "bronze_sales"}


@contextlib.contextmanager
def crm_base_url(paths: Paths) -> Iterator[str]:
    """The configured CRM, or the demo stand-in started for the duration of the load."""
    configured = os.environ.get("RETAIL_CRM_URL")
    if configured:
        yield configured
        return
    if not paths.crm_dir.exists():
        raise FileNotFoundError(
            f"no CRM data in {paths.crm_dir}: run `python -m ingestion generate` first "
            "or set RETAIL_CRM_URL"
        )
    with RunningCrmServer(paths.crm_dir) as server:
        yield server.base_url


def sales_bucket_url(paths: Paths) -> str:
    configured = os.environ.get("RETAIL_SALES_BUCKET_URL")
    if configured:
        return configured
    if not paths.landing_dir.exists():
        raise FileNotFoundError(
            f"no sales landing folder at {paths.landing_dir}: run `python -m ingestion "
            "generate` first or set RETAIL_SALES_BUCKET_URL"
        )
    return paths.landing_dir.resolve().as_uri()


def ingest_source(name: str, destination_name: str, paths: Paths,
                  progress: Progress) -> SourceReport:
    destination = make_destination(destination_name, paths)
    staging = make_staging(destination_name)
    dataset = DATASETS[name]
    if name == "crm":
        with crm_base_url(paths) as url:
            return run_source(name, crm_source(url), destination, dataset, paths, progress,
                              staging)
    if name == "erp":
        return run_source(name, erp_source(erp_url(paths)), destination, dataset, paths,
                          progress, staging)
    if name == "sales":
        return run_source(name, sales_source(sales_bucket_url(paths)), destination, dataset,
                          paths, progress, staging)
    raise ValueError(f"unknown source {name!r}; choose one of {', '.join(SOURCES)}")


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
    return "\n".join(lines)
