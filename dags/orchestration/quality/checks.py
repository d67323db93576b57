"""A ``Check``: the rows to validate (one query) and the expectation suite they must pass.

Queries are plain, portable SQL (DuckDB and PostgreSQL): the runner either reads them into
a DataFrame (DuckDB) or hands them to GX as a query asset (PostgreSQL). Identifiers are
quoted with ``relation``/``quote_ident``; load ids are checked before they are inlined.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from orchestration.warehouse import quote_ident, relation

CRITICAL = "critical"
WARNING = "warning"

_LOAD_ID = re.compile(r"^[0-9]+(\.[0-9]+)?$")


@dataclass(frozen=True)
class Check:
    """One batch of rows and the suite it must pass.

    :param name: what is checked, e.g. ``bronze_sales.sales_lines`` (also the suite name)
    :param query: SQL returning the rows to validate
    :param expectations: GX expectations, each with its ``severity``
    """

    name: str
    query: str
    expectations: tuple[Any, ...]

    def suite(self) -> Any:
        """The ``gx.ExpectationSuite`` of this check."""
        import great_expectations as gx

        return gx.ExpectationSuite(name=self.name, expectations=list(self.expectations))

    def column_batches(self) -> list[ColumnBatch]:
        """The expectations grouped by the columns they read, in the order the columns first
        appear in the suite; expectations of the whole table (row counts) go with the first.

        Each batch reads only its columns (``ColumnBatch.query``), so a check of a large
        load holds one column in memory at a time instead of every column at once.
        """
        groups: dict[tuple[str, ...], list[Any]] = {}
        table_level: list[Any] = []
        for expectation in self.expectations:
            columns = expectation_columns(expectation)
            if columns:
                groups.setdefault(columns, []).append(expectation)
            else:
                table_level.append(expectation)
        batches = [ColumnBatch(self.query, columns, tuple(expectations))
                   for columns, expectations in groups.items()]
        if not batches:
            return [ColumnBatch(self.query, (), tuple(table_level))]
        first = batches[0]
        batches[0] = ColumnBatch(first.source_query, first.columns,
                                 (*table_level, *first.expectations))
        return batches


@dataclass(frozen=True)
class ColumnBatch:
    """The columns one group of a check's expectations reads, and those expectations."""

    source_query: str
    columns: tuple[str, ...]
    expectations: tuple[Any, ...]

    @property
    def query(self) -> str:
        """The check's rows, only these columns (a constant when they read none)."""
        names = ", ".join(quote_ident(column) for column in self.columns) or "1 as row_marker"
        return f"select {names} from ({self.source_query}) as checked_rows"


def expectation_columns(expectation: Any) -> tuple[str, ...]:
    """The columns a GX expectation reads: its ``column`` or ``column_list``; none for a
    table-level expectation."""
    column = getattr(expectation, "column", None)
    if isinstance(column, str):
        return (column,)
    return tuple(getattr(expectation, "column_list", None) or ())


def select_rows(schema: str, table: str, columns: Iterable[str], where: str | None = None) -> str:
    """``select <columns> from "schema"."table" [where ...]``; no columns selects a constant."""
    names = [quote_ident(column) for column in columns]
    projection = ", ".join(names) if names else "1 as row_marker"
    sql = f"select {projection} from {relation(schema, table)}"
    return f"{sql} where {where}" if where else sql


def load_id_filter(load_ids: Sequence[str]) -> str:
    """``"_dlt_load_id" in (...)`` for the given loads (validated: dlt ids are numeric)."""
    bad = [load_id for load_id in load_ids if not _LOAD_ID.match(load_id)]
    if bad:
        raise ValueError(f"not a dlt load id: {bad[0]!r}")
    if not load_ids:
        return "1 = 0"
    literals = ", ".join(f"'{load_id}'" for load_id in load_ids)
    return f"{quote_ident('_dlt_load_id')} in ({literals})"
