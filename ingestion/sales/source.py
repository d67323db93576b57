"""The dlt source over the sales landing area: one ``delivered_files`` row per file event."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dlt
import pyarrow as pa
from dlt.sources import DltSource
from dlt.sources.filesystem import FileItemDict, filesystem

from ingestion.lineage import stamp_loaded_at
from ingestion.sales.azure import azure_credentials_from_env, is_azure_url
from ingestion.sales.lines import MAX_LINE_BYTES_SETTING, NOT_UTF8, max_line_bytes, too_long_reason
from ingestion.sales.reader import ParsedFile, UnreadableFile, parse_sales_csv

DEFAULT_GLOB = "sales_*.csv"
LOADED, DUPLICATE, REJECTED = "loaded", "duplicate", "rejected"
_REASON_CHARS = 500

log = logging.getLogger(__name__)

_FILE_SCHEMA = pa.schema([
    ("file_name", pa.string()), ("file_sha256", pa.string()), ("size_bytes", pa.int64()),
    ("modified_at", pa.timestamp("us", tz="UTC")), ("row_count", pa.int64()),
    ("rejected_count", pa.int64()), ("status", pa.string()), ("duplicate_of", pa.string()),
    ("reason", pa.string()),
])


@dataclass(frozen=True)
class Delivery:
    """What became of one delivered file; ``reason`` says why a file was rejected."""

    status: str
    sha256: str | None
    rows: int = 0
    rejected: int = 0
    duplicate_of: str | None = None
    reason: str | None = None


def _fingerprint(item: FileItemDict) -> str:
    return f"{item['size_in_bytes']}:{item['modification_date']}"


def _file_row(item: FileItemDict, delivery: Delivery) -> Any:
    modified = item["modification_date"]
    if isinstance(modified, datetime) and modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    row = pa.Table.from_pylist([{
        "file_name": item["relative_path"],
        "file_sha256": delivery.sha256,
        "size_bytes": int(item["size_in_bytes"]),
        "modified_at": modified,
        "row_count": delivery.rows,
        "rejected_count": delivery.rejected,
        "status": delivery.status,
        "duplicate_of": delivery.duplicate_of,
        "reason": delivery.reason,
    }], schema=_FILE_SCHEMA)
    return dlt.mark.with_table_name(row, "delivered_files")


def _failure_reason(error: Exception) -> str:
    if isinstance(error, UnreadableFile):
        return str(error)
    detail = (str(error).strip().splitlines() or [""])[0]
    reason = f"could not be read: {type(error).__name__}" + (f": {detail}" if detail else "")
    return reason[:_REASON_CHARS]


def _rejected_file(item: FileItemDict, sha256: str | None, error: Exception) -> Any:
    reason = _failure_reason(error)
    retry = ("the next ingest reads it again" if sha256 is None
             else "fix the file and deliver it again")
    log.warning("sales: %s rejected (%s); nothing was loaded from it: %s",
                item["relative_path"], reason, retry)
    return _file_row(item, Delivery(REJECTED, sha256, reason=reason))


def _warn_unloadable_lines(name: str, parsed: ParsedFile, limit: int) -> None:
    unloadable = sum(1 for line in parsed.rejected
                     if line["reason"] in (NOT_UTF8, too_long_reason(limit)))
    if unloadable:
        log.warning("sales: %s: %d line(s) not valid UTF-8 or longer than %d bytes (%s) set "
                    "aside in bronze_sales.rejected_lines; the other lines were loaded",
                    name, unloadable, limit, MAX_LINE_BYTES_SETTING)


def _loaded_file(item: FileItemDict, sha256: str, parsed: ParsedFile) -> Iterator[Any]:
    name = item["relative_path"]
    lines = parsed.lines
    if lines.num_rows:
        lines = lines.append_column("_source_file", pa.array([name] * lines.num_rows))
        lines = lines.append_column("_source_row",
                                    pa.array(range(1, lines.num_rows + 1), pa.int64()))
        yield lines
    if parsed.rejected:
        yield dlt.mark.with_table_name(pa.Table.from_pylist(parsed.rejected), "rejected_lines")
    yield _file_row(item, Delivery(LOADED, sha256, lines.num_rows, len(parsed.rejected)))


def read_sales_file(item: FileItemDict, payload: bytes, hashes: dict[str, str], limit: int
                    ) -> Iterator[Any]:
    """Lines and delivery record of one file; a file whose content cannot be parsed is
    recorded as rejected with its reason and never stops the other files."""
    sha256 = hashlib.sha256(payload).hexdigest()
    if sha256 in hashes:
        yield _file_row(item, Delivery(DUPLICATE, sha256, duplicate_of=hashes[sha256]))
        return
    try:
        parsed = parse_sales_csv(payload, item["relative_path"], limit)
    except Exception as error:  # noqa: BLE001 - any parse failure rejects this file only
        yield _rejected_file(item, sha256, error)
        return
    hashes[sha256] = item["relative_path"]
    _warn_unloadable_lines(item["relative_path"], parsed, limit)
    yield from _loaded_file(item, sha256, parsed)


def read_new_sales_files(items: list[FileItemDict], limit: int) -> Iterator[Any]:
    """Yield the lines of every file not loaded before, plus one delivery record per file."""
    state = dlt.current.resource_state()
    seen: dict[str, str] = state.setdefault("seen", {})  # file name -> fingerprint
    hashes: dict[str, str] = state.setdefault("hashes", {})  # content hash -> first file name
    for item in sorted(items, key=lambda i: (i["modification_date"], i["relative_path"])):
        name = item["relative_path"]
        if seen.get(name) == _fingerprint(item):
            continue
        try:
            payload = item.read_bytes()
        except Exception as error:  # noqa: BLE001 - not marked seen: the next run retries it
            yield _rejected_file(item, None, error)
            continue
        seen[name] = _fingerprint(item)
        yield from read_sales_file(item, payload, hashes, limit)


def _bucket_access(bucket_url: str) -> dict[str, Any]:
    """Credentials for a cloud bucket when the environment carries them; a folder needs none."""
    if not is_azure_url(bucket_url):
        return {}
    credentials = azure_credentials_from_env()
    return {} if credentials is None else {"credentials": credentials}


def sales_source(bucket_url: str, file_glob: str = DEFAULT_GLOB) -> DltSource:
    limit = max_line_bytes()  # read once, before any file: a bad setting stops nothing midway

    # section "sales": dlt-native settings read as SOURCES__SALES__..., not SOURCES__SOURCE__...
    @dlt.source(name="sales", section="sales")
    def _sales() -> Any:
        files = filesystem(bucket_url=bucket_url, file_glob=file_glob,
                           **_bucket_access(bucket_url))

        def sales_lines(items: list[FileItemDict]) -> Iterator[Any]:
            yield from read_new_sales_files(items, limit)

        reader = dlt.transformer(sales_lines, name="sales_lines", write_disposition="append")
        return (files | reader).add_map(stamp_loaded_at())

    return _sales()
