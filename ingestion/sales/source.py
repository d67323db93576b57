"""The dlt source over the sales landing area."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dlt
import pyarrow as pa
from dlt.sources import DltSource
from dlt.sources.filesystem import FileItemDict, filesystem

from ingestion.lineage import stamp_loaded_at
from ingestion.sales.azure import azure_credentials_from_env, is_azure_url
from ingestion.sales.reader import parse_sales_csv

DEFAULT_GLOB = "sales_*.csv"


def _fingerprint(item: FileItemDict) -> str:
    return f"{item['size_in_bytes']}:{item['modification_date']}"


def _file_row(item: FileItemDict, sha256: str, rows: int, rejected: int, status: str,
              duplicate_of: str | None) -> pa.Table:
    modified = item["modification_date"]
    if isinstance(modified, datetime) and modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    return pa.Table.from_pylist([{
        "file_name": item["relative_path"],
        "file_sha256": sha256,
        "size_bytes": int(item["size_in_bytes"]),
        "modified_at": modified,
        "row_count": rows,
        "rejected_count": rejected,
        "status": status,
        "duplicate_of": duplicate_of,
    }], schema=pa.schema([
        ("file_name", pa.string()), ("file_sha256", pa.string()), ("size_bytes", pa.int64()),
        ("modified_at", pa.timestamp("us", tz="UTC")), ("row_count", pa.int64()),
        ("rejected_count", pa.int64()), ("status", pa.string()), ("duplicate_of", pa.string()),
    ]))


def read_new_sales_files(items: list[FileItemDict]) -> Iterator[Any]:
    """Yield the lines of every file not loaded before, plus its delivery record."""
    state = dlt.current.resource_state()
    seen: dict[str, str] = state.setdefault("seen", {})  # file name -> fingerprint
    hashes: dict[str, str] = state.setdefault("hashes", {})  # content hash -> first file name
    for item in sorted(items, key=lambda i: (i["modification_date"], i["relative_path"])):
        name = item["relative_path"]
        if seen.get(name) == _fingerprint(item):
            continue
        payload = item.read_bytes()
        sha256 = hashlib.sha256(payload).hexdigest()
        seen[name] = _fingerprint(item)
        if sha256 in hashes:
            yield dlt.mark.with_table_name(
                _file_row(item, sha256, 0, 0, "duplicate", hashes[sha256]), "delivered_files")
            continue
        hashes[sha256] = name
        parsed = parse_sales_csv(payload, name)
        lines = parsed.lines
        if lines.num_rows:
            lines = lines.append_column("_source_file", pa.array([name] * lines.num_rows))
            lines = lines.append_column("_source_row",
                                        pa.array(range(1, lines.num_rows + 1), pa.int64()))
            yield lines
        if parsed.rejected:
            yield dlt.mark.with_table_name(pa.Table.from_pylist(parsed.rejected),
                                           "rejected_lines")
        yield dlt.mark.with_table_name(
            _file_row(item, sha256, lines.num_rows, len(parsed.rejected), "loaded", None),
            "delivered_files")


def _bucket_access(bucket_url: str) -> dict[str, Any]:
    """Credentials for a cloud bucket when the environment carries them; a folder needs none."""
    if not is_azure_url(bucket_url):
        return {}
    credentials = azure_credentials_from_env()
    return {} if credentials is None else {"credentials": credentials}


def sales_source(bucket_url: str, file_glob: str = DEFAULT_GLOB) -> DltSource:
    # section "sales": dlt-native settings read as SOURCES__SALES__..., not SOURCES__SOURCE__...
    @dlt.source(name="sales", section="sales")
    def _sales() -> Any:
        files = filesystem(bucket_url=bucket_url, file_glob=file_glob,
                           **_bucket_access(bucket_url))
        reader = dlt.transformer(read_new_sales_files, name="sales_lines",
                                 write_disposition="append")
        return (files | reader).add_map(stamp_loaded_at())

    return _sales()
