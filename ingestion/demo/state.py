"""The generator's own bookkeeping: which day the demo is on and the id counters."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path


@dataclass
class DemoState:
    seed: int
    scale: float
    history_days: int
    start_date: str  # business date of day 1 (ISO)
    drift_day: int  # from this day on the CRM sends a new field
    day: int = 0
    next_customer_id: int = 1
    next_product_id: int = 1
    next_order_id: int = 1
    next_order_line_id: int = 1
    next_transaction_seq: int = 1

    def business_date(self, day: int | None = None) -> date:
        """Day 0 is the history window ending the day before ``start_date``."""
        day = self.day if day is None else day
        return date.fromisoformat(self.start_date) + timedelta(days=day - 1)

    def history_start(self) -> date:
        return date.fromisoformat(self.start_date) - timedelta(days=self.history_days)

    def day_start(self, day: int | None = None) -> datetime:
        return datetime.combine(self.business_date(day), time(0, 0))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> DemoState:
        if not path.exists():
            raise FileNotFoundError(
                f"no demo data at {path.parent}: run `python -m ingestion generate` first"
            )
        return cls(**json.loads(path.read_text()))
