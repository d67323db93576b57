"""The CRM stand-in speaks a paginated REST API with an updated_since filter."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ingestion.demo.crm_server import RunningCrmServer
from ingestion.settings import Paths
from tools.benchmark.crm_service import served_crm


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _all_pages(url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        body = _get(next_url)
        rows += body["data"]
        next_url = body["next"]
    return rows


def test_pages_cover_every_customer_once_in_cursor_order(workspace: Paths) -> None:
    with RunningCrmServer(workspace.crm_dir) as crm:
        rows = _all_pages(f"{crm.base_url}/api/v1/customers?page_size=70")
        first = _get(f"{crm.base_url}/api/v1/customers?page_size=70")
    ids = [r["customer_id"] for r in rows]
    assert len(ids) == len(set(ids)) == first["total_records"] == 500
    assert len(first["data"]) == 70
    stamps = [(r["updated_at"], r["customer_id"]) for r in rows]
    assert stamps == sorted(stamps)


def test_updated_since_returns_only_newer_records(workspace: Paths) -> None:
    with RunningCrmServer(workspace.crm_dir) as crm:
        everything = _all_pages(f"{crm.base_url}/api/v1/customers?page_size=500")
        since = sorted(r["updated_at"] for r in everything)[400]
        newer = _all_pages(f"{crm.base_url}/api/v1/customers?updated_since={since}")
    expected = {r["customer_id"] for r in everything if r["updated_at"] >= since}
    assert {r["customer_id"] for r in newer} == expected
    assert 0 < len(newer) < len(everything)


def test_invalid_paging_is_a_clear_400(workspace: Paths) -> None:
    with RunningCrmServer(workspace.crm_dir) as crm, pytest.raises(
        urllib.error.HTTPError
    ) as raised:
        _get(f"{crm.base_url}/api/v1/customers?page=zero")
    assert raised.value.code == 400
    assert "positive integers" in raised.value.read().decode()


def test_absent_fields_are_omitted_not_null(workspace: Paths) -> None:
    with RunningCrmServer(workspace.crm_dir) as crm:
        rows = _get(f"{crm.base_url}/api/v1/customers?page_size=50")["data"]
    assert all("preferred_channel" not in r for r in rows)


def test_the_benchmark_serves_the_crm_from_a_process_of_its_own(workspace: Paths,
                                                                   tmp_path: Path) -> None:
    log = tmp_path / "serve-crm.log"
    with served_crm(dict(os.environ), log) as url:
        rows = _all_pages(f"{url}/api/v1/customers?page_size=200")
    assert len({r["customer_id"] for r in rows}) == len(rows) == 500
    with pytest.raises(urllib.error.URLError):
        _get(f"{url}/health")  # stopped with the block
    assert f"CRM API on {url}/api/v1/customers" in log.read_text()
