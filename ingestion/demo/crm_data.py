"""CRM customers: new sign-ups, moves, tier changes, soft and hard deletes, planted flaws."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingestion.demo import reference as ref
from ingestion.demo.planted import PlantedRegister
from ingestion.demo.timestamps import at_day, day_index_to_datetime64, iso_utc, pick_distinct

CUSTOMERS_FILE = "customers.parquet"
DELETIONS_FILE = "deletions.parquet"


CHUNK_ROWS = 100_000
"""New customers are turned into text this many at a time, to bound memory at any scale."""


def _pick(rng: np.random.Generator, options: tuple[str, ...], n: int) -> np.ndarray:
    return rng.integers(0, len(options), size=n).astype(np.int8)


def _choice(rng: np.random.Generator, options: tuple[str, ...], n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), size=n)]


def _messy_case(roll: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mostly title case; some upper, some lower, some padded with spaces."""
    out = np.where(roll < 0.7, np.char.title(values.astype(str)), values.astype(str))
    out = np.where((roll >= 0.7) & (roll < 0.8), np.char.upper(out), out)
    out = np.where(roll >= 0.95, np.char.add(np.char.add("  ", out), " "), out)
    return out.astype(object)


def _phones(country_idx: np.ndarray, subscriber: np.ndarray, style: np.ndarray) -> np.ndarray:
    """International (+cc), 00-prefixed and national spellings of valid numbers."""
    n = len(country_idx)
    codes = np.array([c.calling_code for c in ref.COUNTRIES], dtype=object)[country_idx]
    trunk = np.array([c.national_trunk for c in ref.COUNTRIES])[country_idx]
    numbers = subscriber.astype(str).astype(object)
    phones = np.empty(n, dtype=object)
    for i in range(n):
        number, code = numbers[i], codes[i]
        if style[i] == 0:
            phones[i] = f"+{code} {number}"
        elif style[i] == 1:
            phones[i] = f"00{code}{number}"
        elif code == "1":
            phones[i] = f"({number[:3]}) {number[3:6]}-{number[6:]}"
        elif trunk[i]:
            phones[i] = f"0{number[:3]} {number[3:]}"
        else:
            phones[i] = f"{number[:3]} {number[3:6]} {number[6:]}"
    return phones


@dataclass
class CustomerBatch:
    table: pa.Table

    @property
    def ids(self) -> np.ndarray:
        return self.table.column("customer_id").to_numpy()


def _draw_customers(rng: np.random.Generator, n: int, first_day: date, day_offsets: np.ndarray,
                    with_channel_preference: bool) -> dict[str, np.ndarray]:
    """Every random draw behind ``n`` new customers, in a fixed order, in compact arrays."""
    draws: dict[str, np.ndarray] = {}
    draws["first"] = _pick(rng, ref.FIRST_NAMES, n)
    draws["last"] = _pick(rng, ref.LAST_NAMES, n)
    draws["country"] = _pick(rng, tuple(c.iso2 for c in ref.COUNTRIES), n)
    draws["spelling"] = rng.integers(0, 4, size=n).astype(np.int8)
    draws["city"] = rng.integers(0, 5, size=n).astype(np.int8)
    draws["domain"] = _pick(rng, ref.EMAIL_DOMAINS, n)
    draws["email_title"] = rng.random(n) < 0.25
    draws["email_space"] = rng.random(n) < 0.05
    draws["created"] = day_index_to_datetime64(first_day, day_offsets, rng, 7, 23)
    draws["tier"] = _pick(rng, ref.LOYALTY_TIERS, n)
    draws["tier_upper"] = rng.random(n) < 0.2
    if with_channel_preference:
        draws["channel"] = _pick(rng, ref.CHANNEL_PREFERENCES, n)
    draws["first_case"] = rng.random(n)
    draws["last_case"] = rng.random(n)
    north_american = rng.integers(2_000_000_000, 9_999_999_999, size=n)
    elsewhere = rng.integers(200_000_000, 999_999_999, size=n)
    # North American numbers have ten digits, the others nine after the trunk prefix.
    draws["subscriber"] = np.where(
        np.array([c.calling_code == "1" for c in ref.COUNTRIES])[draws["country"]],
        north_american, elsewhere)
    del north_american, elsewhere
    draws["phone_style"] = rng.integers(0, 3, size=n).astype(np.int8)
    draws["house"] = rng.integers(1, 300, size=n).astype(np.int16)
    draws["postal"] = rng.integers(10000, 99999, size=n).astype(np.int32)
    draws["opt_in"] = rng.random(n) < 0.6
    return draws


