"""ERP source: products, stores, orders and order lines from the ERP database.

dlt's ``sql_database`` source with the pyarrow backend (Arrow batches, not Python rows;
``arrow_loader`` converts the driver's values in Arrow), incremental on ``updated_at`` and
merged on each table's primary key, so bronze holds the latest version of every ERP row.
Works against any SQLAlchemy URL: the demo's SQLite file,
PostgreSQL (``postgresql+psycopg2://``) or MariaDB/MySQL (``mysql+pymysql://``).

Each run re-reads ``lookback_minutes`` before the cursor, so a change stamped earlier than
the cursor (clock skew, a transaction committing late) is still picked up; versions bronze
already holds are dropped before the load (see ``ingestion.lookback``).
"""

from __future__ import annotations

import dlt
from dlt.sources import DltSource
from dlt.sources.sql_database import sql_database

from ingestion.erp.arrow_loader import DriverValuesArrowLoader
from ingestion.lineage import stamp_loaded_at
from ingestion.lookback import BronzeVersions, lag_seconds

CURSOR = "updated_at"

PRIMARY_KEYS: dict[str, str] = {
    "products": "product_id",
    "stores": "store_id",
    "orders": "order_id",
    "order_lines": "order_line_id",
}
"""The ERP tables the source reads, each with its primary key and an ``updated_at`` cursor."""


def erp_source(url: str, lookback_minutes: int = 0, versions: BronzeVersions | None = None,
               chunk_size: int = 100_000) -> DltSource:
    source = sql_database(
        credentials=url,
        table_names=list(PRIMARY_KEYS),
        backend="pyarrow",
        chunk_size=chunk_size,
        reflection_level="full_with_precision",
        table_loader_class=DriverValuesArrowLoader,
    )
    for table, key in PRIMARY_KEYS.items():
        resource = source.resources[table]
        resource.apply_hints(
            primary_key=key,
            write_disposition="merge",
            incremental=dlt.sources.incremental(CURSOR, lag=lag_seconds(lookback_minutes)),
        )
        if versions is not None:
            resource.add_step(versions.skip_held(table, key, CURSOR))
        resource.add_map(stamp_loaded_at())
    return source
