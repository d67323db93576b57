"""Validate ``Check``s with Great Expectations 1.x and summarise the outcome.

DuckDB goes through GX's pandas path: the check's query runs in DuckDB and GX validates
the resulting DataFrame (GX cannot reflect DuckDB tables through SQLAlchemy), one group of
columns at a time (``Check.column_batches``): a day-0 load of millions of sales lines is
validated one column at a time, in a fraction of the memory all columns would take at
once. PostgreSQL goes through GX's SQL path: each query becomes a query asset GX runs in
the database.

The GX context is ephemeral (nothing written to disk), with analytics and progress bars
off. A check whose query fails (missing table or column) counts as a failed critical
expectation, with the database's message.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from orchestration.quality.checks import CRITICAL, Check
from orchestration.warehouse import Warehouse

log = logging.getLogger(__name__)

_KEPT_RESULT_FIELDS = (
    "observed_value",
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "partial_unexpected_list",
)


class DataQualityError(AirflowFailException):
    """A critical expectation failed: the pipeline stops here (and is not retried)."""


@dataclass
class ExpectationOutcome:
    """One expectation of one check, reduced to what the audit and the logs need."""

    expectation: str
    severity: str
    success: bool
    kwargs: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def describe(self) -> str:
        """One line for the log and the failure message."""
        column = self.kwargs.get("column") or self.kwargs.get("column_list") or ""
        target = f"({column})" if column else ""
        detail = self.error or ", ".join(
            f"{key}={value}"
            for key, value in self.result.items()
            if key in {"observed_value", "unexpected_count", "unexpected_percent"}
        )
        return f"{self.expectation}{target} [{self.severity}]: {detail}"


@dataclass
class CheckOutcome:
    """All expectations of one check."""

    check: str
    rows: int | None
    seconds: float
    expectations: list[ExpectationOutcome]

    @property
    def success(self) -> bool:
        """No critical expectation failed."""
        return not self.critical_failures

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        """Failed expectations of severity critical."""
        return [e for e in self.expectations if not e.success and e.severity == CRITICAL]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        """Failed expectations of a lower severity."""
        return [e for e in self.expectations if not e.success and e.severity != CRITICAL]


@dataclass
class GateReport:
    """The outcome of one gate: every check, and whether the pipeline may go on."""

    gate: str
    checks: list[CheckOutcome]

    @property
    def success(self) -> bool:
        """No critical expectation failed in any check."""
        return all(check.success for check in self.checks)

    @property
    def rows(self) -> int:
        """Rows validated over all checks."""
        return sum(check.rows or 0 for check in self.checks)

    def failures(self) -> list[str]:
        """``check: expectation ...`` for every failed critical expectation."""
        return [
            f"{check.check}: {failure.describe()}"
            for check in self.checks
            for failure in check.critical_failures
        ]

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (XCom and audit)."""
        return {
            "gate": self.gate,
            "success": self.success,
            "checks": len(self.checks),
            "expectations": sum(len(check.expectations) for check in self.checks),
            "failed_critical": sum(len(check.critical_failures) for check in self.checks),
            "failed_warning": sum(len(check.warnings) for check in self.checks),
            "rows": self.rows,
            "results": [
                {
                    "check": check.check,
                    "success": check.success,
                    "rows": check.rows,
                    "seconds": round(check.seconds, 3),
                    "expectations": [asdict(outcome) for outcome in check.expectations],
                }
                for check in self.checks
            ],
        }

    def raise_for_critical(self) -> None:
        """Raise ``DataQualityError`` listing the failed critical expectations."""
        if self.success:
            return
        failures = self.failures()
        shown = "\n  ".join(failures[:20])
        more = f"\n  ... and {len(failures) - 20} more" if len(failures) > 20 else ""
        raise DataQualityError(
            f"{self.gate} gate failed: {len(failures)} critical expectation(s) not met\n"
            f"  {shown}{more}"
        )


def run_checks(gate: str, checks: Sequence[Check], warehouse: Warehouse) -> GateReport:
    """Validate every check against the warehouse and log a line per check."""
    context = _ephemeral_context()
    if warehouse.kind == "duckdb":
        datasource = context.data_sources.add_pandas(name=f"{gate}_frames")
    else:
        datasource = context.data_sources.add_postgres(
            name=f"{gate}_sql", connection_string=warehouse.sqlalchemy_url()
        )
    outcomes = []
    for index, check in enumerate(checks):
        started = time.perf_counter()
        try:
            rows, results = _validate(datasource, f"check_{index}", check, warehouse)
            expectations = _outcomes(results)
            outcome = CheckOutcome(check.name, _rows(rows, expectations), 0.0, expectations)
        except Exception as error:  # noqa: BLE001 - any failure to read the rows fails the check
            log.error("%s: could not validate: %s", check.name, error)
            outcome = CheckOutcome(check.name, None, 0.0, [_query_failure(error)])
            warehouse.rollback()
        outcome.seconds = time.perf_counter() - started
        _log(outcome)
        outcomes.append(outcome)
    return GateReport(gate=gate, checks=outcomes)


