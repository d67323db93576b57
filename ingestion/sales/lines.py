"""Physical lines of a sales export: where they are, and which ones cannot be loaded.

A line ends at ``\\n``, ``\\r\\n`` or a lone ``\\r``, as Arrow's CSV reader sees it. A line
that is not valid UTF-8, or longer than the line limit, is set aside with its line number
and a safe, shortened copy of its bytes; it is then blanked (its terminator kept), so the
rest of the file parses as before and every other line keeps its number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingestion.settings import int_setting

MAX_LINE_BYTES_SETTING = "RETAIL_SALES_MAX_LINE_BYTES"
DEFAULT_MAX_LINE_BYTES = 64 * 1024
_LIMIT_RANGE = (1024, 256 * 1024 * 1024)
RAW_LINE_CHARS = 1000
"""How much of a rejected line ``raw_line`` keeps."""
NOT_UTF8 = "not valid UTF-8"

_LF, _CR = 10, 13


def max_line_bytes() -> int:
    """The longest line loaded, in bytes: ``RETAIL_SALES_MAX_LINE_BYTES``, default 64 KiB."""
    low, high = _LIMIT_RANGE
    return int_setting(MAX_LINE_BYTES_SETTING, DEFAULT_MAX_LINE_BYTES, low, high,
                       "a line length in bytes")


def too_long_reason(limit: int) -> str:
    return f"line longer than {limit} bytes"


@dataclass(frozen=True)
class LineSpans:
    """Start and end (exclusive, terminator not included) byte offset of every line."""

    starts: np.ndarray
    ends: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return self.ends - self.starts

    def __len__(self) -> int:
        return len(self.starts)

    def line(self, payload: bytes, index: int) -> bytes:
        return payload[int(self.starts[index]):int(self.ends[index])]


def line_spans(payload: bytes) -> LineSpans:
    """Where each line starts and ends; vectorised, so clean files cost a few milliseconds."""
    data = np.frombuffer(payload, dtype=np.uint8)
    if b"\r" not in payload:  # the usual case: one pass, one temporary array
        terminators = np.flatnonzero(data == _LF)
        return _spans(terminators, terminators, len(data))
    is_lf = data == _LF
    is_cr = data == _CR
    cr_before_lf = np.zeros(len(data), dtype=bool)
    cr_before_lf[:-1] = is_cr[:-1] & is_lf[1:]
    terminators = np.flatnonzero(is_lf | (is_cr & ~cr_before_lf))
    lf_after_cr = np.zeros(len(data), dtype=bool)
    lf_after_cr[1:] = cr_before_lf[:-1]
    return _spans(terminators, terminators - lf_after_cr[terminators], len(data))


def _spans(terminators: np.ndarray, content_ends: np.ndarray, size: int) -> LineSpans:
    """Lines from the offsets of their terminators' last byte and of their content's end."""
    starts = np.concatenate([[0], terminators + 1])
    ends = np.concatenate([content_ends, [size]])
    if starts[-1] == size:  # the file ends with a terminator: no last, empty line
        starts, ends = starts[:-1], ends[:-1]
    return LineSpans(starts.astype(np.int64), ends.astype(np.int64))


def shown_safely(line: bytes) -> str:
    """The line as text, undecodable bytes backslash-escaped, cut to RAW_LINE_CHARS."""
    return line[:RAW_LINE_CHARS * 4].decode("utf-8", "backslashreplace")[:RAW_LINE_CHARS]


@dataclass
class ScreenedFile:
    payload: bytes
    """The file with every rejected line blanked; the line count and numbering unchanged."""
    rejected: list[tuple[int, str, str]]
    """(line number, raw line shown safely, reason), header = line 1."""
    nonempty_lines: np.ndarray
    """Line numbers of the lines left non-empty, in order: what Arrow numbers as rows."""


def _undecodable(payload: bytes, spans: LineSpans, candidates: np.ndarray) -> list[int]:
    """Indexes of the candidate lines that are not valid UTF-8 (only called on a bad file)."""
    bad = []
    for index in candidates.tolist():
        try:
            spans.line(payload, index).decode("utf-8")
        except UnicodeDecodeError:
            bad.append(index)
    return bad


def _blank(payload: bytes, spans: LineSpans, indexes: list[int]) -> bytes:
    pieces, position = [], 0
    for index in indexes:
        pieces.append(payload[position:int(spans.starts[index])])
        position = int(spans.ends[index])
    pieces.append(payload[position:])
    return b"".join(pieces)


def screen_lines(payload: bytes, spans: LineSpans, limit: int) -> ScreenedFile:
    """Set aside the data lines (not the header) that are too long or not valid UTF-8."""
    lengths = spans.lengths
    too_long = np.flatnonzero(lengths > limit)
    too_long = too_long[too_long > 0]
    not_utf8: list[int] = []
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        fitting = np.setdiff1d(np.arange(1, len(spans)), too_long)
        not_utf8 = _undecodable(payload, spans, fitting)
    reasons = {int(i): too_long_reason(limit) for i in too_long} | {
        i: NOT_UTF8 for i in not_utf8}
    rejected = [(index + 1, shown_safely(spans.line(payload, index)), reasons[index])
                for index in sorted(reasons)]
    kept = lengths.copy()
    kept[list(reasons)] = 0
    return ScreenedFile(
        payload=_blank(payload, spans, sorted(reasons)) if reasons else payload,
        rejected=rejected,
        nonempty_lines=np.flatnonzero(kept > 0) + 1,
    )
