"""Sales source: daily POS / e-commerce CSV exports dropped in a landing folder or bucket.

dlt's ``filesystem`` resource lists the files (a local folder, or ``az://`` / ``s3://`` when
configured); a transformer reads each new file with Arrow, keeping every value as text exactly
as delivered. The resource state remembers every file by name, size, modification time and
content hash: an unchanged file is not read again, and a file whose content was already
loaded (a re-delivery under the same or another name) adds no rows, only a
``delivered_files`` row with ``status = 'duplicate'``. Lines that are not valid CSV records
land in ``rejected_lines`` with the reason, so nothing is lost.

Where the files land is ``RETAIL_SALES_BUCKET_URL``: unset, the demo landing folder; a path or
``file://`` URL, a local folder; ``az://<container>/<prefix>``, an Azure Blob Storage / ADLS
Gen2 container, read with adlfs (``dlt[az]``). Only files directly under the prefix that match
``sales_*.csv`` are read. Azure credentials come from the environment only, first match wins:

1. ``RETAIL_AZURE_STORAGE_CONNECTION_STRING``: a storage connection string. It carries the blob
   endpoint, so it is the way to reach Azurite or any non-default or plain-HTTP endpoint, e.g.
   ``DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=...;``
   ``BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;``
2. ``RETAIL_AZURE_STORAGE_ACCOUNT_NAME`` with ``RETAIL_AZURE_STORAGE_ACCOUNT_KEY`` or
   ``RETAIL_AZURE_STORAGE_SAS_TOKEN``, and optionally ``RETAIL_AZURE_STORAGE_ACCOUNT_HOST`` (an
   HTTPS host other than ``<account>.blob.core.windows.net``). These fill dlt's
   ``AzureCredentials``; with the account name alone, dlt signs in with
   ``DefaultAzureCredential`` (managed or workload identity, service principal variables,
   ``az login``).
3. None of the above: dlt's own configuration, e.g.
   ``SOURCES__SALES__CREDENTIALS__AZURE_STORAGE_ACCOUNT_NAME`` and
   ``SOURCES__SALES__CREDENTIALS__AZURE_STORAGE_ACCOUNT_KEY`` (or ``.dlt/secrets.toml``
   ``[sources.sales.credentials]``).

No credential value is logged or written to the pipeline's working folder.
"""

from __future__ import annotations

from ingestion.sales.source import sales_source

__all__ = ["sales_source"]
