"""Sales deliveries at ingest: re-sends, corrections, undecodable, oversized and unreadable files.

One landing folder gets every fault at once and is ingested twice with the real CLI (two
delivery days), then the silver delivery models are built with the real `dbt build`:

* day 1: the oldest file carries a line in Latin-1 (not UTF-8) and a 1 MB line; a file saved
  as UTF-16 (unreadable) arrives before every other file;
* day 2: a file is sent again under its own name with identical bytes, another is corrected
  (same name, new bytes), and the UTF-16 file is delivered again, fixed, as UTF-8.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ingestion.sales.lines import DEFAULT_MAX_LINE_BYTES, MAX_LINE_BYTES_SETTING, max_line_bytes
from ingestion.sales.reader import parse_sales_csv
from ingestion.settings import SettingError
from ingestion.sources import URL_VARIABLES
from tests.ingestion.bronze import query

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
STEP_TIMEOUT_SECONDS = 600
HUGE_LINE_BYTES = 1_000_000
LATIN1_PAYMENT = "espèces"


@dataclass
class Step:
    returncode: int
    output: str


@dataclass
class Deliveries:
    duckdb_path: Path
    broken: str  # day 1: one Latin-1 line and one oversized line
    broken_bad_lines: dict[int, str]  # line number -> planted fault
    unreadable: str  # day 1: UTF-16; day 2: the same name, fixed
    resent: str  # day 2: identical bytes, same name
    corrected: str  # day 2: same name, new bytes
    data_lines: dict[tuple[str, int], int] = field(default_factory=dict)  # (file, day) -> lines
    ingests: list[Step] = field(default_factory=list)
    dbt: Step | None = None

    def sql(self, statement: str) -> list[tuple]:
        return query(self.duckdb_path, statement)

    def load_ids(self, file_name: str) -> list[str]:
        return [load_id for (load_id,) in self.sql(
            "select _dlt_load_id from bronze_sales.delivered_files "
            f"where file_name = '{file_name}' order by _dlt_load_id")]


def _data_lines(payload: bytes) -> int:
    """Non-empty lines after the header, counted independently of the reader."""
    return sum(1 for line in payload.splitlines()[1:] if line)


def _run(command: list[str], env: dict[str, str]) -> Step:
    completed = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True,
                               text=True, timeout=STEP_TIMEOUT_SECONDS, check=False)
    return Step(completed.returncode, completed.stdout + completed.stderr)


def _deliver(path: Path, payload: bytes, mtime: float) -> None:
    path.write_bytes(payload)
    os.utime(path, (mtime, mtime))


def _plant_broken_lines(path: Path, mtime: float) -> dict[int, str]:
    """A Latin-1 line (line 4) and a 1 MB line (line 7) among good lines of a real export."""
    lines = path.read_bytes().split(b"\n")
    template = lines[1].decode()
    latin1 = template.rsplit(",", 1)[0] + f',"{LATIN1_PAYMENT}"'
    huge = template.rsplit(",", 1)[0] + ',"' + "x" * HUGE_LINE_BYTES + '"'
    lines.insert(3, latin1.encode("latin-1"))
    lines.insert(6, huge.encode())
    _deliver(path, b"\n".join(lines), mtime)
    return {4: "not valid UTF-8", 7: f"line longer than {DEFAULT_MAX_LINE_BYTES} bytes"}


def _renamed_transactions(payload: bytes) -> bytes:
    """The same export with other transaction ids: content no earlier file has."""
    return payload.replace(b'"T', b'"P')


def _corrected(payload: bytes) -> bytes:
    """A correction: the last data line withdrawn, the first one's quantity changed."""
    header, first, *rest = payload.rstrip(b"\n").split(b"\n")
    fields = first.split(b",")
    fields[5] = b'"99"'
    return b"\n".join([header, b",".join(fields), *rest[:-1]]) + b"\n"


def _environment(root: Path) -> dict[str, str]:
    env = {**os.environ,
           "RETAIL_DEMO_DIR": str(root / "demo"),
           "RETAIL_DUCKDB_PATH": str(root / "warehouse" / "retail.duckdb"),
           "RETAIL_DLT_PIPELINES_DIR": str(root / "pipelines"),
           "RETAIL_DBT_TARGET": "duckdb",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "PYTHONPATH": str(PROJECT_DIR)}
    for inherited in (*URL_VARIABLES.values(), MAX_LINE_BYTES_SETTING):
        env.pop(inherited, None)
    return env


