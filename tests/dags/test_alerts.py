"""The failure callback posts one ``{"text": ...}`` message to a webhook, when configured."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from orchestration.alerts import WEBHOOK_ENV, failure_message, notify_failure


class Receiver:
    """Local webhook answering ``status`` and recording JSON bodies."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/services/T000/B000/secret-token"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()
    running.server.server_close()


def failed_context() -> dict[str, Any]:
    ti = SimpleNamespace(
        dag_id="retail_medallion", task_id="bronze_gate", run_id="r1", try_number=1, log_url=None
    )
    dag_run = SimpleNamespace(
        dag_id="retail_medallion",
        run_id="scheduled__2026-01-01",
        logical_date=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return {
        "ti": ti,
        "dag_run": dag_run,
        "exception": RuntimeError("bronze gate failed: 1 critical expectation(s) not met"),
    }


def test_failure_is_posted_as_text_to_the_configured_webhook(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WEBHOOK_ENV, receiver.url)

    notify_failure(failed_context())

    assert len(receiver.bodies) == 1
    [body] = receiver.bodies
    assert list(body) == ["text"]
    assert "bronze_gate" in body["text"] and "retail_medallion" in body["text"]
    assert "2026-01-01" in body["text"]
    assert "bronze gate failed" in body["text"]


def test_without_a_webhook_the_callback_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    monkeypatch.delenv("AIRFLOW_VAR_RETAIL_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_RETAIL_ALERT_WEBHOOK", raising=False)

    notify_failure(failed_context())  # no error, no request


def test_webhook_url_can_come_from_an_airflow_connection(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    monkeypatch.setenv(
        "AIRFLOW_CONN_RETAIL_ALERT_WEBHOOK",
        json.dumps({"conn_type": "http", "password": receiver.url}),
    )

    notify_failure(failed_context())

    assert len(receiver.bodies) == 1


def test_a_failing_webhook_never_raises_nor_logs_its_url(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    failing = Receiver(status=500)
    monkeypatch.setenv(WEBHOOK_ENV, failing.url)
    try:
        notify_failure(failed_context())
    finally:
        failing.server.shutdown()
        failing.server.server_close()

    assert len(failing.bodies) == 1
    assert "HTTP 500" in caplog.text
    assert "secret-token" not in caplog.text


def test_message_names_dag_task_run_and_error() -> None:
    message = failure_message(failed_context())

    assert message.splitlines()[0] == "Airflow: task bronze_gate of DAG retail_medallion failed"
    assert "scheduled__2026-01-01" in message
