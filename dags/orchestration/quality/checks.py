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