def _count_files(landing: Path, day: int, into: dict[tuple[str, int], int]) -> None:
    for path in landing.glob("sales_*.csv"):
        into[(path.name, day)] = _data_lines(path.read_bytes())


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory, demo_template: Path
               ) -> Iterator[Deliveries]:
    root = tmp_path_factory.mktemp("deliveries")
    shutil.copytree(demo_template, root / "demo")
    env = _environment(root)
    landing = root / "demo" / "landing" / "sales"
    files = sorted(landing.glob("sales_*.csv"))
    day1 = time.time() - 86_400
    for order, path in enumerate(files):  # the landing order: oldest file first
        os.utime(path, (day1 + order, day1 + order))

    run = Deliveries(duckdb_path=root / "warehouse" / "retail.duckdb", broken=files[0].name,
                     broken_bad_lines={}, unreadable="sales_2025-10-02_pos7.csv",
                     resent=files[1].name, corrected=files[2].name)
    run.broken_bad_lines = _plant_broken_lines(files[0], day1 - 50)
    fixed_export = _renamed_transactions(files[3].read_bytes())
    _deliver(landing / run.unreadable,
             fixed_export.decode().encode("utf-16"), day1 - 100)
    _count_files(landing, 1, run.data_lines)
    ingest = [str(BIN_DIR / "python"), "-m", "ingestion", "ingest", "--source", "sales"]
    run.ingests.append(_run(ingest, env))

    day2 = time.time()
    os.utime(files[1], (day2, day2))  # re-sent: identical bytes, new timestamp
    _deliver(files[2], _corrected(files[2].read_bytes()), day2 + 1)
    _deliver(landing / run.unreadable, fixed_export, day2 + 2)
    _count_files(landing, 2, run.data_lines)
    run.ingests.append(_run(ingest, env))

    run.dbt = _run([str(BIN_DIR / "dbt"), "build", "--select", "stg_sales__delivered_files",
                    "stg_sales__rejected_lines", "--target", "duckdb",
                    "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
                    "--target-path", str(root / "target"), "--log-path", str(root / "logs")],
                   env)
    yield run


def test_bad_bytes_never_stop_the_ingest(deliveries: Deliveries) -> None:
    for step in deliveries.ingests:
        assert step.returncode == 0, step.output[-3000:]
        assert "Traceback" not in step.output


def test_undecodable_or_oversized_line_is_rejected_and_its_file_still_loads(
    deliveries: Deliveries,
) -> None:
    rejected = deliveries.sql(
        "select line_number, reason, raw_line from bronze_sales.rejected_lines "
        f"where source_file = '{deliveries.broken}' and reason not like 'expected %'"
        " order by line_number")
    assert [(line, reason) for line, reason, _ in rejected] == sorted(
        deliveries.broken_bad_lines.items())
    latin1_raw, huge_raw = rejected[0][2], rejected[1][2]
    assert latin1_raw.endswith('"esp\\xe8ces"')  # the bad byte shown escaped, not lost
    assert len(huge_raw) == 1000 and huge_raw.endswith("x" * 100)
    loaded = deliveries.sql("select count(*) from bronze_sales.sales_lines "
                            f"where _source_file = '{deliveries.broken}'")[0][0]
    all_rejected = deliveries.sql("select count(*) from bronze_sales.rejected_lines "
                                  f"where source_file = '{deliveries.broken}'")[0][0]
    assert loaded + all_rejected == deliveries.data_lines[(deliveries.broken, 1)]
    assert loaded > 0


def test_oversized_value_never_reaches_bronze(deliveries: Deliveries) -> None:
    longest = deliveries.sql(
        "select max(length(payment_method)), max(length(transaction_id)) "
        "from bronze_sales.sales_lines")[0]
    assert max(longest) < 100


def test_warning_names_the_file_with_bad_lines_and_the_rejected_file(
    deliveries: Deliveries,
) -> None:
    output = deliveries.ingests[0].output
    warnings = [line for line in output.splitlines() if line.startswith("sales: ")
                and (deliveries.broken in line or deliveries.unreadable in line)]
    assert len(warnings) == 2
    assert any("2 line(s)" in line and MAX_LINE_BYTES_SETTING in line for line in warnings)
    assert any("rejected (header line is not valid UTF-8)" in line for line in warnings)


def test_unreadable_file_is_rejected_and_later_files_load(deliveries: Deliveries) -> None:
    first = deliveries.sql(
        "select status, reason, row_count, file_sha256 is not null "
        f"from bronze_sales.delivered_files where file_name = '{deliveries.unreadable}' "
        "order by _dlt_load_id")[0]
    assert first == ("rejected", "header line is not valid UTF-8", 0, True)
    day1_files = {name for name, day in deliveries.data_lines if day == 1}
    day1_load = deliveries.load_ids(deliveries.broken)[0]
    loaded = {name for (name,) in deliveries.sql(
        "select file_name from bronze_sales.delivered_files "
        f"where status = 'loaded' and _dlt_load_id = '{day1_load}'")}
    assert loaded == day1_files - {deliveries.unreadable}


def test_rejected_file_delivered_again_fixed_is_loaded(deliveries: Deliveries) -> None:
    statuses = deliveries.sql(
        "select status, row_count from bronze_sales.delivered_files "
        f"where file_name = '{deliveries.unreadable}' order by _dlt_load_id")
    assert statuses == [("rejected", 0), ("loaded", deliveries.data_lines[
        (deliveries.unreadable, 2)])]


