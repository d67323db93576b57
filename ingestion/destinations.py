"""dlt destinations, configured from the same environment variables as profiles.yml.

duckdb and postgres are the demo's local warehouses. databricks and synapse are the cloud
targets; both load best through a staging bucket, which dlt passes to the pipeline as a
separate `staging` destination (see `make_staging`).

databricks (Unity Catalog; same variables as the dbt profile):
    RETAIL_DATABRICKS_HOST         workspace host, e.g. adb-123.4.azuredatabricks.net
    RETAIL_DATABRICKS_HTTP_PATH    SQL warehouse or cluster HTTP path
    RETAIL_DATABRICKS_CATALOG      catalog the bronze_* schemas are created in
    RETAIL_DATABRICKS_TOKEN        personal access token, or instead OAuth M2M with
    RETAIL_DATABRICKS_CLIENT_ID / RETAIL_DATABRICKS_CLIENT_SECRET  (a service principal)
    RETAIL_DATABRICKS_STAGING_VOLUME  optional catalog.schema.volume that load files are
                                   copied through; without it dlt uses its default volume
    With an external bucket instead of a volume set RETAIL_STAGING_BUCKET_URL
    (s3://..., az://..., abfss://..., gs://...) and the bucket's credentials in dlt's own
    variables (DESTINATION__FILESYSTEM__CREDENTIALS__AZURE_STORAGE_ACCOUNT_NAME /
    ..._AZURE_STORAGE_ACCOUNT_KEY, or ..._AWS_ACCESS_KEY_ID / ..._AWS_SECRET_ACCESS_KEY);
    the workspace needs an external location or storage credential that can read it
    (RETAIL_DATABRICKS_STAGING_CREDENTIALS names it; otherwise dlt forwards the keys).

synapse (dedicated SQL pool through the Microsoft ODBC Driver 18 for SQL Server):
    RETAIL_SYNAPSE_SERVER          <workspace>.sql.azuresynapse.net
    RETAIL_SYNAPSE_PORT            1433 by default
    RETAIL_SYNAPSE_DATABASE        the dedicated pool
    RETAIL_SYNAPSE_AUTHENTICATION  ServicePrincipal (default): RETAIL_SYNAPSE_CLIENT_ID /
                                   RETAIL_SYNAPSE_CLIENT_SECRET of an Entra service
                                   principal; or SqlPassword: RETAIL_SYNAPSE_USER /
                                   RETAIL_SYNAPSE_PASSWORD
    RETAIL_STAGING_BUCKET_URL      az://<container> or abfss://<container>@<account>.dfs.core.windows.net
                                   in the workspace's storage account; Synapse then loads
                                   with COPY INTO instead of row inserts. With
                                   RETAIL_SYNAPSE_STAGING_USE_MSI=1 the pool reads the
                                   bucket with its managed identity, otherwise with the
                                   account key given in dlt's filesystem variables.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any

import dlt
from dlt.destinations.impl.postgres.configuration import PostgresCredentials

from ingestion.settings import Paths, postgres_settings

DESTINATIONS = ("duckdb", "postgres", "databricks", "synapse")

SYNAPSE_ODBC_DRIVER = "ODBC Driver 18 for SQL Server"


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
    if name == "databricks":
        return databricks_destination()
    if name == "synapse":
        return synapse_destination()
    raise ValueError(f"unknown destination {name!r}; choose one of {', '.join(DESTINATIONS)}")


def destination_identity(name: str, paths: Paths) -> str:
    """Which warehouse a destination is: the DuckDB file, or the server and database."""
    if name == "duckdb":
        return f"duckdb:{paths.duckdb_path.expanduser().resolve()}"
    if name == "postgres":
        pg = postgres_settings()
        return f"postgres:{pg.host}:{pg.port}/{pg.database}"
    if name == "databricks":
        return (f"databricks:{_env('RETAIL_DATABRICKS_HOST', '')}/"
                f"{_env('RETAIL_DATABRICKS_CATALOG', 'retail')}")
    if name == "synapse":
        return (f"synapse:{_env('RETAIL_SYNAPSE_SERVER', '')}:"
                f"{_env('RETAIL_SYNAPSE_PORT', '1433')}/"
                f"{_env('RETAIL_SYNAPSE_DATABASE', 'retail')}")
    raise ValueError(f"unknown destination {name!r}; choose one of {', '.join(DESTINATIONS)}")


def state_folder_name(name: str, paths: Paths) -> str:
    """A readable, short folder name unique to one warehouse: ``duckdb-retail-1a2b3c4d``.

    dlt keeps its cursors and file lists in a working folder; one folder per warehouse means
    a new warehouse gets a full initial load and switching back continues incrementally.
    """
    identity = destination_identity(name, paths)
    if name == "duckdb":
        label = paths.duckdb_path.stem
    elif name == "postgres":
        label = postgres_settings().database
    else:
        label = identity.rsplit("/", 1)[-1]
    readable = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40] or "warehouse"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:8]
    return f"{name}-{readable}-{digest}"


def make_staging(name: str) -> Any | None:
    """The staging bucket a cloud destination loads through, or None to load directly."""
    bucket_url = _env("RETAIL_STAGING_BUCKET_URL")
    if name not in ("databricks", "synapse") or bucket_url is None:
        return None
    return dlt.destinations.filesystem(bucket_url=bucket_url)


def databricks_destination() -> Any:
    credentials = _present({
        "server_hostname": _env("RETAIL_DATABRICKS_HOST"),
        "http_path": _env("RETAIL_DATABRICKS_HTTP_PATH"),
        "catalog": _env("RETAIL_DATABRICKS_CATALOG", "retail"),
        "access_token": _env("RETAIL_DATABRICKS_TOKEN"),
        "client_id": _env("RETAIL_DATABRICKS_CLIENT_ID"),
        "client_secret": _env("RETAIL_DATABRICKS_CLIENT_SECRET"),
    })
    options: dict[str, Any] = {}
    if _env("RETAIL_DATABRICKS_STAGING_VOLUME"):
        options["staging_volume_name"] = _env("RETAIL_DATABRICKS_STAGING_VOLUME")
    if _env("RETAIL_DATABRICKS_STAGING_CREDENTIALS"):
        options["staging_credentials_name"] = _env("RETAIL_DATABRICKS_STAGING_CREDENTIALS")
        options["is_staging_external_location"] = True
    return dlt.destinations.databricks(credentials=credentials, **options)


def synapse_destination() -> Any:
    if _env("RETAIL_SYNAPSE_AUTHENTICATION", "ServicePrincipal") == "ServicePrincipal":
        login = {
            "username": _env("RETAIL_SYNAPSE_CLIENT_ID"),
            "password": _env("RETAIL_SYNAPSE_CLIENT_SECRET"),
            "query": {"authentication": "ActiveDirectoryServicePrincipal"},
        }
    else:
        login = {
            "username": _env("RETAIL_SYNAPSE_USER"),
            "password": _env("RETAIL_SYNAPSE_PASSWORD"),
        }
    credentials = _present({
        "host": _env("RETAIL_SYNAPSE_SERVER"),
        "port": int(_env("RETAIL_SYNAPSE_PORT", "1433") or "1433"),
        "database": _env("RETAIL_SYNAPSE_DATABASE", "retail"),
        "driver": _env("RETAIL_SYNAPSE_DRIVER", SYNAPSE_ODBC_DRIVER),
        **login,
    })
    return dlt.destinations.synapse(
        credentials=credentials,
        staging_use_msi=_env("RETAIL_SYNAPSE_STAGING_USE_MSI") == "1",
    )


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """Only the settings that are given; dlt resolves the rest from its own config."""
    return {key: value for key, value in values.items() if value is not None}


def _env(name: str, default: str | None = None) -> str | None:
    """An environment variable, with empty values treated as unset."""
    return os.environ.get(name) or default
