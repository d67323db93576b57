"""Run one source into bronze: resume anything interrupted, extract, normalize, load, report."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.sources import DltSource

from ingestion.lookback import BronzeVersions

Progress = Callable[[str], None]

before_load_hooks: list[Callable[[str], None]] = []
"""Called with the source's name after normalize, right before the load: where a
fault-injection test stops the process (no hook is installed in normal runs)."""


@dataclass
class SchemaChange:
    table: str
    column: str
    data_type: str
    type_conflict: bool  # a variant column: the value did not fit the existing type


@dataclass
class SourceReport:
    source: str
    dataset: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    resumed_rows: int = 0
    reread_rows: int = 0  # re-read in the look-back window, already in bronze: not loaded
    restored_state: bool = False  # cursors restored from the warehouse (no local state)
    schema_changes: list[SchemaChange] = field(default_factory=list)
    load_ids: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0

    @property
    def type_conflicts(self) -> list[SchemaChange]:
        return [change for change in self.schema_changes if change.type_conflict]


def _columns_by_table(pipeline: dlt.Pipeline) -> dict[str, dict[str, str]]:
    if not pipeline.schema_names:
        return {}
    schema = pipeline.default_schema
    return {
        name: {c: str(col.get("data_type")) for c, col in table.get("columns", {}).items()}
        for name, table in schema.tables.items()
        if not name.startswith("_dlt")
    }


def _schema_changes(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]
                    ) -> list[SchemaChange]:
    changes = []
    for table, columns in after.items():
        if table not in before:
            continue  # a new table is not drift
        for column, data_type in columns.items():
            if column not in before[table]:
                changes.append(SchemaChange(table, column, data_type, "__v_" in column))
    return changes


def _user_rows(row_counts: dict[str, int]) -> dict[str, int]:
    return {t: n for t, n in row_counts.items() if not t.startswith("_dlt")}


def _rows_in_loads(pipeline: dlt.Pipeline, load_ids: list[str]) -> dict[str, int]:
    """Rows each table holds from the given loads, counted in the destination itself."""
    if not load_ids:
        return {}
    counts: dict[str, int] = {}
    with pipeline.sql_client() as client:
        for table in _columns_by_table(pipeline):
            if not pipeline.default_schema.get_table(table).get("columns"):
                continue
            placeholders = ", ".join(["%s"] * len(load_ids))
            try:
                rows = client.execute_sql(
                    f"select count(*) from {client.make_qualified_table_name(table)} "
                    f"where _dlt_load_id in ({placeholders})", *load_ids)
            except DatabaseUndefinedRelation:
                continue  # declared in the schema, never received a row
            if rows and rows[0][0]:
                counts[table] = int(rows[0][0])
    return counts


def _file_format(pipeline: dlt.Pipeline) -> Literal["parquet"] | None:
    """Parquet where the destination bulk-loads it (DuckDB: ~5x faster for JSON sources)."""
    capabilities = pipeline.destination.capabilities()
    return "parquet" if "parquet" in capabilities.supported_loader_file_formats else None


def _load_ids(info: LoadInfo) -> list[str]:
    return list(info.loads_ids)


def _complete_interrupted_load(name: str, pipeline: dlt.Pipeline, report: SourceReport,
                               progress: Progress) -> None:
    progress(f"{name}: completing an interrupted load first")
    pipeline.normalize()
    resumed_ids = _load_ids(pipeline.load())
    report.load_ids += resumed_ids
    for table, count in _rows_in_loads(pipeline, resumed_ids).items():
        report.rows[table] = report.rows.get(table, 0) + count
    report.resumed_rows = sum(report.rows.values())
    progress(f"{name}: {report.resumed_rows:,} rows of the interrupted load landed")


def _sync_with_warehouse(name: str, pipeline: dlt.Pipeline, report: SourceReport,
                         progress: Progress) -> None:
    """Take the cursors the warehouse holds when they are newer than the local ones.

    The working folder belongs to one warehouse; when it is missing (a new machine, a wiped
    folder) the state dlt stored in the warehouse with every load is restored, and a
    warehouse without any state gets a full initial load.
    """
    version_before = pipeline.state.get("_state_version", 0)
    pipeline.sync_destination()
    report.restored_state = pipeline.state.get("_state_version", 0) > version_before
    if report.restored_state:
        progress(f"{name}: cursors restored from the warehouse")


def run_source(
    name: str, source: DltSource, destination: Any, dataset: str, pipelines_dir: Path,
    progress: Progress, staging: Any | None = None, versions: BronzeVersions | None = None,
) -> SourceReport:
    """Load ``source`` into ``dataset``; ``pipelines_dir`` is the warehouse's own state folder."""
    started = time.perf_counter()
    report = SourceReport(source=name, dataset=dataset)
    pipelines_dir.mkdir(parents=True, exist_ok=True)
    pipeline = dlt.pipeline(
        pipeline_name=f"retail_{name}_{destination.destination_name}",
        destination=destination, staging=staging, dataset_name=dataset,
        pipelines_dir=str(pipelines_dir),
    )
    if pipeline.has_pending_data:
        _complete_interrupted_load(name, pipeline, report, progress)
    _sync_with_warehouse(name, pipeline, report, progress)
    if versions is not None:
        versions.bind(pipeline)

    before = _columns_by_table(pipeline)
    progress(f"{name}: extracting")
    pipeline.extract(source, loader_file_format=_file_format(pipeline))
    normalized = pipeline.normalize()
    new_rows = _user_rows(normalized.row_counts)
    progress(f"{name}: normalized {sum(new_rows.values()):,} rows "
             f"in {len(new_rows)} tables")
    if versions is not None and versions.skipped_rows:
        report.reread_rows = versions.skipped_rows
        progress(f"{name}: {report.reread_rows:,} rows re-read in the look-back window "
                 "were already in bronze (not loaded again)")
    for hook in before_load_hooks:
        hook(name)
    progress(f"{name}: loading into {dataset}")
    loaded_ids = _load_ids(pipeline.load())
    if any(new_rows.values()):
        # A run that found nothing new still stores dlt's state (a cursor moved by the
        # look-back): that load holds no row of ours, so it is no bronze load to validate.
        report.load_ids += loaded_ids
    for table, count in new_rows.items():
        if count:
            report.rows[table] = report.rows.get(table, 0) + count
    report.schema_changes = _schema_changes(before, _columns_by_table(pipeline))
    for change in report.schema_changes:
        kind = "type conflict" if change.type_conflict else "new column"
        progress(f"{name}: schema drift ({kind}): {dataset}.{change.table}.{change.column} "
                 f"({change.data_type})")
    report.seconds = time.perf_counter() - started
    progress(f"{name}: {report.total_rows:,} rows in {report.seconds:.1f} s "
             f"({report.rows_per_second:,.0f} rows/s)")
    return report
