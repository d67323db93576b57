"""Lineage columns every bronze row carries besides dlt's own ``_dlt_load_id``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

LOADED_AT = "_loaded_at"


def stamp_loaded_at(loaded_at: datetime | None = None) -> Callable[[Any], Any]:
    """A map step adding ``_loaded_at`` to dict rows and to Arrow tables alike."""
    moment = loaded_at or datetime.now(UTC)

    def add(item: Any) -> Any:
        if isinstance(item, pa.Table | pa.RecordBatch):
            column = pa.repeat(pa.scalar(moment, pa.timestamp("us", tz="UTC")), item.num_rows)
            if isinstance(item, pa.RecordBatch):
                item = pa.Table.from_batches([item])
            return item.append_column(LOADED_AT, column)
        return {**item, LOADED_AT: moment}

    return add
