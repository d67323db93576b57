"""The ERP's tables, declared once so SQLite, PostgreSQL and MariaDB get the same shape."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

products = sa.Table(
    "products", metadata,
    sa.Column("product_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sku", sa.String(32), nullable=False),
    sa.Column("product_name", sa.String(200), nullable=False),
    sa.Column("category", sa.String(100)),
    sa.Column("brand", sa.String(100)),
    sa.Column("unit_cost", sa.Numeric(12, 2)),
    sa.Column("list_price", sa.Numeric(12, 2)),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False, index=True),
)

stores = sa.Table(
    "stores", metadata,
    sa.Column("store_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("store_code", sa.String(16), nullable=False),
    sa.Column("store_name", sa.String(200), nullable=False),
    sa.Column("store_type", sa.String(16), nullable=False),
    sa.Column("region", sa.String(50)),
    sa.Column("city", sa.String(100)),
    sa.Column("country", sa.String(2)),
    sa.Column("opened_on", sa.Date),
    sa.Column("updated_at", sa.DateTime, nullable=False, index=True),
)

orders = sa.Table(
    "orders", metadata,
    sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("customer_id", sa.Integer),
    sa.Column("store_id", sa.Integer, nullable=False),
    sa.Column("order_status", sa.String(16), nullable=False, index=True),
    sa.Column("ordered_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False, index=True),
)

order_lines = sa.Table(
    "order_lines", metadata,
    sa.Column("order_line_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("order_id", sa.Integer, nullable=False),
    sa.Column("product_id", sa.Integer, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", sa.Numeric(12, 2)),
    sa.Column("discount_amount", sa.Numeric(12, 2)),
    sa.Column("updated_at", sa.DateTime, nullable=False, index=True),
)


ORDER_FLOW: dict[str, str] = {"placed": "paid", "paid": "shipped", "shipped": "delivered"}
OPEN_STATUSES = tuple(ORDER_FLOW)
