"""Sales source: daily POS / e-commerce CSV exports dropped in a landing folder or bucket.

dlt's ``filesystem`` resource lists the files (a local folder, or ``az://`` / ``s3://`` when
configured); a transformer reads each new file with Arrow, keeping every value as text exactly
as delivered. Every delivery (a file seen for the first time, or again with a new size or
modification time) writes one ``delivered_files`` row, keyed by file name and dlt load:

* ``loaded``: content not loaded before. A file name delivered again with new content is a
  correction, loaded again; bronze keeps both versions, silver uses the newest.
* ``duplicate``: identical bytes already loaded under any name (a re-sent export included);
  no lines are added and ``duplicate_of`` names the first file with that content.
* ``rejected``: the file cannot be read at all (its header line is not UTF-8 or too long, or
  reading it failed); ``reason`` says why, a one-line warning names the file and the next
  file is read as usual. Delivered again, fixed, it is loaded.

Lines that cannot be loaded land in ``rejected_lines`` with their line number and reason, so
nothing is lost and the rest of the file loads: records of the wrong width, lines that are not
valid UTF-8 (shown backslash-escaped) and lines longer than ``RETAIL_SALES_MAX_LINE_BYTES``
(default 65536 bytes; the first 1,000 characters are kept).

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
