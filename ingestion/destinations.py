"""dlt destinations, configured from the same environment variables as profiles.yml."""

from __future__ import annotations

from typing import Any

import dlt
from dlt.destinations.impl.postgres.configuration import PostgresCredentials

from ingestion.settings import Paths, postgres_settings

DESTINATIONS = ("duckdb", "postgres")


def make_destination(name: str, paths: Paths) -> Any:
    if name == "duckdb":
        paths.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        return dlt.destinations.duckdb(credentials=str(paths.duckdb_path))
    if name == "postgres":
        settings = postgres_settings()
        credentials = PostgresCredentials()
        credentials.parse_native_representation(settings.dlt_credentials())
        # trust/peer auth has no password; dlt would otherwise treat it as missing
        credentials.password = settings.password
        return dlt.destinations.postgres(credentials=credentials)
    raise ValueError(f"unknown destination {name!r}; choose one of {', '.join(DESTINATIONS)}")
