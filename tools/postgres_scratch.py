"""Scratch databases on a PostgreSQL server, and the settings that point dlt and dbt at one.

``make bench``'s PostgreSQL builds (``tools/benchmark/postgres.py``) and the integration tests'
PostgreSQL timeline each work in a database of their own, created empty on a server where the
role may create databases and dropped afterwards, whatever happened in between.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


def unreachable_reason(url: str) -> str | None:
    """None when the server answers, else why not (the URL shown without its password)."""
    try:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
        finally:
            engine.dispose()
    except Exception as error:  # noqa: BLE001 - whatever stops the connection, it is not usable
        shown = sa.make_url(url).render_as_string(hide_password=True)
        return f"PostgreSQL is not reachable at {shown} ({error.__class__.__name__})"
    return None


@contextmanager
def scratch_database(url: str, prefix: str) -> Iterator[sa.URL]:
    """A new, empty database named ``<prefix><random>`` on the server of ``url``; dropped
    after, even while something still holds a connection to it."""
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'create database "{name}"'))
        try:
            yield sa.make_url(url).set(database=name)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    finally:
        admin.dispose()


def warehouse_settings(database: sa.URL) -> dict[str, str]:
    """The ``RETAIL_PG_*`` variables (``profiles.yml``'s postgres target and dlt's destination)
    of ``database``."""
    return {"RETAIL_PG_HOST": database.host or "127.0.0.1",
            "RETAIL_PG_PORT": str(database.port or 5432),
            "RETAIL_PG_USER": database.username or "postgres",
            # dlt asks for a password even where the server trusts local users
            "RETAIL_PG_PASSWORD": database.password or "trust",
            "RETAIL_PG_DATABASE": database.database or ""}