def _ephemeral_context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def _validate(
    datasource: Any, asset_name: str, check: Check, warehouse: Warehouse
) -> tuple[int | None, list[Any]]:
    """The rows the check read (``None``: GX counted them in the database) and GX's result
    of every expectation."""
    if warehouse.kind == "duckdb":
        return _validate_by_columns(datasource, asset_name, check, warehouse)
    asset = datasource.add_query_asset(name=asset_name, query=check.query)
    batch = asset.add_batch_definition_whole_table("rows").get_batch()
    result = batch.validate(check.suite(), result_format="SUMMARY")
    return None, list(result.results)


def _validate_by_columns(
    datasource: Any, asset_name: str, check: Check, warehouse: Warehouse
) -> tuple[int | None, list[Any]]:
    """Each column batch read into a DataFrame and validated, then let go."""
    import great_expectations as gx

    rows: int | None = None
    results: list[Any] = []
    asset = datasource.add_dataframe_asset(name=asset_name)
    definition = asset.add_batch_definition_whole_dataframe("rows")
    with _no_frame_fingerprints():
        for index, column_batch in enumerate(check.column_batches()):
            frame = warehouse.fetch_frame(column_batch.query)
            rows = len(frame)
            suite = gx.ExpectationSuite(name=f"{check.name}#{index}",
                                        expectations=list(column_batch.expectations))
            batch = definition.get_batch(batch_parameters={"dataframe": frame})
            del frame
            results.extend(batch.validate(suite, result_format="SUMMARY").results)
            del batch
    return rows, results


@contextmanager
def _no_frame_fingerprints() -> Iterator[None]:
    """GX fingerprints every DataFrame under ``HASH_THRESHOLD`` (1 GB) for its batch
    markers, hashing every value, twice per validation. Nothing here reads the markers, and
    a column batch is nearly always under 1 GB: on a day-0 load at scale 100 the hashing
    took 36 s of the sales lines' 94 s. Turned off (a threshold of 0) while the gate
    validates, as GX does itself for a frame over the threshold."""
    from great_expectations.execution_engine import pandas_execution_engine

    threshold = getattr(pandas_execution_engine, "HASH_THRESHOLD", None)
    if threshold is None:  # a GX without it: nothing to turn off
        yield
        return
    pandas_execution_engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        pandas_execution_engine.HASH_THRESHOLD = threshold


def _outcomes(results: Sequence[Any]) -> list[ExpectationOutcome]:
    outcomes = []
    for item in results:
        config = item.expectation_config
        severity = getattr(config, "severity", CRITICAL)
        raw = item.result or {}
        exception = (item.exception_info or {}).get("exception_message")
        outcomes.append(
            ExpectationOutcome(
                expectation=str(config.type),
                severity=str(getattr(severity, "value", severity)),
                success=bool(item.success),
                kwargs=_json_safe(
                    {key: value for key, value in config.kwargs.items() if key != "batch_id"}
                ),
                result=_json_safe({key: raw[key] for key in _KEPT_RESULT_FIELDS if key in raw}),
                error=str(exception) if exception else None,
            )
        )
    return outcomes


def _rows(counted: int | None, outcomes: Sequence[ExpectationOutcome]) -> int | None:
    """Rows of the batch: counted (DuckDB), else what GX reported (SQL path)."""
    if counted is not None:
        return counted
    for outcome in outcomes:
        value = outcome.result.get("element_count")
        if value is None and outcome.expectation.startswith("expect_table_row_count"):
            value = outcome.result.get("observed_value")
        if isinstance(value, int):
            return value
    return None


def _query_failure(error: Exception) -> ExpectationOutcome:
    message = " ".join(str(error).split())[:500]
    return ExpectationOutcome(
        expectation="query_runs",
        severity=CRITICAL,
        success=False,
        error=f"{type(error).__name__}: {message}",
    )


def _log(outcome: CheckOutcome) -> None:
    rows = "" if outcome.rows is None else f"{outcome.rows:,} rows, "
    passed = sum(1 for e in outcome.expectations if e.success)
    log.info(
        "%s: %s%d/%d expectations met (%.2f s)",
        outcome.check,
        rows,
        passed,
        len(outcome.expectations),
        outcome.seconds,
    )
    for failure in outcome.critical_failures:
        log.error("%s: %s", outcome.check, failure.describe())
    for warning in outcome.warnings:
        log.warning("%s: %s", outcome.check, warning.describe())


def _json_safe(value: Any) -> Any:
    """Plain JSON types only (NaN, numpy scalars, timestamps and sets converted)."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return _json_safe(item())
        except (TypeError, ValueError):
            pass
    return str(value)
