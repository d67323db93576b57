"""Generate day 0 of the demo and advance it day by day, deterministically."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as dt_time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from ingestion.demo import crm_data, erp_data, sales_data
from ingestion.demo import erp_schema as erp
from ingestion.demo.erp_data import Sizes
from ingestion.demo.planted import PlantedRegister
from ingestion.demo.sources import demo_erp_url
from ingestion.demo.state import DemoState
from ingestion.settings import Paths

CRM_FLAW_RATE = 0.01
ERP_FLAW_RATE = 0.002
SALES_FLAW_RATE = 0.001
DUPLICATE_LINE_RATE = 0.002
MALFORMED_RATE = 0.0005

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def _erp_engine(paths: Paths) -> sa.Engine:
    paths.erp_sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(demo_erp_url(paths))


def _reset_demo_dir(paths: Paths) -> None:
    for sub in (paths.crm_dir, paths.erp_sqlite_path.parent, paths.landing_dir):
        if sub.exists():
            shutil.rmtree(sub)
    for file in (paths.state_path, paths.planted_path):
        file.unlink(missing_ok=True)


def generate(paths: Paths, scale: float, seed: int, history_days: int = 90,
             start_date: str = "2026-01-01", drift_day: int = 2,
             progress: Progress = _quiet) -> DemoState:
    """Write day 0: CRM customers, the ERP database and one sales file per history day."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    started = time.perf_counter()
    _reset_demo_dir(paths)
    state = DemoState(seed=seed, scale=scale, history_days=history_days,
                      start_date=start_date, drift_day=drift_day)
    sizes = Sizes.for_scale(scale)
    rng = np.random.default_rng([seed, 0])
    register = PlantedRegister(day=0)
    first_day = state.history_start()
    history_end = state.day_start(1)

    # Most customers predate the window; the rest sign up during it.
    n = sizes.customers
    created_offsets = np.sort(np.where(rng.random(n) < 0.6, rng.integers(-730, 0, n),
                                       rng.integers(0, history_days, n)))
    customers = crm_data.new_customers(rng, 1, n, first_day, created_offsets,
                                       with_channel_preference=False)
    customers = crm_data.plant_customer_flaws(rng, customers, register, CRM_FLAW_RATE)
    crm_data.write_crm(paths.crm_dir, customers, crm_data.read_deletions(paths.crm_dir))
    state.next_customer_id = n + 1
    progress(f"crm: {n:,} customers")

    engine = _erp_engine(paths)
    erp_data.create_erp(engine)
    products = erp_data.make_products(rng, 1, sizes.products,
                                      datetime.combine(first_day, dt_time()))
    stores = erp_data.make_stores(rng, sizes.physical_stores, first_day,
                                  datetime.combine(first_day, dt_time()))
    erp_data.insert_rows(engine, erp.products, products)
    erp_data.insert_rows(engine, erp.stores, stores)
    state.next_product_id = sizes.products + 1
    customer_ids = customers.column("customer_id").to_numpy()
    order_days = rng.integers(0, history_days, sizes.history_orders)
    orders = erp_data.draw_orders(rng, 1, 1, customer_ids, first_day, order_days, products,
                                  history_end)
    del order_days
    line_flaws = erp_data.draw_order_line_flaws(rng, orders.n_lines, register, ERP_FLAW_RATE)
    erp_data.insert_rows(engine, erp.orders, (
        orders.orders(start, start + erp_data.INSERT_BATCH)
        for start in range(0, orders.n_orders, erp_data.INSERT_BATCH)))
    erp_data.insert_rows(engine, erp.order_lines, (
        line_flaws.apply(orders.lines(start, start + erp_data.INSERT_BATCH), start)
        for start in range(0, orders.n_lines, erp_data.INSERT_BATCH)))
    engine.dispose()
    state.next_order_id = orders.n_orders + 1
    state.next_order_line_id = orders.n_lines + 1
    progress(f"erp: {products.num_rows:,} products, {stores.num_rows} stores, "
             f"{orders.n_orders:,} orders, {orders.n_lines:,} order lines")
    del orders, line_flaws

    store_codes = [c for c in stores.column("store_code").to_pylist() if c != "WEB"]
    draws = sales_data.draw_pos_lines(
        rng, 1, sizes.history_pos_lines, first_day, history_days, customer_ids,
        created_offsets, products, store_codes)
    state.next_transaction_seq = draws.next_seq
    flaws = sales_data.draw_sales_flaws(rng, draws.n_lines, register, SALES_FLAW_RATE)
    sales_data.write_history_files(rng, paths.landing_dir, draws, flaws, first_day, history_days,
                                   register, MALFORMED_RATE, DUPLICATE_LINE_RATE, store_codes)
    progress(f"sales: {draws.n_lines:,} lines in {history_days} daily files")

    state.save(paths.state_path)
    register.append_to(paths.planted_path)
    progress(f"day 0 ({first_day} .. {history_end.date() - timedelta(days=1)}) "
             f"generated in {time.perf_counter() - started:.1f} s")
    return state


