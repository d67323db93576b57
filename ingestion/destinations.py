"""dlt destinations, configured from the same environment variables as profiles.yml.

duckdb and postgres are the demo's local warehouses. DuckDB keeps what a load writes in
memory up to its memory limit (80 % of the machine by default) before it writes it out, so
a load's memory would grow with the delivery: dlt's DuckDB connection gets
RETAIL_DUCKDB_LOAD_MEMORY_LIMIT (default 512MB; DuckDB's units, e.g. 2GB) and spills the
rest to disk, which costs a few per cent of the load's time. databricks and synapse are the cloud
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
                                   RETAIL_SYNAPSE_PASSWORD of a SQL login. The only two
                                   both dlt and dbt-synapse can use (see
                                   ``ingestion.settings.SYNAPSE_AUTHENTICATIONS``); any
                                   other value stops the run naming them.
    RETAIL_STAGING_BUCKET_URL      az://<container> or abfss://<container>@<account>.dfs.core.windows.net
                                   in the workspace's storage account; Synapse then loads
                                   with COPY INTO instead of row inserts. With
                                   RETAIL_SYNAPSE_STAGING_USE_MSI=1 the pool reads the
                                   bucket with its managed identity, otherwise with the
                                   account key given in dlt's filesystem variables.

Credentials of the cloud targets: only the RETAIL_* variables that are set are handed to
dlt; dlt resolves every other field from its own configuration (for instance
DESTINATION__SYNAPSE__CREDENTIALS__PASSWORD or ``.dlt/secrets.toml``), and the defaults
above apply only where that has nothing either.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import dlt
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.destinations.impl.postgres.configuration import PostgresCredentials

from ingestion.settings import (
    Paths,
    int_setting,
    postgres_settings,
    secret,
    setting,
    synapse_authentication,
    text_setting,
)

DESTINATIONS = ("duckdb", "postgres", "databricks", "synapse")

SYNAPSE_ODBC_DRIVER = "ODBC Driver 18 for SQL Server"
DEFAULT_DATABASE = "retail"
"""The Databricks catalog and the Synapse database when neither RETAIL_* nor dlt names one
(the dbt profile's default too)."""


DEFAULT_DUCKDB_LOAD_MEMORY_LIMIT = "512MB"


def duckdb_credentials(paths: Paths) -> DuckDbCredentials:
    """The warehouse file, opened with the load's memory limit."""
    credentials = DuckDbCredentials()
    credentials.parse_native_representation(str(paths.duckdb_path))
    limit = text_setting("RETAIL_DUCKDB_LOAD_MEMORY_LIMIT", DEFAULT_DUCKDB_LOAD_MEMORY_LIMIT)
    credentials.global_config = {"memory_limit": limit}
    return credentials


def make_destination(name: str, paths: Paths) -> Any:
    if name == "duckdb":
        paths.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        return dlt.destinations.duckdb(credentials=duckdb_credentials(paths))
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
        return (f"databricks:{text_setting('RETAIL_DATABRICKS_HOST', '')}/"
                f"{text_setting('RETAIL_DATABRICKS_CATALOG', DEFAULT_DATABASE)}")
    if name == "synapse":
        return (f"synapse:{text_setting('RETAIL_SYNAPSE_SERVER', '')}:"
                f"{_synapse_port()}/"
                f"{text_setting('RETAIL_SYNAPSE_DATABASE', DEFAULT_DATABASE)}")
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
    bucket_url = setting("RETAIL_STAGING_BUCKET_URL")
    if name not in ("databricks", "synapse") or bucket_url is None:
        return None
    return dlt.destinations.filesystem(bucket_url=bucket_url)


def databricks_destination() -> Any:
    options = _credentials_option("databricks", given={
        "server_hostname": setting("RETAIL_DATABRICKS_HOST"),
        "http_path": setting("RETAIL_DATABRICKS_HTTP_PATH"),
        "catalog": setting("RETAIL_DATABRICKS_CATALOG"),
        "access_token": secret("RETAIL_DATABRICKS_TOKEN"),
        "client_id": setting("RETAIL_DATABRICKS_CLIENT_ID"),
        "client_secret": secret("RETAIL_DATABRICKS_CLIENT_SECRET"),
    }, defaults={"catalog": DEFAULT_DATABASE})
    if setting("RETAIL_DATABRICKS_STAGING_VOLUME"):
        options["staging_volume_name"] = setting("RETAIL_DATABRICKS_STAGING_VOLUME")
    if setting("RETAIL_DATABRICKS_STAGING_CREDENTIALS"):
        options["staging_credentials_name"] = setting("RETAIL_DATABRICKS_STAGING_CREDENTIALS")
        options["is_staging_external_location"] = True
    return dlt.destinations.databricks(**options)


def synapse_destination() -> Any:
    # the service principal login is a query option of the ODBC connection; the SQL login
    # is the driver's default and needs none
    login_query: dict[str, Any] = {}
    if synapse_authentication() == "ServicePrincipal":
        login_query = {"query": {"authentication": "ActiveDirectoryServicePrincipal"}}
        login = {"username": setting("RETAIL_SYNAPSE_CLIENT_ID"),
                 "password": secret("RETAIL_SYNAPSE_CLIENT_SECRET")}
    else:
        login = {"username": setting("RETAIL_SYNAPSE_USER"),
                 "password": secret("RETAIL_SYNAPSE_PASSWORD")}
    chosen = setting("RETAIL_SYNAPSE_AUTHENTICATION") is not None
    options = _credentials_option("synapse", given={
        "host": setting("RETAIL_SYNAPSE_SERVER"),
        "port": _synapse_port() if setting("RETAIL_SYNAPSE_PORT") else None,
        "database": setting("RETAIL_SYNAPSE_DATABASE"),
        "driver": setting("RETAIL_SYNAPSE_DRIVER"),
        **login,
        **(login_query if chosen else {}),
    }, defaults={
        "database": DEFAULT_DATABASE,
        "driver": SYNAPSE_ODBC_DRIVER,
        **({} if chosen else login_query),
    })
    use_msi = setting("RETAIL_SYNAPSE_STAGING_USE_MSI")
    if use_msi is not None:
        options["staging_use_msi"] = use_msi == "1"
    return dlt.destinations.synapse(**options)


def _synapse_port() -> int:
    return int_setting("RETAIL_SYNAPSE_PORT", 1433, 1, 65_535, "a port number")


def _credentials_option(destination: str, given: dict[str, Any],
                        defaults: dict[str, Any]) -> dict[str, Any]:
    """The RETAIL_* values that are set, and our defaults where dlt has nothing of its own.

    Whatever is left out dlt resolves from its own configuration
    (``DESTINATION__<NAME>__CREDENTIALS__<FIELD>`` variables, ``.dlt/secrets.toml``), so a
    warehouse configured the dlt way keeps working; a RETAIL_* variable wins over it.
    Returned as the ``credentials`` keyword of the destination, or no keyword at all when
    there is nothing to pass: dlt then also reads a whole connection string
    (``DESTINATION__<NAME>__CREDENTIALS``), which any explicit value would shadow.
    """
    credentials = {key: value for key, value in given.items() if value is not None}
    for key, value in defaults.items():
        if key not in credentials and not _dlt_configures(destination, key):
            credentials[key] = value
    return {"credentials": credentials} if credentials else {}


def _dlt_configures(destination: str, field: str) -> bool:
    """Whether dlt's own configuration gives the credentials field (or a whole connection
    string) of a destination."""
    keys = (f"destination.{destination}.credentials",
            f"destination.{destination}.credentials.{field}")
    return any(dlt.config.get(key) is not None or dlt.secrets.get(key) is not None
               for key in keys)
