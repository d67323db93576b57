"""Parse one sales export into text columns, collecting the lines that do not parse."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.csv as pacsv


@dataclass
class ParsedFile:
    lines: pa.Table
    rejected: list[dict[str, object]] = field(default_factory=list)


def parse_sales_csv(payload: bytes, file_name: str) -> ParsedFile:
    """Every column as text; malformed records are kept aside with their line number."""
    header = payload.split(b"\n", 1)[0].decode("utf-8-sig").strip()
    if not header:
        return ParsedFile(lines=pa.table({}))
    names = [name.strip() for name in next(csv.reader([header]))]
    rejected: list[dict[str, object]] = []

    def keep_aside(row: pacsv.InvalidRow) -> str:
        rejected.append({
            "source_file": file_name,
            "line_number": row.number,
            "raw_line": row.text,
            "reason": f"expected {row.expected_columns} fields, found {row.actual_columns}",
        })
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(payload),
        read_options=pacsv.ReadOptions(use_threads=False, block_size=64 << 20),
        parse_options=pacsv.ParseOptions(invalid_row_handler=keep_aside),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return ParsedFile(lines=table, rejected=rejected)
