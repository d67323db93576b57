"""The CRM stand-in speaks a paginated REST API with an updated_since filter."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from ingestion.demo.crm_server import RunningCrmServer
from ingestion.settings import Paths


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
