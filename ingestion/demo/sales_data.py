"""POS sales lines and the daily CSV exports that land in the sales folder."""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingestion.demo import reference as ref
from ingestion.demo.planted import PlantedRegister
from ingestion.demo.timestamps import day_index_to_datetime64, money_text, pick_distinct, pos_format
from ingestion.sales.reader import parse_sales_csv

SALES_COLUMNS: tuple[str, ...] = (
    "transaction_id", "line_number", "store_code", "customer_id", "sku", "quantity",
    "unit_price", "discount_amount", "sold_at", "payment_method",
)
UNKNOWN_CUSTOMER_BASE = 700_000_000
_CLEAN_QUANTITY = re.compile(r"^-?\d+$")
_CLEAN_SOLD_AT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def sales_file_name(day: date, suffix: str = "") -> str:
    return f"sales_{day.isoformat()}{suffix}.csv"


@dataclass(frozen=True)
class PosDraws:
    """Every random draw behind a run of POS lines, in compact arrays; text is built per slice.

    Holding the draws rather than the finished lines keeps memory small at any scale: the
    text of a slice of lines (a day's file) is made when that slice is written.
    """

    first_seq: int
    tx_day: np.ndarray  # per transaction: file day offset, sorted
    sold: np.ndarray  # per transaction: datetime64[s]
    is_return: np.ndarray  # per transaction
    customer: np.ndarray  # per transaction: customer id, -1 for a walk-in
    store_idx: np.ndarray  # per transaction
    payment_idx: np.ndarray  # per transaction
    line_end: np.ndarray  # per transaction: one past its last line
    product_idx: np.ndarray  # per line
    quantity: np.ndarray  # per line, unsigned (returns are negated when written)
    discounted: np.ndarray  # per line
    store_codes: tuple[str, ...]
    skus: pa.Array
    price_cents: np.ndarray  # per product

    @property
    def n_lines(self) -> int:
        return int(self.line_end[-1]) if len(self.line_end) else 0

    @property
    def next_seq(self) -> int:
        return self.first_seq + len(self.tx_day)

    def tx_of(self, rows: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.line_end, rows, side="right")

    def file_day(self, rows: np.ndarray) -> np.ndarray:
        return self.tx_day[self.tx_of(rows)].astype(np.int64)

    def lines_before_day(self, day_offset: int) -> int:
        """How many lines fall on file days before ``day_offset``."""
        tx = int(np.searchsorted(self.tx_day, day_offset, side="left"))
        return int(self.line_end[tx - 1]) if tx > 0 else 0

    def lines(self, rows: np.ndarray) -> pa.Table:
        """The text of the given lines, in the given order."""
        rows = np.asarray(rows, dtype=np.int64)
        tx = self.tx_of(rows)
        starts = np.where(tx > 0, self.line_end[tx - 1], 0)
        price = self.price_cents[self.product_idx[rows]]
        qty = self.quantity[rows].astype(np.int64) * np.where(self.is_return[tx], -1, 1)
        discount = np.where(self.discounted[rows], np.abs(price * qty) // 10, 0)
        seq = self.first_seq + tx.astype(np.int64)
        customer = self.customer[tx]
        return pa.table({
            "transaction_id": pc.binary_join_element_wise(
                pa.array(np.where(self.is_return[tx], "R", "T")),
                pc.utf8_lpad(pa.array(seq).cast(pa.string()), width=10, padding="0"), ""),
            "line_number": pa.array(rows - starts + 1).cast(pa.string()),
            "store_code": pa.array(np.asarray(self.store_codes, dtype=object)[
                self.store_idx[tx]], pa.string()),
            "customer_id": pc.if_else(pa.array(customer < 0), pa.scalar("", pa.string()),
                                      pa.array(customer).cast(pa.string())),
            "sku": pc.take(self.skus, pa.array(self.product_idx[rows])),
            "quantity": pa.array(qty).cast(pa.string()),
            "unit_price": money_text(price),
            "discount_amount": money_text(discount),
            "sold_at": pos_format(self.sold[tx]),
            "payment_method": pa.array(np.asarray(ref.PAYMENT_METHODS, dtype=object)[
                self.payment_idx[tx]], pa.string()),
        })


def _small_int(values: np.ndarray, top: int) -> np.ndarray:
    """Draws kept in the narrowest integer type that holds ``top``."""
    return values.astype(np.min_scalar_type(-max(top, 1)))


def draw_pos_lines(
    rng: np.random.Generator, first_seq: int, n_lines: int, first_day: date, n_days: int,
    customer_ids: np.ndarray, customer_first_day: np.ndarray, products: pa.Table,
    store_codes: list[str],
) -> PosDraws:
    """Draw store transactions spread over ``n_days`` from ``first_day``.

    ``customer_first_day`` is the day offset from which each customer may shop. The draws
    are made whole-window, in a fixed order, so the lines do not depend on how they are
    later sliced for writing.
    """
    n_tx = max(1, int(n_lines / 2.2))
    tx_day = np.sort(rng.integers(0, n_days, n_tx))
    lateness = np.where(rng.random(n_tx) < 0.02, rng.integers(1, 3, n_tx), 0)
    shop_day = tx_day - lateness
    del lateness
    sold = day_index_to_datetime64(first_day, shop_day, rng, 8, 21)
    is_return = rng.random(n_tx) < 0.03

    order = np.argsort(customer_first_day, kind="stable")
    pool_size = np.searchsorted(customer_first_day[order], shop_day, side="right")
    del shop_day
    walk_in = (rng.random(n_tx) < 0.4) | (pool_size == 0)
    pick = (rng.random(n_tx) * np.maximum(pool_size, 1)).astype(np.int64)
    del pool_size
    customer = np.where(walk_in, -1, customer_ids[order][pick])
    del walk_in, pick, order

    per_tx = 1 + np.minimum(rng.poisson(1.2, n_tx), 5)
    line_end = np.cumsum(per_tx)
    m = int(line_end[-1])
    del per_tx
    n_products = products.num_rows
    product_idx = _small_int(rng.integers(0, n_products, m), n_products)
    quantity = rng.integers(1, 4, m).astype(np.int8)
    discounted = rng.random(m) < 0.15
    store_idx = _small_int(rng.integers(0, len(store_codes), n_tx), len(store_codes))
    payment_idx = rng.integers(0, len(ref.PAYMENT_METHODS), n_tx).astype(np.int8)
    price_cents = (np.asarray(products.column("list_price").cast(pa.float64())) * 100).round()
    return PosDraws(
        first_seq=first_seq, tx_day=tx_day.astype(np.int32), sold=sold,
        is_return=is_return, customer=customer, store_idx=store_idx, payment_idx=payment_idx,
        line_end=line_end, product_idx=product_idx, quantity=quantity, discounted=discounted,
        store_codes=tuple(store_codes), skus=products.column("sku").combine_chunks(),
        price_cents=price_cents.astype(np.int64),
    )


def make_pos_lines(
    rng: np.random.Generator, first_seq: int, n_lines: int, first_day: date, n_days: int,
    customer_ids: np.ndarray, customer_first_day: np.ndarray, products: pa.Table,
    store_codes: list[str],
) -> tuple[pa.Table, np.ndarray, int]:
    """All lines of ``draw_pos_lines`` at once (for a single day's worth).

    Returns the lines as text, each line's file day offset, and the next transaction number.
    """
    draws = draw_pos_lines(rng, first_seq, n_lines, first_day, n_days, customer_ids,
                           customer_first_day, products, store_codes)
    rows = np.arange(draws.n_lines)
    return draws.lines(rows), draws.file_day(rows), draws.next_seq


SALES_FLAW_KINDS: tuple[str, ...] = (
    "null_transaction_id", "unparseable_quantity", "unparseable_sold_at",
    "negative_unit_price", "unknown_store", "unknown_sku", "unknown_customer",
)
_BAD_QUANTITIES = ("two", "1,5", "?")


@dataclass(frozen=True)
class SalesFlaws:
    """The lines chosen for planted flaws: one kind per line, on disjoint lines.

    ``rank`` is a line's place among the lines of its kind (it picks the bad spelling).
    """

    rows: np.ndarray  # sorted
    kind: np.ndarray
    rank: np.ndarray

    def clean(self, n: int) -> np.ndarray:
        mask = np.ones(n, dtype=bool)
        mask[self.rows] = False
        return mask

    def apply(self, lines: pa.Table, rows: np.ndarray) -> pa.Table:
        """Plant the flaws on ``lines``, whose i-th row is line ``rows[i]``."""
        pos = np.searchsorted(self.rows, rows)
        hit = pos < len(self.rows)
        hit[hit] = self.rows[pos[hit]] == rows[hit]
        at = np.flatnonzero(hit)
        if not len(at):
            return lines
        kind, rank, line = self.kind[pos[at]], self.rank[pos[at]], rows[at]
        columns = {name: lines.column(name).combine_chunks() for name in SALES_COLUMNS}
        for code, name in enumerate(SALES_FLAW_KINDS):
            chosen = kind == code
            if not chosen.any():
                continue
            column, values = _flaw_values(name, columns, at[chosen], rank[chosen],
                                          line[chosen])
            mask = np.zeros(len(rows), dtype=bool)
            mask[at[chosen]] = True
            columns[column] = pc.replace_with_mask(columns[column], pa.array(mask),
                                                   pa.array(values, pa.string()))
        return pa.table(columns)


def _flaw_values(kind: str, columns: dict[str, pa.Array], at: np.ndarray, rank: np.ndarray,
                 line: np.ndarray) -> tuple[str, list[str]]:
    """The column a flaw kind spoils and the bad values for the given rows."""
    n = len(at)
    if kind == "null_transaction_id":
        return "transaction_id", [""] * n
    if kind == "unparseable_quantity":
        return "quantity", [_BAD_QUANTITIES[j % 3] for j in rank]
    if kind == "unparseable_sold_at":
        return "sold_at", ["31/02/2026 25:61"] * n
    if kind == "negative_unit_price":
        prices = columns["unit_price"].take(pa.array(at)).to_pylist()
        return "unit_price", ["-" + v for v in prices]
    if kind == "unknown_store":
        return "store_code", ["ST999"] * n
    if kind == "unknown_sku":
        return "sku", [f"SKU-9{j:05d}" for j in rank]
    if kind == "unknown_customer":
        return "customer_id", [str(UNKNOWN_CUSTOMER_BASE + int(r)) for r in line]
    raise ValueError(kind)


def draw_sales_flaws(rng: np.random.Generator, n: int, register: PlantedRegister,
                     rate: float) -> SalesFlaws:
    """Choose the lines (out of ``n``) that get a planted flaw, and record them."""
    k = max(1, int(round(n * rate)))
    picked = pick_distinct(rng, n, k * len(SALES_FLAW_KINDS))
    kind = np.zeros(len(picked), dtype=np.int8)
    rank = np.zeros(len(picked), dtype=np.int64)
    for code, name in enumerate(SALES_FLAW_KINDS):
        chosen = slice(code * k, (code + 1) * k)
        kind[chosen] = code
        rank[chosen] = np.arange(len(picked[chosen]))
        register.record("sales", "sales_lines", name, len(picked[chosen]))
    order = np.argsort(picked)
    return SalesFlaws(rows=picked[order].astype(np.int64), kind=kind[order], rank=rank[order])


def plant_sales_flaws(
    rng: np.random.Generator, lines: pa.Table, register: PlantedRegister, rate: float,
) -> tuple[pa.Table, np.ndarray]:
    """Plant one flaw per chosen row, on disjoint rows. Returns the table and the clean mask."""
    flaws = draw_sales_flaws(rng, lines.num_rows, register, rate)
    return flaws.apply(lines, np.arange(lines.num_rows)), flaws.clean(lines.num_rows)


def malformed_lines(rng: np.random.Generator, n: int, day: date, store_code: str) -> list[str]:
    """Lines with one field too many, as a broken POS export writes them."""
    return [
        f"M{int(rng.integers(10**8, 10**9))},1,{store_code},,SKU-000001,1,9.99,0.00,"
        f"{day.isoformat()} 12:00:00,card,unexpected trailing field"
        for _ in range(n)
    ]


def write_sales_file(path: Path, lines: pa.Table, extra_raw_lines: list[str]) -> None:
    """Write atomically: a landing folder must never show a half-written file."""
    buffer = io.BytesIO()
    pacsv.write_csv(lines.select(list(SALES_COLUMNS)), buffer,
                    pacsv.WriteOptions(quoting_style="needed"))
    payload = buffer.getvalue()
    if extra_raw_lines:
        payload += ("\n".join(extra_raw_lines) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.partial"
    tmp.write_bytes(payload)
    tmp.replace(path)


def read_sales_file(path: Path) -> pa.Table:
    return parse_sales_csv(path.read_bytes(), path.name).lines


def clean_rows_of(lines: pa.Table, store_codes: list[str]) -> np.ndarray:
    """Rows of an earlier file without planted flaws (used to plant duplicates of good lines)."""
    known_stores = set(store_codes)
    rows = zip(lines.column("transaction_id").to_pylist(), lines.column("quantity").to_pylist(),
               lines.column("sold_at").to_pylist(), lines.column("unit_price").to_pylist(),
               lines.column("store_code").to_pylist(), strict=True)
    return np.array([
        bool(tx) and bool(_CLEAN_QUANTITY.match(q)) and bool(_CLEAN_SOLD_AT.match(s))
        and not p.startswith("-") and code in known_stores
        for tx, q, s, p, code in rows
    ], dtype=bool)


def write_history_files(
    rng: np.random.Generator, landing_dir: Path, draws: PosDraws, flaws: SalesFlaws,
    first_day: date, n_days: int, register: PlantedRegister, malformed_rate: float,
    duplicate_rate: float, store_codes: list[str],
) -> None:
    """Split the history into one file per day, with repeated lines and malformed lines.

    Each file's lines are made as it is written, so only one day's text is in memory.
    """
    n_lines = draws.n_lines
    # Repeat clean lines of every day but the last in the next day's file. Candidates are
    # counted without listing them: the i-th clean line is i plus the flawed lines before it.
    before_last = draws.lines_before_day(n_days - 1)
    flawed = flaws.rows[flaws.rows < before_last]
    picked = pick_distinct(rng, before_last - len(flawed), max(1, int(n_lines * duplicate_rate)))
    duplicates = picked + np.searchsorted(flawed - np.arange(len(flawed)), picked, side="right")
    duplicate_day = draws.file_day(duplicates) + 1
    day_bounds = [draws.lines_before_day(offset) for offset in range(n_days + 1)]
    n_malformed = max(1, int(n_lines * malformed_rate))
    malformed_days = rng.integers(0, n_days, n_malformed)
    for offset in range(n_days):
        day = first_day + timedelta(days=offset)
        rows = np.concatenate([np.arange(day_bounds[offset], day_bounds[offset + 1]),
                               duplicates[duplicate_day == offset]])
        extra = malformed_lines(rng, int((malformed_days == offset).sum()), day, store_codes[0])
        write_sales_file(landing_dir / sales_file_name(day),
                         flaws.apply(draws.lines(rows), rows), extra)
    register.record("sales", "sales_lines", "duplicate_line", len(duplicates))
    register.record("sales", "sales_lines", "malformed_row", n_malformed)


def write_daily_file(
    rng: np.random.Generator, landing_dir: Path, lines: pa.Table, day: date,
    register: PlantedRegister, malformed_rate: float, duplicate_rate: float,
    store_codes: list[str], redeliver_previous: bool,
) -> None:
    """Today's export: today's lines, a few repeated from yesterday's file, broken lines."""
    previous = landing_dir / sales_file_name(day - timedelta(days=1))
    parts = [lines]
    if previous.exists():
        earlier = read_sales_file(previous)
        candidates = np.flatnonzero(clean_rows_of(earlier, store_codes))
        chosen = candidates[pick_distinct(rng, len(candidates),
                                          max(1, int(len(lines) * duplicate_rate)))]
        parts.append(earlier.select(list(SALES_COLUMNS)).take(pa.array(np.sort(chosen))))
        register.record("sales", "sales_lines", "duplicate_line", len(chosen))
    n_malformed = max(1, int(len(lines) * malformed_rate))
    write_sales_file(landing_dir / sales_file_name(day), pa.concat_tables(parts),
                     malformed_lines(rng, n_malformed, day, store_codes[0]))
    register.record("sales", "sales_lines", "malformed_row", n_malformed)
    if redeliver_previous and previous.exists():
        shutil.copyfile(previous, landing_dir / sales_file_name(day - timedelta(days=1),
                                                                 "_resend"))
        register.record("sales", "delivered_files", "duplicate_file", 1)