def test_every_delivered_line_is_loaded_or_rejected(deliveries: Deliveries) -> None:
    per_delivery = deliveries.sql(
        "select d.file_name, d._dlt_load_id, d.status, d.row_count, d.rejected_count, "
        "(select count(*) from bronze_sales.sales_lines s where s._source_file = d.file_name "
        " and s._dlt_load_id = d._dlt_load_id), "
        "(select count(*) from bronze_sales.rejected_lines r where r.source_file = d.file_name"
        " and r._dlt_load_id = d._dlt_load_id) "
        "from bronze_sales.delivered_files d")
    day_of = {load_id: day for day, load_id in enumerate(
        sorted({row[1] for row in per_delivery}), start=1)}
    loaded = [row for row in per_delivery if row[2] == "loaded"]
    day1_files = sum(1 for _, day in deliveries.data_lines if day == 1)
    assert len(loaded) == day1_files - 1 + 2  # day 1 less the rejected; day 2: fixed, corrected
    for name, load_id, _, rows, rejected, lines_in_bronze, rejected_in_bronze in loaded:
        assert (rows, rejected) == (lines_in_bronze, rejected_in_bronze)
        assert rows + rejected == deliveries.data_lines[(name, day_of[load_id])]
    total = deliveries.sql("select count(*) from bronze_sales.sales_lines")[0][0]
    assert total == sum(row[3] for row in loaded)


def test_identical_resend_under_same_name_adds_no_lines(deliveries: Deliveries) -> None:
    records = deliveries.sql(
        "select status, duplicate_of, row_count from bronze_sales.delivered_files "
        f"where file_name = '{deliveries.resent}' order by _dlt_load_id")
    assert records == [("loaded", None, deliveries.data_lines[(deliveries.resent, 1)]),
                       ("duplicate", deliveries.resent, 0)]
    lines = deliveries.sql("select _dlt_load_id, count(*) from bronze_sales.sales_lines "
                           f"where _source_file = '{deliveries.resent}' group by 1")
    assert lines == [(deliveries.load_ids(deliveries.resent)[0],
                      deliveries.data_lines[(deliveries.resent, 1)])]


def test_correction_lands_both_versions_in_bronze(deliveries: Deliveries) -> None:
    name = deliveries.corrected
    records = deliveries.sql(
        "select status, count(distinct file_sha256) over () from bronze_sales.delivered_files "
        f"where file_name = '{name}' order by _dlt_load_id")
    assert records == [("loaded", 2), ("loaded", 2)]
    lines = dict(deliveries.sql("select _dlt_load_id, count(*) from bronze_sales.sales_lines "
                                f"where _source_file = '{name}' group by 1"))
    first, second = deliveries.load_ids(name)
    assert lines == {first: deliveries.data_lines[(name, 1)],
                     second: deliveries.data_lines[(name, 2)]}
    assert deliveries.data_lines[(name, 2)] == deliveries.data_lines[(name, 1)] - 1
    corrected_quantity = deliveries.sql(
        "select quantity from bronze_sales.sales_lines "
        f"where _source_file = '{name}' and _dlt_load_id = '{second}' and _source_row = 1")
    assert corrected_quantity == [("99",)]


def test_delivery_grain_holds_and_silver_builds_on_resent_files(deliveries: Deliveries) -> None:
    assert deliveries.dbt is not None
    assert deliveries.dbt.returncode == 0, deliveries.dbt.output[-4000:]
    grain = deliveries.sql(
        "select count(*), count(distinct file_name || '/' || _dlt_load_id), "
        "count(distinct file_name) from silver.stg_sales__delivered_files")
    rows, deliveries_seen, names = grain[0]
    assert rows == deliveries_seen > names  # a name delivered twice, one row per delivery
    statuses = {status for (status,) in deliveries.sql(
        "select distinct delivery_status from silver.stg_sales__delivered_files")}
    assert statuses == {"loaded", "duplicate", "rejected"}
    reasons = deliveries.sql(
        "select count(*) from silver.stg_sales__rejected_lines "
        "where reason = 'not valid UTF-8' or reason like 'line longer than %'")
    assert reasons == [(2,)]


def test_line_numbers_count_blank_lines_and_every_line_ending() -> None:
    payload = (b'"a","b"\r\n"1","2"\r\n\r\n"3","\xe9"\r\n"4","5","6"\r"7","8"\n\n"9"\n')
    parsed = parse_sales_csv(payload, "f.csv")
    assert parsed.lines.to_pylist() == [{"a": "1", "b": "2"}, {"a": "7", "b": "8"}]
    assert [(r["line_number"], r["reason"]) for r in parsed.rejected] == [
        (4, "not valid UTF-8"), (5, "expected 2 fields, found 3"),
        (8, "expected 2 fields, found 1")]


def test_line_limit_setting_is_checked_with_a_one_line_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(MAX_LINE_BYTES_SETTING, "2048")
    assert max_line_bytes() == 2048
    monkeypatch.setenv(MAX_LINE_BYTES_SETTING, "64k")
    with pytest.raises(SettingError, match=f"^{MAX_LINE_BYTES_SETTING}='64k' is not a line "
                       f"length in bytes \\(set {MAX_LINE_BYTES_SETTING} to a whole number"):
        max_line_bytes()
