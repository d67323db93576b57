"""Data-quality thresholds of the gates, from environment variables.

``RETAIL_DQ_BRONZE_MIN_VALID`` (0.99), ``RETAIL_DQ_BRONZE_TOLERATED`` (5) and
``RETAIL_DQ_GOLD_MIN_ROWS`` (1), listed with every other variable in the README.

The generator plants about 0.1 % bad rows per kind on purpose, and at least one per kind
and day; silver quarantines them. So the bronze gate lets them through and stops only
when a load is clearly broken (a file with shifted columns, an export with empty keys):
a column fails when more than ``1 - min_valid`` of the rows **and** more than
``tolerated`` rows are bad. A daily file of 80 lines with one planted bad value passes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """Bounds used by the suites."""

    bronze_min_valid: float = 0.99
    bronze_tolerated_rows: int = 5
    gold_min_rows: int = 1

    def mostly(self, rows: int) -> float:
        """GX ``mostly`` for a column of a load of ``rows`` rows."""
        if rows <= 0:
            return self.bronze_min_valid
        allowed_bad = max((1.0 - self.bronze_min_valid) * rows, float(self.bronze_tolerated_rows))
        return max(0.0, min(self.bronze_min_valid, 1.0 - allowed_bad / rows))


def load_thresholds() -> Thresholds:
    """Read the thresholds from the environment, validating their range."""
    min_valid = float(os.environ.get("RETAIL_DQ_BRONZE_MIN_VALID", "0.99"))
    if not 0.0 <= min_valid <= 1.0:
        raise ValueError(f"RETAIL_DQ_BRONZE_MIN_VALID must be within 0..1, not {min_valid}")
    tolerated = int(os.environ.get("RETAIL_DQ_BRONZE_TOLERATED", "5"))
    min_rows = int(os.environ.get("RETAIL_DQ_GOLD_MIN_ROWS", "1"))
    return Thresholds(
        bronze_min_valid=min_valid,
        bronze_tolerated_rows=max(tolerated, 0),
        gold_min_rows=max(min_rows, 0),
    )
