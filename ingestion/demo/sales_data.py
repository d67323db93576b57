"""POS sales lines and the daily CSV exports that land in the sales folder."""

from __future__ import annotations

import io
import re
import shutil
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


def make_pos_lines(
    rng: np.random.Generator, first_seq: int, n_lines: int, first_day: date, n_days: int,
    customer_ids: np.ndarray, customer_first_day: np.ndarray, products: pa.Table,
    store_codes: list[str],
) -> tuple[pa.Table, np.ndarray, int]:
    """Lines of store transactions spread over ``n_days`` from ``first_day``.

    Returns the lines as text, each line's file day offset, and the next transaction number.
    ``customer_first_day`` is the day offset from which each customer may shop.
    """
    n_tx = max(1, int(n_lines / 2.2))
    tx_day = np.sort(rng.integers(0, n_days, n_tx))
    lateness = np.where(rng.random(n_tx) < 0.02, rng.integers(1, 3, n_tx), 0)
    sold = day_index_to_datetime64(first_day, tx_day - lateness, rng, 8, 21)
    returns = rng.random(n_tx) < 0.03
    seq = np.arange(first_seq, first_seq + n_tx, dtype=np.int64)
    tx_id = pc.binary_join_element_wise(
        pa.array(np.where(returns, "R", "T")),
        pc.utf8_lpad(pa.array(seq).cast(pa.string()), width=10, padding="0"), "")

    order = np.argsort(customer_first_day, kind="stable")
    first_days_sorted = customer_first_day[order]
    pool_size = np.searchsorted(first_days_sorted, tx_day - lateness, side="right")
    walk_in = (rng.random(n_tx) < 0.4) | (pool_size == 0)
    pick = (rng.random(n_tx) * np.maximum(pool_size, 1)).astype(np.int64)
    tx_customer = np.where(walk_in, "", customer_ids[order][pick].astype(str))

    per_tx = 1 + np.minimum(rng.poisson(1.2, n_tx), 5)
    tx_of_line = np.repeat(np.arange(n_tx), per_tx)
    m = len(tx_of_line)
    starts = np.repeat(np.cumsum(per_tx) - per_tx, per_tx)
    line_number = np.arange(m) - starts + 1
    product_idx = rng.integers(0, products.num_rows, m)
    price_cents = (np.asarray(products.column("list_price").cast(pa.float64())) * 100).round()
    price = price_cents.astype(np.int64)[product_idx]
    qty = rng.integers(1, 4, m) * np.where(returns[tx_of_line], -1, 1)
    discount = np.where(rng.random(m) < 0.15, np.abs(price * qty) // 10, 0)
    store_idx = rng.integers(0, len(store_codes), n_tx)

    lines = pa.table({
        "transaction_id": pc.take(tx_id, pa.array(tx_of_line)),
        "line_number": pa.array(line_number).cast(pa.string()),
        "store_code": pa.array(np.asarray(store_codes, dtype=object)[store_idx][tx_of_line],
                               pa.string()),
        "customer_id": pa.array(tx_customer[tx_of_line].astype(object), pa.string()),
        "sku": pc.take(products.column("sku"), pa.array(product_idx)),
        "quantity": pa.array(qty).cast(pa.string()),
        "unit_price": money_text(price),
        "discount_amount": money_text(discount),
        "sold_at": pc.take(pos_format(sold), pa.array(tx_of_line)),
        "payment_method": pa.array(
            np.asarray(ref.PAYMENT_METHODS, dtype=object)[
                rng.integers(0, len(ref.PAYMENT_METHODS), n_tx)][tx_of_line], pa.string()),
    })
    return lines, tx_day[tx_of_line], first_seq + n_tx


def plant_sales_flaws(
    rng: np.random.Generator, lines: pa.Table, register: PlantedRegister, rate: float,
) -> tuple[pa.Table, np.ndarray]:
    """Plant one flaw per chosen row, on disjoint rows. Returns the table and the clean mask."""
    n = lines.num_rows
    k = max(1, int(round(n * rate)))
    kinds = ("null_transaction_id", "unparseable_quantity", "unparseable_sold_at",
             "negative_unit_price", "unknown_store", "unknown_sku", "unknown_customer")
    rows = pick_distinct(rng, n, k * len(kinds))
    columns = {name: np.array(lines.column(name).to_pylist(), dtype=object)
               for name in SALES_COLUMNS}
    clean = np.ones(n, dtype=bool)
    for i, kind in enumerate(kinds):
        chosen = rows[i * k:(i + 1) * k]
        clean[chosen] = False
        if kind == "null_transaction_id":
            columns["transaction_id"][chosen] = ""
        elif kind == "unparseable_quantity":
            columns["quantity"][chosen] = [("two", "1,5", "?")[j % 3] for j in range(len(chosen))]
        elif kind == "unparseable_sold_at":
            columns["sold_at"][chosen] = "31/02/2026 25:61"
        elif kind == "negative_unit_price":
            columns["unit_price"][chosen] = ["-" + v for v in columns["unit_price"][chosen]]
        elif kind == "unknown_store":
            columns["store_code"][chosen] = "ST999"
        elif kind == "unknown_sku":
            columns["sku"][chosen] = [f"SKU-9{j:05d}" for j in range(len(chosen))]
        elif kind == "unknown_customer":
            columns["customer_id"][chosen] = [str(UNKNOWN_CUSTOMER_BASE + int(r)) for r in chosen]
        register.record("sales", "sales_lines", kind, len(chosen))
    table = pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
    return table, clean


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
    rng: np.random.Generator, landing_dir: Path, lines: pa.Table, file_day: np.ndarray,
    clean: np.ndarray, first_day: date, n_days: int, register: PlantedRegister,
    malformed_rate: float, duplicate_rate: float, store_codes: list[str],
) -> None:
    """Split the history into one file per day, with repeated lines and malformed lines."""
    candidates = np.flatnonzero(clean & (file_day < n_days - 1))
    duplicates = candidates[pick_distinct(rng, len(candidates),
                                          max(1, int(len(lines) * duplicate_rate)))]
    all_rows = np.concatenate([np.arange(len(lines)), duplicates])
    all_days = np.concatenate([file_day, file_day[duplicates] + 1])
    order = np.argsort(all_days, kind="stable")
    all_rows, all_days = all_rows[order], all_days[order]
    bounds = np.searchsorted(all_days, np.arange(n_days + 1))
    n_malformed = max(1, int(len(lines) * malformed_rate))
    malformed_days = rng.integers(0, n_days, n_malformed)
    for offset in range(n_days):
        day = first_day + timedelta(days=offset)
        rows = all_rows[bounds[offset]:bounds[offset + 1]]
        extra = malformed_lines(rng, int((malformed_days == offset).sum()), day, store_codes[0])
        write_sales_file(landing_dir / sales_file_name(day), lines.take(pa.array(rows)), extra)
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
