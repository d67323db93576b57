"""Sales files landed in an Azure Blob container (Azurite) load exactly like the landing folder."""

from __future__ import annotations

import csv
import io
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingestion.demo import generator
from ingestion.demo.sources import ingest_demo_source
from ingestion.ingest import ingest_source
from ingestion.pipeline import SourceReport
from ingestion.sales import azure
from ingestion.settings import Paths
from ingestion.sources import configured_endpoints
from tests.ingestion.azurite import ACCOUNT_KEY, Azurite, running_azurite, skip_or_fail
from tests.ingestion.bronze import count, query

SALES_TABLES = ("bronze_sales.sales_lines", "bronze_sales.rejected_lines",
                "bronze_sales.delivered_files")
PREFIX = "pos/exports"  # files live under a prefix, not at the container root


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    for module in ("adlfs", "azure.storage.blob"):
        try:
            __import__(module)
        except ImportError:
            skip_or_fail(f"{module} is not installed: install dlt[az] and azure-storage-blob")
    with running_azurite(tmp_path_factory.mktemp("azurite")) as service:
        yield service


@pytest.fixture
def container(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh container; the sales source pointed at its prefix through the environment."""
    from azure.storage.blob import BlobServiceClient

    for name in azure.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    client = service.create_container(f"landing-{uuid.uuid4().hex[:12]}")
    yield client
    client.delete_container()
    service.close()


def _use_container(container: Any, azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAIL_SALES_BUCKET_URL", f"az://{container.container_name}/{PREFIX}")
    monkeypatch.setenv(azure.CONNECTION_STRING, azurite.connection_string)


def _upload(container: Any, file: Path, name: str | None = None) -> None:
    container.upload_blob(f"{PREFIX}/{name or file.name}", file.read_bytes())


def _ingest(paths: Paths, messages: list[str] | None = None) -> SourceReport:
    sink = messages.append if messages is not None else (lambda _: None)
    # a configured source, as in production: RETAIL_SALES_BUCKET_URL points at the container
    return ingest_source("sales", "duckdb", paths, sink, configured_endpoints(("sales",)))


def _counts(paths: Paths) -> dict[str, int]:
    return {table: count(paths.duckdb_path, table) for table in SALES_TABLES}


def _records(file: Path) -> tuple[int, int]:
    """(well-formed data lines, malformed lines) of one sales file."""
    records = list(csv.reader(io.StringIO(file.read_text(), newline="")))[1:]
    good = sum(1 for record in records if len(record) == 10)
    return good, len(records) - good


def _delivered(paths: Paths) -> list[tuple]:
    return query(paths.duckdb_path,
                 "select file_name, file_sha256, size_bytes, row_count, rejected_count, status, "
                 "duplicate_of from bronze_sales.delivered_files order by file_name")


def _lines(paths: Paths) -> list[tuple]:
    return query(paths.duckdb_path,
                 "select * exclude (_dlt_load_id, _loaded_at) "
                 "from bronze_sales.sales_lines order by _source_file, _source_row")


def _stored_anywhere(root: Path, secret: bytes) -> list[Path]:
    return [file for file in root.rglob("*") if file.is_file() and secret in file.read_bytes()]


def test_container_loads_exactly_like_the_landing_folder(
    workspace: Paths, container: Any, azurite: Azurite, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    reference = Paths(workspace.demo_dir, tmp_path / "reference.duckdb", tmp_path / "ref-pipes")
    ingest_demo_source("sales", "duckdb", reference, lambda _: None)  # the landing folder

    files = sorted(workspace.landing_dir.glob("sales_*.csv"))
    assert files
    for file in files:
        _upload(container, file)
    container.upload_blob("elsewhere/sales_2000-01-01.csv", files[0].read_bytes())  # not listed
    container.upload_blob(f"{PREFIX}/archive/{files[0].name}", b"x")  # not directly under
    container.upload_blob(f"{PREFIX}/readme.txt", b"not a sales file")
    _use_container(container, azurite, monkeypatch)

    messages: list[str] = []
    with caplog.at_level(logging.DEBUG):
        report = _ingest(workspace, messages)

    expected = _counts(reference)
    assert expected["bronze_sales.sales_lines"] > 0
    assert expected["bronze_sales.rejected_lines"] > 0
    assert _counts(workspace) == expected
    assert report.rows["sales_lines"] == expected["bronze_sales.sales_lines"]
    assert _delivered(workspace) == _delivered(reference)
    assert _lines(workspace) == _lines(reference)

    secret = ACCOUNT_KEY.encode()
    assert not any(ACCOUNT_KEY in message for message in messages)
    assert ACCOUNT_KEY not in caplog.text
    assert _stored_anywhere(workspace.pipelines_dir, secret) == []
    assert _stored_anywhere(workspace.duckdb_path.parent, secret) == []


def test_redelivered_copy_is_skipped_and_only_the_new_day_lands(
    workspace: Paths, container: Any, azurite: Azurite, monkeypatch: pytest.MonkeyPatch,
) -> None:
    originals = sorted(workspace.landing_dir.glob("sales_*.csv"))
    for file in originals:
        _upload(container, file)
    _use_container(container, azurite, monkeypatch)
    _ingest(workspace)
    before = _counts(workspace)

    state = generator.advance(workspace, days=1)
    new_file = workspace.landing_dir / f"sales_{state.business_date().isoformat()}.csv"
    assert new_file not in originals
    copied = originals[-1]
    resend_name = f"{copied.stem}_resend{copied.suffix}"
    _upload(container, copied, resend_name)  # yesterday's file again, under another name
    _upload(container, new_file)

    report = _ingest(workspace)
    new_lines, new_rejected = _records(new_file)
    after = _counts(workspace)
    assert report.rows["sales_lines"] == new_lines > 0
    assert after["bronze_sales.sales_lines"] - before["bronze_sales.sales_lines"] == new_lines
    assert (after["bronze_sales.rejected_lines"] - before["bronze_sales.rejected_lines"]
            == new_rejected)
    assert query(workspace.duckdb_path,
                 "select distinct _source_file from bronze_sales.sales_lines "
                 f"where _dlt_load_id = '{report.load_ids[-1]}'") == [(new_file.name,)]
    delivered = {row[0]: (row[5], row[6]) for row in _delivered(workspace)}
    assert delivered[resend_name] == ("duplicate", copied.name)
    assert delivered[new_file.name] == ("loaded", None)
    assert after["bronze_sales.delivered_files"] - before["bronze_sales.delivered_files"] == 2

    again = _ingest(workspace)
    assert again.total_rows == 0
    assert _counts(workspace) == after


def test_account_settings_fill_dlts_azure_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in azure.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    assert azure.azure_credentials_from_env() is None  # dlt resolves SOURCES__SALES__... itself

    monkeypatch.setenv(azure.ACCOUNT_NAME, "retaillanding")
    monkeypatch.setenv(azure.ACCOUNT_KEY, "c2VjcmV0LWtleQ==")
    monkeypatch.setenv(azure.ACCOUNT_HOST, "retaillanding.privatelink.blob.core.windows.net")
    credentials = azure.azure_credentials_from_env()
    assert credentials.azure_storage_account_name == "retaillanding"
    assert credentials.azure_storage_account_key == "c2VjcmV0LWtleQ=="
    assert credentials.azure_account_host == "retaillanding.privatelink.blob.core.windows.net"
    assert "c2VjcmV0LWtleQ==" not in f"{credentials!r} {credentials!s}"


def test_only_azure_urls_use_azure_settings() -> None:
    assert azure.is_azure_url("az://landing/pos")
    assert azure.is_azure_url("abfss://landing@acct.dfs.core.windows.net/pos")
    assert not azure.is_azure_url("file:///srv/landing/sales")
    assert not azure.is_azure_url("/srv/landing/sales")
    assert not azure.is_azure_url("s3://landing/pos")
