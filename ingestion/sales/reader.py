"""Parse one sales export into text columns, collecting the lines that cannot be loaded."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ingestion.sales.lines import (
    DEFAULT_MAX_LINE_BYTES,
    NOT_UTF8,
    LineSpans,
    line_spans,
    screen_lines,
    too_long_reason,
)

_MIN_BLOCK_BYTES = 16 << 20


class UnreadableFile(Exception):
    """The file as a whole cannot be loaded; the message is the reason recorded for it."""


@dataclass
class ParsedFile:
    lines: pa.Table
    rejected: list[dict[str, object]] = field(default_factory=list)


def _header_names(payload: bytes, spans: LineSpans, limit: int) -> list[str]:
    if spans.lengths[0] > limit:
        raise UnreadableFile(f"header {too_long_reason(limit)}")
    try:
        header = spans.line(payload, 0).decode("utf-8-sig").strip()
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"header line is {NOT_UTF8}") from error
    if not header:
        raise UnreadableFile("the first line is empty: expected the CSV header")
    return [name.strip() for name in next(csv.reader([header]))]


RejectedLine = tuple[int, str, str]
"""(line number, raw line, reason)"""


def _rejected_rows(file_name: str, lines: list[RejectedLine]) -> list[dict[str, object]]:
    return [{"source_file": file_name, "line_number": number, "raw_line": raw, "reason": reason}
            for number, raw, reason in sorted(lines, key=lambda line: line[0])]


def _physical_line(nonempty_lines: np.ndarray, arrow_row: int | None) -> int:
    """Arrow numbers rows skipping empty lines; map its row number back to the file's line."""
    if arrow_row is None or not 0 < arrow_row <= len(nonempty_lines):
        return arrow_row or 0
    return int(nonempty_lines[arrow_row - 1])


def parse_sales_csv(payload: bytes, file_name: str,
                    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> ParsedFile:
    """Every column as text. Lines that are not CSV records of the header's width, not valid
    UTF-8 or longer than ``max_line_bytes`` are kept aside with their line number (the header
    is line 1). Raises ``UnreadableFile`` when the header itself cannot be read."""
    if not payload.strip():
        return ParsedFile(lines=pa.table({}))
    spans = line_spans(payload)
    names = _header_names(payload, spans, max_line_bytes)
    screened = screen_lines(payload, spans, max_line_bytes)
    rejected: list[RejectedLine] = list(screened.rejected)

    def keep_aside(row: pacsv.InvalidRow) -> str:
        rejected.append((_physical_line(screened.nonempty_lines, row.number), row.text,
                         f"expected {row.expected_columns} fields, found {row.actual_columns}"))
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(screened.payload),
        read_options=pacsv.ReadOptions(
            use_threads=False, block_size=max(_MIN_BLOCK_BYTES, 2 * max_line_bytes)),
        parse_options=pacsv.ParseOptions(invalid_row_handler=keep_aside),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return ParsedFile(lines=table, rejected=_rejected_rows(file_name, rejected))