def _customer_rows(draws: dict[str, np.ndarray], ids: np.ndarray, rows: slice) -> pa.Table:
    """The text of one slice of new customers."""
    d = {name: values[rows] for name, values in draws.items()}
    ids = ids[rows]
    n = len(ids)
    countries = ref.COUNTRIES
    first = np.asarray(ref.FIRST_NAMES, dtype=object)[d["first"]]
    last = np.asarray(ref.LAST_NAMES, dtype=object)[d["last"]]
    spelling = np.array(
        [countries[c].spellings[s % len(countries[c].spellings)]
         for c, s in zip(d["country"], d["spelling"], strict=True)], dtype=object)
    city = np.array([countries[c].cities[s % len(countries[c].cities)]
                     for c, s in zip(d["country"], d["city"], strict=True)], dtype=object)
    local = np.char.add(np.char.add(np.char.replace(first.astype(str), " ", ""), "."),
                        np.char.replace(np.char.replace(last.astype(str), " ", ""), "'", ""))
    local = np.char.add(local, ids.astype(str))
    domain = np.asarray(ref.EMAIL_DOMAINS, dtype=object)[d["domain"]]
    email = np.char.add(np.char.add(local, "@"), domain.astype(str))
    email = np.where(d["email_title"], np.char.title(email), email)
    email = np.where(d["email_space"], np.char.add(" ", email), email)
    tiers = np.asarray(ref.LOYALTY_TIERS, dtype=object)[d["tier"]].astype(str)
    tiers = np.where(d["tier_upper"], np.char.upper(tiers), tiers)
    created_text = iso_utc(d["created"])
    channel = (np.asarray(ref.CHANNEL_PREFERENCES, dtype=object)[d["channel"]]
               if "channel" in d else None)
    return pa.table({
        "customer_id": pa.array(ids),
        "first_name": pa.array(_messy_case(d["first_case"], first), pa.string()),
        "last_name": pa.array(_messy_case(d["last_case"], last), pa.string()),
        "email": pa.array(email.astype(object), pa.string()),
        "phone": pa.array(_phones(d["country"], d["subscriber"], d["phone_style"]),
                          pa.string()),
        "address_line": pa.array(np.char.add(d["house"].astype(str),
                                             " Market Street").astype(object), pa.string()),
        "city": pa.array(city, pa.string()),
        "postal_code": pa.array(d["postal"].astype(str).astype(object), pa.string()),
        "country": pa.array(spelling, pa.string()),
        "loyalty_tier": pa.array(tiers.astype(object), pa.string()),
        "marketing_opt_in": pa.array(d["opt_in"]),
        "created_at": created_text,
        "updated_at": created_text,
        "is_deleted": pa.array(np.zeros(n, dtype=bool)),
        "preferred_channel": pa.array(channel, pa.string()) if channel is not None
        else pa.nulls(n, pa.string()),
    })


def new_customers(
    rng: np.random.Generator, first_id: int, n: int, first_day: date, day_offsets: np.ndarray,
    with_channel_preference: bool,
) -> pa.Table:
    """``n`` new customers from ``first_id``, created ``day_offsets`` days after ``first_day``.

    All draws are made first (so the data does not depend on the chunk size), then the text
    is built ``CHUNK_ROWS`` customers at a time.
    """
    draws = _draw_customers(rng, n, first_day, day_offsets, with_channel_preference)
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    parts = [_customer_rows(draws, ids, slice(start, start + CHUNK_ROWS))
             for start in range(0, n, CHUNK_ROWS)]
    if not parts:
        parts = [_customer_rows(draws, ids, slice(0, 0))]
    return pa.concat_tables(parts).combine_chunks()


def plant_customer_flaws(
    rng: np.random.Generator, table: pa.Table, register: PlantedRegister, rate: float,
) -> pa.Table:
    """Invalid emails, unparseable phones and unknown countries on disjoint new rows."""
    n = table.num_rows
    k = max(1, int(round(n * rate))) if n >= 3 else 0
    rows = pick_distinct(rng, n, 3 * k)
    bad_email, bad_phone, bad_country = rows[:k], rows[k:2 * k], rows[2 * k:3 * k]
    emails = table.column("email").take(pa.array(bad_email)).to_pylist()
    planted = {
        "email": (bad_email, [e.replace("@", "(at)") for e in emails]),
        "phone": (bad_phone, [["n/a", "12-34", "call me"][i % 3]
                              for i in range(len(bad_phone))]),
        "country": (bad_country, [ref.UNKNOWN_COUNTRY_SPELLING] * len(bad_country)),
    }
    register.record("crm", "customers", "invalid_email", len(bad_email))
    register.record("crm", "customers", "unparseable_phone", len(bad_phone))
    register.record("crm", "customers", "unknown_country", len(bad_country))
    for name, (chosen, values) in planted.items():
        if not len(chosen):
            continue
        # replace_with_mask takes the new values in row order
        order = np.argsort(chosen)
        mask = np.zeros(n, dtype=bool)
        mask[chosen] = True
        table = _replace(table, name, pc.replace_with_mask(
            table.column(name).combine_chunks(), pa.array(mask),
            pa.array([values[i] for i in order], pa.string())))
    return table


