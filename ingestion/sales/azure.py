"""Access to a sales landing container in Azure Blob Storage / ADLS Gen2, from the environment.

Nothing here reads a file or logs a value: the secrets stay in the environment and in the
credential objects handed to dlt's ``filesystem`` resource.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from dlt.common.configuration.specs import AzureCredentials
from dlt.common.storages.fsspec_filesystem import AZURE_BLOB_STORAGE_PROTOCOLS

from ingestion.settings import setting

CONNECTION_STRING = "RETAIL_AZURE_STORAGE_CONNECTION_STRING"
ACCOUNT_NAME = "RETAIL_AZURE_STORAGE_ACCOUNT_NAME"
ACCOUNT_KEY = "RETAIL_AZURE_STORAGE_ACCOUNT_KEY"
SAS_TOKEN = "RETAIL_AZURE_STORAGE_SAS_TOKEN"
ACCOUNT_HOST = "RETAIL_AZURE_STORAGE_ACCOUNT_HOST"
ENV_VARS = (CONNECTION_STRING, ACCOUNT_NAME, ACCOUNT_KEY, SAS_TOKEN, ACCOUNT_HOST)

# dlt builds the Azure filesystem with these options; the connection-string route matches them:
# no listing cache (a second ingest in the same process must see new blobs), one transfer
# per file.
FSSPEC_OPTIONS: dict[str, Any] = {"use_listings_cache": False, "max_concurrency": 1}


def is_azure_url(bucket_url: str) -> bool:
    """``az://``, ``abfs(s)://``, ``adl://`` or ``azure://``."""
    return urlparse(bucket_url).scheme in AZURE_BLOB_STORAGE_PROTOCOLS


def azure_credentials_from_env() -> Any:
    """The ``credentials`` for dlt's ``filesystem`` resource, or None to let dlt resolve them.

    * ``RETAIL_AZURE_STORAGE_CONNECTION_STRING``: an authenticated adlfs filesystem built from
      it. A connection string is the only way to name a plain-HTTP or path-style blob endpoint
      (Azurite, a private endpoint), which dlt's credential fields cannot express.
    * ``RETAIL_AZURE_STORAGE_ACCOUNT_NAME`` (+ ``..._ACCOUNT_KEY`` or ``..._SAS_TOKEN``, optional
      ``..._ACCOUNT_HOST``): dlt's own ``AzureCredentials``. With neither key nor SAS token dlt
      falls back to ``DefaultAzureCredential`` (managed or workload identity, ``az login``).
    * none of them: None, and dlt reads its own configuration
      (``SOURCES__SALES__CREDENTIALS__AZURE_STORAGE_ACCOUNT_NAME`` and the like).
    """
    connection_string = setting(CONNECTION_STRING)
    if connection_string:
        try:
            from adlfs import AzureBlobFileSystem
        except ImportError as error:
            raise ImportError(
                "reading sales files from Azure needs adlfs: install dlt[az]") from error
        return AzureBlobFileSystem(connection_string=connection_string, **FSSPEC_OPTIONS)
    account_name = setting(ACCOUNT_NAME)
    if not account_name:
        return None
    credentials = AzureCredentials()
    credentials.azure_storage_account_name = account_name
    credentials.azure_storage_account_key = setting(ACCOUNT_KEY)
    credentials.azure_storage_sas_token = setting(SAS_TOKEN)  # type: ignore[assignment]
    credentials.azure_account_host = setting(ACCOUNT_HOST)
    return credentials
