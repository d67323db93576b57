"""Bronze suites: the rows of the new dlt loads, checked before dbt builds anything.

The loads come from the register ``audit.bronze_loads`` (written by the ingestion tasks):
every load that has not passed the gate yet. For every table, the check reads only the
rows of those loads (by ``_dlt_load_id``) and expects:

* keys present (critical): the key columns are never null, and text keys are neither
  null nor blank in enough of the rows (``Thresholds.mostly``: 99 %, but 5 bad rows always pass);
* values that parse (critical): raw text columns (the sales files are all text) match
  their format in enough of the rows; codes are in their domain;
* row counts that match the load (critical): the rows carrying the load id are exactly
  the rows the ingestion reported for that table;
* merge keys unique within the load (critical) for the ERP tables dlt merges on a key.

The generator's planted bad rows (about 0.1 % per kind) stay below the threshold: silver
quarantines them. A corrupt delivery (shifted columns, empty ids) exceeds it and stops
the pipeline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestration.audit import BronzeLoad
from orchestration.quality.checks import Check, load_id_filter, select_rows
from orchestration.quality.thresholds import Thresholds

INTEGER = r"^-?[0-9]+$"
DECIMAL = r"^-?[0-9]+(?:\.[0-9]+)?$"
TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
NOT_BLANK = r"\S"
"""Any value with a visible character; the escape means the same in Python and PostgreSQL."""

ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
STORE_TYPES = ("physical", "online")


@dataclass(frozen=True)
class BronzeTable:
    """What the bronze contract (ingestion/README.md) promises about one table."""

    keys: tuple[str, ...] = ()
    text_keys: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    formats: Mapping[str, str] = field(default_factory=dict)
    domains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    merge_key: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns the suite reads, in a stable order without duplicates."""
        names = (
            *self.keys,
            *self.text_keys,
            *self.required,
            *self.formats,
            *self.domains,
            *self.merge_key,
        )
        return tuple(dict.fromkeys(names))


BRONZE_CONTRACT: dict[str, BronzeTable] = {
    "bronze_crm.customers": BronzeTable(
        keys=("customer_id",), required=("updated_at", "created_at")
    ),
    "bronze_crm.customer_deletions": BronzeTable(keys=("customer_id",), required=("deleted_at",)),
    "bronze_erp.products": BronzeTable(
        keys=("product_id",),
        text_keys=("sku",),
        required=("updated_at",),
        merge_key=("product_id",),
    ),
    "bronze_erp.stores": BronzeTable(
        keys=("store_id",),
        text_keys=("store_code",),
        required=("updated_at",),
        domains={"store_type": STORE_TYPES},
        merge_key=("store_id",),
    ),
    "bronze_erp.orders": BronzeTable(
        keys=("order_id",),
        required=("ordered_at", "updated_at"),
        domains={"order_status": ORDER_STATUSES},
        merge_key=("order_id",),
    ),
    "bronze_erp.order_lines": BronzeTable(
        keys=("order_line_id", "order_id", "product_id"),
        required=("updated_at",),
        merge_key=("order_line_id",),
    ),
    "bronze_sales.sales_lines": BronzeTable(
        keys=("_source_file",),
        text_keys=("transaction_id", "store_code", "sku"),
        formats={
            "line_number": INTEGER,
            "quantity": INTEGER,
            "unit_price": DECIMAL,
            "discount_amount": DECIMAL,
            "sold_at": TIMESTAMP,
        },
    ),
    "bronze_sales.rejected_lines": BronzeTable(keys=("source_file",)),
    "bronze_sales.delivered_files": BronzeTable(
        # a file that could not be read at all is recorded `rejected`, without a content hash
        keys=("file_name",),
        domains={"status": ("loaded", "duplicate", "rejected")},
    ),
}
"""Known bronze tables; a table that appears by schema drift gets the row count check only."""


def bronze_checks(loads: Sequence[BronzeLoad], thresholds: Thresholds) -> list[Check]:
    """One check per bronze table, over the rows of all the given loads of that table."""
    by_table: dict[tuple[str, str], list[BronzeLoad]] = defaultdict(list)
    for load in loads:
        by_table[(load.dataset, load.table)].append(load)
    checks = []
    for (dataset, table), table_loads in sorted(by_table.items()):
        name = f"{dataset}.{table}"
        contract = BRONZE_CONTRACT.get(name, BronzeTable())
        load_ids = sorted({load.load_id for load in table_loads})
        reported_rows = sum(load.rows for load in table_loads)
        checks.append(
            Check(
                name=name,
                query=select_rows(dataset, table, contract.columns, load_id_filter(load_ids)),
                expectations=tuple(
                    _expectations(
                        contract,
                        reported_rows,
                        thresholds.mostly(reported_rows),
                        # A merged key updated by a later load carries that load's id, so
                        # over several loads a merge table may hold fewer rows than reported.
                        exact_count=len(load_ids) == 1 or not contract.merge_key,
                    )
                ),
            )
        )
    return checks


def _expectations(
    contract: BronzeTable, reported_rows: int, mostly: float, exact_count: bool
) -> list[Any]:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    expectations: list[Any] = [
        gxe.ExpectTableRowCountToEqual(value=reported_rows, severity=FailureSeverity.CRITICAL)
        if exact_count
        else gxe.ExpectTableRowCountToBeBetween(
            min_value=min(reported_rows, 1),
            max_value=reported_rows,
            severity=FailureSeverity.CRITICAL,
        )
    ]
    for column in contract.keys:
        expectations.append(
            gxe.ExpectColumnValuesToNotBeNull(column=column, severity=FailureSeverity.CRITICAL)
        )
    for column in contract.text_keys:
        # An empty CSV field lands as '' on DuckDB and as NULL on PostgreSQL: both count.
        expectations.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column=column, mostly=mostly, severity=FailureSeverity.CRITICAL
            )
        )
        expectations.append(
            gxe.ExpectColumnValuesToMatchRegex(
                column=column, regex=NOT_BLANK, mostly=mostly, severity=FailureSeverity.CRITICAL
            )
        )
    for column in contract.required:
        expectations.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column=column, mostly=mostly, severity=FailureSeverity.CRITICAL
            )
        )
    for column, pattern in contract.formats.items():
        expectations.append(
            gxe.ExpectColumnValuesToMatchRegex(
                column=column, regex=pattern, mostly=mostly, severity=FailureSeverity.CRITICAL
            )
        )
    for column, values in contract.domains.items():
        expectations.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=column,
                value_set=list(values),
                mostly=mostly,
                severity=FailureSeverity.CRITICAL,
            )
        )
    if len(contract.merge_key) == 1:
        expectations.append(
            gxe.ExpectColumnValuesToBeUnique(
                column=contract.merge_key[0], severity=FailureSeverity.CRITICAL
            )
        )
    elif contract.merge_key:
        expectations.append(
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=list(contract.merge_key), severity=FailureSeverity.CRITICAL
            )
        )
    return expectations