def _replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def apply_daily_changes(
    rng: np.random.Generator, current: pa.Table, day: date, with_channel_preference: bool,
) -> tuple[pa.Table, pa.Table]:
    """Moves, tier changes and soft/hard deletes. Returns (customers, hard-deleted rows)."""
    n = current.num_rows
    alive = ~current.column("is_deleted").to_numpy(zero_copy_only=False)
    alive_idx = np.flatnonzero(alive)
    changes = pick_distinct(rng, len(alive_idx), max(2, int(n * 0.012)))
    changed = alive_idx[changes]
    quarter = max(1, len(changed) // 4)
    movers, tier_changers = changed[:quarter * 2], changed[quarter * 2:quarter * 3 + 1]
    soft_deleted = changed[quarter * 3 + 1:quarter * 3 + 1 + max(1, quarter // 8)]
    hard_deleted = changed[-max(1, quarter // 16):]

    city = np.array(current.column("city").to_pylist(), dtype=object)
    address = np.array(current.column("address_line").to_pylist(), dtype=object)
    postal = np.array(current.column("postal_code").to_pylist(), dtype=object)
    tier = np.array(current.column("loyalty_tier").to_pylist(), dtype=object)
    deleted = current.column("is_deleted").to_numpy(zero_copy_only=False).copy()
    updated = np.array(current.column("updated_at").to_pylist(), dtype=object)
    channel = np.array(current.column("preferred_channel").to_pylist(), dtype=object)

    all_cities = [c for country in ref.COUNTRIES for c in country.cities]
    city[movers] = [all_cities[i] for i in rng.integers(0, len(all_cities), len(movers))]
    address[movers] = [f"{i} Station Road" for i in rng.integers(1, 500, len(movers))]
    postal[movers] = rng.integers(10000, 99999, len(movers)).astype(str)
    tier[tier_changers] = _choice(rng, ref.LOYALTY_TIERS, len(tier_changers))
    deleted[soft_deleted] = True
    touched = np.unique(np.concatenate([movers, tier_changers, soft_deleted]))
    updated[touched] = np.asarray(iso_utc(at_day(day, len(touched), rng, 6, 22)).to_pylist())
    if with_channel_preference:
        channel[touched] = _choice(rng, ref.CHANNEL_PREFERENCES, len(touched))

    table = _replace(current, "city", pa.array(city, pa.string()))
    table = _replace(table, "address_line", pa.array(address, pa.string()))
    table = _replace(table, "postal_code", pa.array(postal, pa.string()))
    table = _replace(table, "loyalty_tier", pa.array(tier, pa.string()))
    table = _replace(table, "is_deleted", pa.array(deleted))
    table = _replace(table, "updated_at", pa.array(updated, pa.string()))
    table = _replace(table, "preferred_channel", pa.array(channel, pa.string()))

    keep = np.ones(n, dtype=bool)
    keep[hard_deleted] = False
    removed_ids = current.column("customer_id").to_numpy()[hard_deleted]
    deletions = pa.table({
        "customer_id": pa.array(removed_ids),
        "deleted_at": iso_utc(at_day(day, len(removed_ids), rng, 22, 24)),
    })
    return table.filter(pa.array(keep)), deletions


def _read(path: Path) -> pa.Table:
    # ParquetFile rather than read_table: read_table imports pyarrow.dataset (~0.2 s), a cost
    # the in-process CRM stand-in would add to every ingest for one plain file
    return pq.ParquetFile(path).read()


def read_customers(crm_dir: Path) -> pa.Table:
    return _read(crm_dir / CUSTOMERS_FILE)


def read_deletions(crm_dir: Path) -> pa.Table:
    path = crm_dir / DELETIONS_FILE
    if not path.exists():
        return pa.table({"customer_id": pa.array([], pa.int64()),
                         "deleted_at": pa.array([], pa.string())})
    return _read(path)


def write_crm(crm_dir: Path, customers: pa.Table, deletions: pa.Table) -> None:
    crm_dir.mkdir(parents=True, exist_ok=True)
    for name, table in ((CUSTOMERS_FILE, customers), (DELETIONS_FILE, deletions)):
        tmp = crm_dir / f".{name}.tmp"
        pq.write_table(table, tmp)
        tmp.replace(crm_dir / name)


def customers_created_by(customers: pa.Table, day_end_iso: str) -> np.ndarray:
    """Ids of customers that exist (created, not deleted) by the given instant."""
    mask = pc.less_equal(customers.column("created_at"), day_end_iso)
    return customers.filter(mask).column("customer_id").to_numpy()
