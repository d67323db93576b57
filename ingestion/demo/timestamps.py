"""Vectorised timestamp helpers: random instants within days, formatted as the sources do."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def day_index_to_datetime64(
    first_day: date, day_offsets: np.ndarray, rng: np.random.Generator,
    open_hour: int = 0, close_hour: int = 24,
) -> np.ndarray:
    """One random second within the given hours of each day ``first_day + offset``."""
    base = np.datetime64(first_day, "s") + day_offsets.astype("timedelta64[D]")
    seconds = rng.integers(open_hour * 3600, close_hour * 3600, size=len(day_offsets))
    return base + seconds.astype("timedelta64[s]")


def at_day(day: date | datetime, n: int, rng: np.random.Generator,
           open_hour: int = 0, close_hour: int = 24) -> np.ndarray:
    start = day.date() if isinstance(day, datetime) else day
    return day_index_to_datetime64(start, np.zeros(n, dtype=np.int64), rng, open_hour, close_hour)


def iso_utc(values: np.ndarray) -> pa.Array:
    """``2025-10-03T10:22:11Z``: the CRM API's format."""
    return pc.strftime(pa.array(values.astype("datetime64[s]")), format="%Y-%m-%dT%H:%M:%SZ")


def pos_format(values: np.ndarray) -> pa.Array:
    """``2025-10-03 10:22:11``: the POS export's format."""
    return pc.strftime(pa.array(values.astype("datetime64[s]")), format="%Y-%m-%d %H:%M:%S")


def money_text(cents: np.ndarray) -> pa.Array:
    """Cents as a decimal string with two places (``12.50``, ``-3.05``)."""
    cents = cents.astype(np.int64)
    sign = np.where(cents < 0, "-", "")
    absolute = np.abs(cents)
    whole = pa.array(absolute // 100).cast(pa.string())
    frac = pc.utf8_lpad(pa.array(absolute % 100).cast(pa.string()), width=2, padding="0")
    return pc.binary_join_element_wise(pa.array(sign), whole, pa.scalar("."), frac, "")


def pick_distinct(rng: np.random.Generator, population: int, k: int) -> np.ndarray:
    k = min(k, population)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    return rng.choice(population, size=k, replace=False)
