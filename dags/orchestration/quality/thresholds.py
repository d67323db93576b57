"""Data-quality thresholds of the two gates, read from ``dbt_project.yml``.

Every threshold of the platform is a var of ``dbt_project.yml`` (its ``vars:`` block says what
each one means): dbt's tests read them with ``var()``, and the Airflow gates read the same
file here, so there is one set of thresholds and one place to change them.

The generator plants about 0.1 % bad rows per kind on purpose, and at least one per kind
and day; silver quarantines them. So the bronze gate lets them through and stops only
when a load is clearly broken (a file with shifted columns, an export with empty keys):
a column fails when more than ``1 - dq_bronze_min_valid`` of the rows **and** more than
``dq_bronze_tolerated_rows`` rows are bad. A daily file of 80 lines with one planted bad
value passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ThresholdError(ValueError):
    """A threshold in ``dbt_project.yml`` is missing or out of its range."""


@dataclass(frozen=True)
class Thresholds:
    """Bounds used by the suites (defaults: the values ``dbt_project.yml`` ships with)."""

    bronze_min_valid: float = 0.99
    bronze_tolerated_rows: int = 5
    recent_days: int = 7
    daily_min_ratio: float = 0.5
    daily_max_ratio: float = 2.0

    def mostly(self, rows: int) -> float:
        """GX ``mostly`` for a column of a load of ``rows`` rows."""
        if rows <= 0:
            return self.bronze_min_valid
        allowed_bad = max((1.0 - self.bronze_min_valid) * rows, float(self.bronze_tolerated_rows))
        return max(0.0, min(self.bronze_min_valid, 1.0 - allowed_bad / rows))


def load_thresholds(project_dir: Path | None = None) -> Thresholds:
    """Read the thresholds from the project's ``dbt_project.yml``, validating their range."""
    import yaml

    if project_dir is None:
        from orchestration.settings import load_settings

        project_dir = load_settings().project_dir
    project_file = project_dir / "dbt_project.yml"
    variables = (yaml.safe_load(project_file.read_text()) or {}).get("vars") or {}
    min_ratio = _number(variables, "dq_daily_min_ratio", 0.0, 1.0, project_file)
    return Thresholds(
        bronze_min_valid=_number(variables, "dq_bronze_min_valid", 0.0, 1.0, project_file),
        bronze_tolerated_rows=int(
            _number(variables, "dq_bronze_tolerated_rows", 0, 1_000_000, project_file)
        ),
        recent_days=int(_number(variables, "dq_recent_days", 1, 366, project_file)),
        daily_min_ratio=min_ratio,
        daily_max_ratio=_number(variables, "dq_daily_max_ratio", max(min_ratio, 1.0), 1_000.0,
                                project_file),
    )


def _number(variables: dict[str, Any], name: str, low: float, high: float, source: Path) -> float:
    value = variables.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ThresholdError(
            f"var {name} in {source.name} is {value!r}: set it to a number from {low:g} to "
            f"{high:g}"
        )
    return float(value)
