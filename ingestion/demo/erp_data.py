"""ERP data: products, stores, online orders and their lines, and the daily changes to them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa
import sqlalchemy as sa

from ingestion.demo import erp_schema as erp
from ingestion.demo import reference as ref
from ingestion.demo.planted import PlantedRegister
from ingestion.demo.timestamps import at_day, day_index_to_datetime64, pick_distinct

WEB_STORE_ID = 1
ORPHAN_ORDER_BASE = 900_000_000
UNKNOWN_PRODUCT_BASE = 800_000_000


@dataclass(frozen=True)
class Sizes:
    customers: int
    products: int
    physical_stores: int
    history_orders: int
    history_pos_lines: int

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        return cls(
            customers=max(100, int(10_000 * scale)),
            products=max(50, int(1_000 * scale ** 0.5)),
            physical_stores=max(4, int(25 * scale ** 0.5)),
            history_orders=max(100, int(16_000 * scale)),
            history_pos_lines=max(2_000, int(160_000 * scale)),
        )


def _cents_to_decimal(cents: np.ndarray) -> pa.Array:
    return pa.array(cents.astype(np.int64) / 100.0).cast(pa.decimal128(12, 2))


def make_products(rng: np.random.Generator, first_id: int, n: int, updated_at: datetime,
                  ) -> pa.Table:
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    labels = [label for _, label in ref.CATEGORY_LABELS]
    brand_idx = rng.integers(0, len(ref.BRANDS), n)
    noun_idx = rng.integers(0, len(ref.PRODUCT_NOUNS), n)
    cost = rng.integers(150, 15_000, n)
    price = (cost * rng.uniform(1.3, 2.4, n)).round().astype(np.int64)
    return pa.table({
        "product_id": pa.array(ids),
        "sku": pa.array([f"SKU-{i:06d}" for i in ids]),
        "product_name": pa.array([f"{ref.BRANDS[b]} {ref.PRODUCT_NOUNS[k]} {i}"
                                  for b, k, i in zip(brand_idx, noun_idx, ids, strict=True)]),
        "category": pa.array([labels[i] for i in rng.integers(0, len(labels), n)]),
        "brand": pa.array([ref.BRANDS[b] for b in brand_idx]),
        "unit_cost": _cents_to_decimal(cost),
        "list_price": _cents_to_decimal(price),
        "is_active": pa.array(np.ones(n, dtype=bool)),
        # distinct stamps, as an ERP writes them row by row
        "updated_at": pa.array(np.datetime64(updated_at, "s")
                               + rng.permutation(n).astype("timedelta64[s]")),
    })


def make_stores(rng: np.random.Generator, n_physical: int, opened_before: date,
                updated_at: datetime) -> pa.Table:
    rows = [{
        "store_id": WEB_STORE_ID, "store_code": "WEB", "store_name": "Web shop",
        "store_type": "online", "region": "Online", "city": None, "country": "GB",
        "opened_on": opened_before - timedelta(days=2_000), "updated_at": updated_at,
    }]
    for i in range(n_physical):
        country = ref.COUNTRIES[int(rng.integers(0, len(ref.COUNTRIES)))]
        city = country.cities[int(rng.integers(0, len(country.cities)))]
        store_id = i + 2
        rows.append({
            "store_id": store_id, "store_code": f"ST{store_id:03d}",
            "store_name": f"{city} {store_id}", "store_type": "physical",
            "region": f"{country.iso2}-{country.regions[i % len(country.regions)]}",
            "city": city, "country": country.iso2,
            "opened_on": opened_before - timedelta(days=int(rng.integers(30, 3_000))),
            "updated_at": updated_at,
        })
    return pa.Table.from_pylist(rows)


ORDER_STATUSES: tuple[str, ...] = (
    "placed", "paid", "shipped", "delivered", "cancelled", "returned")
INSERT_BATCH = 50_000


@dataclass(frozen=True)
class OrderDraws:
    """Every random draw behind a run of online orders and their lines, in compact arrays.

    The tables are built a slice at a time (``orders``/``lines``), so a long history is
    written to the database without ever being held whole.
    """

    first_order_id: int
    first_line_id: int
    ordered: np.ndarray  # per order: datetime64[s]
    updated: np.ndarray  # per order: datetime64[s]
    customer: np.ndarray  # per order
    guest: np.ndarray  # per order
    status: np.ndarray  # per order: index into ORDER_STATUSES
    line_end: np.ndarray  # per order: one past its last line
    product_idx: np.ndarray  # per line
    quantity: np.ndarray  # per line
    discounted: np.ndarray  # per line
    product_ids: np.ndarray
    list_cents: np.ndarray  # per product

    @property
    def n_orders(self) -> int:
        return len(self.ordered)

    @property
    def n_lines(self) -> int:
        return int(self.line_end[-1]) if len(self.line_end) else 0

    def orders(self, start: int = 0, stop: int | None = None) -> pa.Table:
        rows = slice(start, self.n_orders if stop is None else stop)
        return pa.table({
            "order_id": pa.array(self.first_order_id
                                 + np.arange(self.n_orders, dtype=np.int64)[rows]),
            "customer_id": pa.array(self.customer[rows], mask=self.guest[rows]),
            "store_id": pa.array(np.full(len(self.ordered[rows]), WEB_STORE_ID,
                                         dtype=np.int64)),
            "order_status": pa.array(np.asarray(ORDER_STATUSES, dtype=object)[
                self.status[rows]], pa.string()),
            "ordered_at": pa.array(self.ordered[rows]),
            "updated_at": pa.array(self.updated[rows]),
        })

    def lines(self, start: int = 0, stop: int | None = None) -> pa.Table:
        stop = self.n_lines if stop is None else min(stop, self.n_lines)
        line = np.arange(start, stop, dtype=np.int64)
        order = np.searchsorted(self.line_end, line, side="right")
        product_idx = self.product_idx[line]
        price = self.list_cents[product_idx].astype(np.int64)
        qty = self.quantity[line].astype(np.int64)
        discount = np.where(self.discounted[line], (price * qty * 0.1).round(), 0
                            ).astype(np.int64)
        return pa.table({
            "order_line_id": pa.array(self.first_line_id + line),
            "order_id": pa.array(self.first_order_id + order.astype(np.int64)),
            "product_id": pa.array(self.product_ids[product_idx]),
            "quantity": pa.array(qty),
            "unit_price": _cents_to_decimal(price),
            "discount_amount": _cents_to_decimal(discount),
            "updated_at": pa.array(self.ordered[order]),
        })


def draw_orders(
    rng: np.random.Generator, first_order_id: int, first_line_id: int, customer_ids: np.ndarray,
    first_day: date, day_offsets: np.ndarray, products: pa.Table, as_of: datetime,
) -> OrderDraws:
    """Orders placed on the given days (one offset per order) with 1-5 lines each."""
    n = len(day_offsets)
    ordered = day_index_to_datetime64(first_day, day_offsets, rng, 0, 24)
    guest = rng.random(n) < 0.05
    customer = customer_ids[rng.integers(0, len(customer_ids), n)] if len(customer_ids) else \
        np.zeros(n, dtype=np.int64)
    age_days = (np.datetime64(as_of, "s") - ordered).astype("timedelta64[D]").astype(np.int64)
    roll = rng.random(n)
    code = {name: np.int8(i) for i, name in enumerate(ORDER_STATUSES)}
    status = np.where(age_days >= 5,
                      np.where(roll < 0.88, code["delivered"],
                               np.where(roll < 0.94, code["cancelled"], code["returned"])),
                      np.where(age_days >= 3, code["shipped"],
                               np.where(age_days >= 1, code["paid"], code["placed"])))
    del roll
    progress = (rng.random(n) * np.clip(age_days, 0, 6) * 86_400).astype("timedelta64[s]")
    updated = np.minimum(ordered + progress, np.datetime64(as_of, "s"))
    del progress, age_days

    line_end = np.cumsum(1 + np.minimum(rng.poisson(1.5, n), 4))
    m = int(line_end[-1]) if n else 0
    product_idx = rng.integers(0, products.num_rows, m).astype(np.int32)
    quantity = rng.integers(1, 4, m).astype(np.int8)
    discounted = rng.random(m) < 0.2
    return OrderDraws(
        first_order_id=first_order_id, first_line_id=first_line_id, ordered=ordered,
        updated=updated, customer=customer, guest=guest, status=status.astype(np.int8),
        line_end=line_end, product_idx=product_idx, quantity=quantity, discounted=discounted,
        product_ids=products.column("product_id").to_numpy(),
        list_cents=(np.asarray(products.column("list_price").cast(pa.float64())) * 100
                    ).round(),
    )


def make_orders(
    rng: np.random.Generator, first_order_id: int, first_line_id: int, customer_ids: np.ndarray,
    first_day: date, day_offsets: np.ndarray, products: pa.Table, as_of: datetime,
) -> tuple[pa.Table, pa.Table]:
    """``draw_orders`` as two whole tables (for a day's worth)."""
    draws = draw_orders(rng, first_order_id, first_line_id, customer_ids, first_day,
                        day_offsets, products, as_of)
    return draws.orders(), draws.lines()


@dataclass(frozen=True)
class OrderLineFlaws:
    """Lines (by position) given a negative quantity, a missing order or an unknown product."""

    negative: np.ndarray
    negative_qty: np.ndarray
    orphan: np.ndarray
    unknown: np.ndarray

    def apply(self, lines: pa.Table, start: int = 0) -> pa.Table:
        """Plant the flaws on ``lines``, whose first row is line ``start``."""
        stop = start + lines.num_rows
        line_id = lines.column("order_line_id").to_numpy()
        qty = lines.column("quantity").to_numpy().copy()
        order_id = lines.column("order_id").to_numpy().copy()
        product_id = lines.column("product_id").to_numpy().copy()
        here = (self.negative >= start) & (self.negative < stop)
        qty[self.negative[here] - start] = self.negative_qty[here]
        orphan = self.orphan[(self.orphan >= start) & (self.orphan < stop)] - start
        order_id[orphan] = ORPHAN_ORDER_BASE + line_id[orphan]
        unknown = self.unknown[(self.unknown >= start) & (self.unknown < stop)] - start
        product_id[unknown] = UNKNOWN_PRODUCT_BASE + line_id[unknown]
        for name, values in (("quantity", qty), ("order_id", order_id),
                             ("product_id", product_id)):
            lines = lines.set_column(lines.schema.get_field_index(name), name, pa.array(values))
        return lines


def draw_order_line_flaws(rng: np.random.Generator, n: int, register: PlantedRegister,
                          rate: float) -> OrderLineFlaws:
    """Choose the lines (out of ``n``) to spoil, on disjoint lines, and record them."""
    k = max(1, int(round(n * rate)))
    rows = pick_distinct(rng, n, 3 * k)
    negative, orphan, unknown = rows[:k], rows[k:2 * k], rows[2 * k:3 * k]
    negative_qty = -rng.integers(1, 3, len(negative))
    register.record("erp", "order_lines", "negative_quantity", len(negative))
    register.record("erp", "order_lines", "orphan_order_line", len(orphan))
    register.record("erp", "order_lines", "unknown_product", len(unknown))
    return OrderLineFlaws(negative, negative_qty, orphan, unknown)


def plant_order_line_flaws(rng: np.random.Generator, lines: pa.Table,
                           register: PlantedRegister, rate: float) -> pa.Table:
    """Negative quantities, lines of orders that do not exist, unknown products."""
    return draw_order_line_flaws(rng, lines.num_rows, register, rate).apply(lines)


def insert_rows(engine: sa.Engine, table: sa.Table, rows: pa.Table | Iterable[pa.Table],
                batch: int = INSERT_BATCH) -> None:
    """Insert in one transaction; ``rows`` may be a stream of tables made as they are needed."""
    parts = [rows] if isinstance(rows, pa.Table) else rows
    with engine.begin() as conn:
        for part in parts:
            for chunk in part.to_batches(max_chunksize=batch):
                conn.execute(table.insert(), chunk.to_pylist())


def create_erp(engine: sa.Engine) -> None:
    """Create the tables in the order they are declared, each followed by its indexes by name.

    ``create_all`` walks each table's indexes as a set, in an order that changes from one
    interpreter to the next, which made the SQLite file differ between runs of one seed.
    """
    erp.metadata.drop_all(engine)
    with engine.begin() as conn:
        for table in erp.metadata.tables.values():
            conn.execute(sa.schema.CreateTable(table))
            for index in sorted(table.indexes, key=lambda index: str(index.name)):
                conn.execute(sa.schema.CreateIndex(index))


def advance_order_statuses(engine: sa.Engine, rng: np.random.Generator, day: date) -> int:
    """Move open orders one step on (placed → paid → shipped → delivered), a few to returned."""
    orders = erp.orders
    with engine.begin() as conn:
        open_rows = conn.execute(
            sa.select(orders.c.order_id, orders.c.order_status)
            .where(orders.c.order_status.in_(erp.OPEN_STATUSES))
            .order_by(orders.c.order_id)
        ).all()
        recent: list[int] = list(conn.execute(
            sa.select(orders.c.order_id)
            .where(orders.c.order_status == "delivered")
            .where(orders.c.updated_at >= datetime.combine(day, datetime.min.time())
                   - timedelta(days=14))
            .order_by(orders.c.order_id)
        ).scalars().all())
        moving = [r for r, roll in zip(open_rows, rng.random(len(open_rows)), strict=True)
                  if roll < 0.7]
        returning = [o for o, roll in zip(recent, rng.random(len(recent)), strict=True)
                     if roll < 0.02]
        stamps = at_day(day, len(moving) + len(returning), rng, 6, 22)
        params = [
            {"b_id": order_id, "b_status": erp.ORDER_FLOW[str(status)],
             "b_at": stamps[i].item()}
            for i, (order_id, status) in enumerate(moving)
        ] + [
            {"b_id": order_id, "b_status": "returned", "b_at": stamps[len(moving) + i].item()}
            for i, order_id in enumerate(returning)
        ]
        if params:
            conn.execute(
                sa.update(orders).where(orders.c.order_id == sa.bindparam("b_id"))
                .values(order_status=sa.bindparam("b_status"), updated_at=sa.bindparam("b_at")),
                params,
            )
    return len(params)


def change_products(engine: sa.Engine, rng: np.random.Generator, day: date) -> int:
    """Price changes for ~2% of products and re-categorisation for ~0.5%."""
    products = erp.products
    labels = [label for _, label in ref.CATEGORY_LABELS]
    with engine.begin() as conn:
        current = conn.execute(
            sa.select(products.c.product_id, products.c.list_price, products.c.category)
            .order_by(products.c.product_id)
        ).all()
        n = len(current)
        repriced = pick_distinct(rng, n, max(1, int(n * 0.02)))
        recategorised = pick_distinct(rng, n, max(1, int(n * 0.005)))
        stamp = at_day(day, 1, rng, 5, 7)[0].item()
        factors = rng.uniform(0.85, 1.15, len(repriced))
        price_params = [
            {"b_id": current[i][0], "b_price": round(float(current[i][1]) * float(f), 2),
             "b_at": stamp}
            for i, f in zip(repriced, factors, strict=True)
        ]
        category_params = [
            {"b_id": current[i][0], "b_cat": labels[int(rng.integers(0, len(labels)))],
             "b_at": stamp}
            for i in recategorised
        ]
        conn.execute(
            sa.update(products).where(products.c.product_id == sa.bindparam("b_id"))
            .values(list_price=sa.bindparam("b_price"), updated_at=sa.bindparam("b_at")),
            price_params,
        )
        conn.execute(
            sa.update(products).where(products.c.product_id == sa.bindparam("b_id"))
            .values(category=sa.bindparam("b_cat"), updated_at=sa.bindparam("b_at")),
            category_params,
        )
    return len(price_params) + len(category_params)


def change_stores(engine: sa.Engine, rng: np.random.Generator, day: date) -> int:
    """Now and then a store is moved to another region or renamed."""
    if rng.random() >= 0.5:
        return 0
    stores = erp.stores
    with engine.begin() as conn:
        ids: list[int] = list(conn.execute(
            sa.select(stores.c.store_id).where(stores.c.store_type == "physical")
            .order_by(stores.c.store_id)
        ).scalars().all())
        store_id = ids[int(rng.integers(0, len(ids)))]
        conn.execute(
            sa.update(stores).where(stores.c.store_id == store_id).values(
                region=stores.c.country + "-Central",
                store_name=f"Store {store_id} (refit {day.isoformat()})",
                updated_at=at_day(day, 1, rng, 4, 6)[0].item(),
            )
        )
    return 1


def read_products(engine: sa.Engine) -> pa.Table:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(erp.products.c.product_id, erp.products.c.sku, erp.products.c.list_price)
            .order_by(erp.products.c.product_id)
        ).all()
    return pa.table({
        "product_id": pa.array([r[0] for r in rows], pa.int64()),
        "sku": pa.array([r[1] for r in rows], pa.string()),
        "list_price": pa.array([float(r[2]) for r in rows], pa.float64()).cast(
            pa.decimal128(12, 2)),
    })


def read_store_codes(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(
            sa.select(erp.stores.c.store_code).where(erp.stores.c.store_type == "physical")
            .order_by(erp.stores.c.store_id)
        ).scalars().all())
