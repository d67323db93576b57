"""Re-read a look-back window before each cursor without landing the same version twice.

A change whose ``updated_at`` is older than the cursor (a clock running behind, a long
transaction that commits late) would be skipped by a plain ``updated_at >= cursor`` read.
The ERP and CRM cursors therefore step back ``RETAIL_ERP_LOOKBACK_MINUTES`` (dlt's
incremental ``lag``) on every run. Rows re-read that way whose version (primary key and
cursor value) bronze already holds are dropped before the load, so re-reading adds no rows
and no load; a late change has a version bronze does not hold yet and lands (ERP: merged by
primary key; CRM: appended as a new version).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.extract.items_transform import ItemTransform

# The warehouse may hand timestamps back in another zone than the source sends them; the
# bronze lookup starts this much earlier and the exact match is done in Python.
_ZONE_SLACK = timedelta(days=1)

Version = tuple[Any, datetime]


class SkipHeldVersions(ItemTransform[Any, dict[str, Any]]):
    """Sees a whole page or Arrow batch at once, so bronze is asked once per page."""

    def __call__(self, item: Any, meta: Any = None) -> Any:
        return self._f(item)


def lag_seconds(minutes: int) -> float | None:
    """dlt's incremental ``lag`` for a datetime cursor, in seconds (None: no look-back)."""
    return float(minutes * 60) if minutes else None


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


class BronzeVersions:
    """The versions bronze already holds, read through the pipeline the source runs in."""

    def __init__(self) -> None:
        self._pipeline: dlt.Pipeline | None = None
        self.skipped_rows = 0

    def bind(self, pipeline: dlt.Pipeline) -> None:
        self._pipeline = pipeline
        self.skipped_rows = 0

    def held(self, table: str, key: str, cursor: str, since: datetime) -> set[Version]:
        if self._pipeline is None or self._pipeline.default_schema_name is None:
            return set()
        try:
            with self._pipeline.sql_client() as client:
                rows = client.execute_sql(
                    f"select {client.escape_column_name(key)}, "
                    f"{client.escape_column_name(cursor)} "
                    f"from {client.make_qualified_table_name(table)} "
                    f"where {client.escape_column_name(cursor)} >= %s",
                    since - _ZONE_SLACK)
        except DatabaseUndefinedRelation:
            return set()  # the first load: nothing landed yet
        return {(row[0], stamp) for row in rows or [] if (stamp := _utc(row[1])) is not None}

    def skip_held(self, table: str, key: str, cursor: str) -> SkipHeldVersions:
        """A pipe step dropping rows whose version bronze already holds (Arrow or dict rows)."""

        def step(item: Any) -> Any:
            if isinstance(item, pa.Table | pa.RecordBatch):
                return self._skip_in_arrow(item, table, key, cursor)
            rows = item if isinstance(item, list) else [item]
            kept = self._skip_in_dicts(rows, table, key, cursor)
            if not kept:
                return None
            return kept if isinstance(item, list) else kept[0]

        return SkipHeldVersions(step)

    def _skip_in_dicts(self, rows: list[dict[str, Any]], table: str, key: str, cursor: str
                       ) -> list[dict[str, Any]]:
        versions = [(row.get(key), _utc(row.get(cursor))) for row in rows]
        held = self._held_for(table, key, cursor, (stamp for _, stamp in versions))
        if not held:
            return rows
        kept = [row for row, version in zip(rows, versions, strict=True) if version not in held]
        self.skipped_rows += len(rows) - len(kept)
        return kept

    def _skip_in_arrow(self, batch: pa.Table | pa.RecordBatch, table: str, key: str,
                       cursor: str) -> pa.Table | pa.RecordBatch:
        if batch.num_rows == 0:
            return batch
        first = _utc(pc.min(batch.column(cursor)).as_py())
        held = self._held_for(table, key, cursor, [first])
        if not held:
            return batch
        versions = zip(batch.column(key).to_pylist(), batch.column(cursor).to_pylist(),
                       strict=True)
        keep = pa.array([(k, _utc(stamp)) not in held for k, stamp in versions], pa.bool_())
        kept = batch.filter(keep)
        self.skipped_rows += batch.num_rows - kept.num_rows
        return kept

    def _held_for(self, table: str, key: str, cursor: str,
                  stamps: Iterable[datetime | None]) -> set[Version]:
        present = [stamp for stamp in stamps if stamp is not None]
        if not present:
            return set()
        return self.held(table, key, cursor, min(present))
