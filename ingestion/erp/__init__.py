"""ERP source: products, stores, orders and order lines from the ERP database.

dlt's ``sql_database`` source with the pyarrow backend (Arrow batches, not Python rows),
incremental on ``updated_at`` and merged on each table's primary key, so bronze holds the
latest version of every ERP row. Works against any SQLAlchemy URL: the demo's SQLite file,
PostgreSQL (``postgresql+psycopg2://``) or MariaDB/MySQL (``mysql+pymysql://``).
"""

from __future__ import annotations

import dlt
from dlt.sources import DltSource
from dlt.sources.sql_database import sql_database

from ingestion.demo.erp_schema import PRIMARY_KEYS
from ingestion.lineage import stamp_loaded_at


def erp_source(url: str, chunk_size: int = 100_000) -> DltSource:
    source = sql_database(
        credentials=url,
        table_names=list(PRIMARY_KEYS),
        backend="pyarrow",
        chunk_size=chunk_size,
        reflection_level="full_with_precision",
    )
    for table, key in PRIMARY_KEYS.items():
        resource = source.resources[table]
        resource.apply_hints(
            primary_key=key,
            write_disposition="merge",
            incremental=dlt.sources.incremental("updated_at"),
        )
        resource.add_map(stamp_loaded_at())
    return source