def advance(paths: Paths, days: int, progress: Progress = _quiet) -> DemoState:
    """Apply ``days`` daily increments to all three sources."""
    state = DemoState.load(paths.state_path)
    for _ in range(days):
        state.day += 1
        _advance_one_day(paths, state, progress)
        state.save(paths.state_path)
    return state


def _advance_one_day(paths: Paths, state: DemoState, progress: Progress) -> None:
    started = time.perf_counter()
    rng = np.random.default_rng([state.seed, state.day])
    register = PlantedRegister(day=state.day)
    day = state.business_date()
    sizes = Sizes.for_scale(state.scale)
    drifted = state.day >= state.drift_day

    current = crm_data.read_customers(paths.crm_dir)
    changed, removed = crm_data.apply_daily_changes(rng, current, day, drifted)
    n_new = max(5, int(sizes.customers * 0.005))
    joined = crm_data.new_customers(rng, state.next_customer_id, n_new, day,
                                    np.zeros(n_new, dtype=np.int64), drifted)
    joined = crm_data.plant_customer_flaws(rng, joined, register, CRM_FLAW_RATE)
    state.next_customer_id += n_new
    customers = pa.concat_tables([changed, joined])
    deletions = pa.concat_tables([crm_data.read_deletions(paths.crm_dir), removed])
    crm_data.write_crm(paths.crm_dir, customers, deletions)

    engine = _erp_engine(paths)
    changes = erp_data.change_products(engine, rng, day)
    changes += erp_data.change_stores(engine, rng, day)
    changes += erp_data.advance_order_statuses(engine, rng, day)
    products = erp_data.read_products(engine)
    alive = customers.filter(pc.invert(customers.column("is_deleted")))
    alive_ids = alive.column("customer_id").to_numpy()
    n_orders = max(3, sizes.history_orders // state.history_days)
    # A few orders reach the ERP a day or two after they were placed.
    order_days = -np.where(rng.random(n_orders) < 0.05, rng.integers(1, 3, n_orders), 0)
    orders, lines = erp_data.make_orders(rng, state.next_order_id, state.next_order_line_id,
                                         alive_ids, day, order_days, products,
                                         state.day_start(state.day + 1))
    orders = orders.set_column(
        orders.schema.get_field_index("updated_at"), "updated_at",
        pa.array(np.maximum(orders.column("ordered_at").to_numpy(),
                            np.datetime64(state.day_start(), "s"))))
    lines = lines.set_column(lines.schema.get_field_index("updated_at"), "updated_at",
                             pa.array(np.full(lines.num_rows, np.datetime64(
                                 state.day_start() + timedelta(hours=23), "s"))))
    lines = erp_data.plant_order_line_flaws(rng, lines, register, ERP_FLAW_RATE)
    orders = orders.set_column(orders.schema.get_field_index("order_status"), "order_status",
                               pa.array(["placed"] * orders.num_rows))
    erp_data.insert_rows(engine, erp.orders, orders)
    erp_data.insert_rows(engine, erp.order_lines, lines)
    store_codes = erp_data.read_store_codes(engine)
    engine.dispose()
    state.next_order_id += orders.num_rows
    state.next_order_line_id += lines.num_rows

    pos, _, state.next_transaction_seq = sales_data.make_pos_lines(
        rng, state.next_transaction_seq, sizes.history_pos_lines // state.history_days, day, 1,
        alive_ids, np.zeros(len(alive_ids), dtype=np.int64), products, store_codes)
    pos, _ = sales_data.plant_sales_flaws(rng, pos, register, SALES_FLAW_RATE)
    sales_data.write_daily_file(rng, paths.landing_dir, pos, day, register, MALFORMED_RATE,
                                DUPLICATE_LINE_RATE, store_codes,
                                redeliver_previous=state.day >= 2)
    register.append_to(paths.planted_path)
    progress(f"day {state.day} ({day}): {n_new} new customers, {removed.num_rows} deleted, "
             f"{orders.num_rows} orders, {changes} ERP updates, {pos.num_rows:,} POS lines "
             f"in {time.perf_counter() - started:.1f} s")
