"""The register of bad rows the generator planted on purpose, for tests to check against."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

# kind -> how the platform must handle it (see ingestion/README.md)
HANDLING: dict[str, str] = {
    "malformed_row": "rejected_at_ingest",
    "duplicate_file": "skipped_at_ingest",
    "duplicate_line": "counted_duplicate",
    "null_transaction_id": "quarantine:null_key",
    "unparseable_quantity": "quarantine:unparseable_quantity",
    "unparseable_sold_at": "quarantine:unparseable_date",
    "negative_unit_price": "quarantine:impossible_amount",
    "unknown_store": "unknown_member:store",
    "unknown_sku": "unknown_member:product",
    "unknown_customer": "unknown_member:customer",
    "negative_quantity": "quarantine:impossible_quantity",
    "orphan_order_line": "quarantine:orphan_order",
    "unknown_product": "unknown_member:product",
    "invalid_email": "flagged:email",
    "unparseable_phone": "flagged:phone",
    "unknown_country": "flagged:country",
}


@dataclass(frozen=True)
class PlantedBatch:
    day: int
    source: str
    table: str
    kind: str
    count: int
    handling: str


class PlantedRegister:
    """Collects the counts for one day and appends them to ``planted.json``."""

    def __init__(self, day: int) -> None:
        self.day = day
        self.batches: list[PlantedBatch] = []

    def record(self, source: str, table: str, kind: str, count: int) -> None:
        if count <= 0:
            return
        self.batches.append(
            PlantedBatch(self.day, source, table, kind, int(count), HANDLING[kind])
        )

    def append_to(self, path: Path) -> None:
        existing = read_planted(path)
        existing = [b for b in existing if b.day != self.day]
        rows = [asdict(b) for b in existing + self.batches]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows, indent=1))


def read_planted(path: Path) -> list[PlantedBatch]:
    if not path.exists():
        return []
    return [PlantedBatch(**row) for row in json.loads(path.read_text())]


def planted_totals(path: Path) -> dict[str, int]:
    """Total planted rows per kind over every day so far."""
    totals: dict[str, int] = {}
    for batch in read_planted(path):
        totals[batch.kind] = totals.get(batch.kind, 0) + batch.count
    return totals
