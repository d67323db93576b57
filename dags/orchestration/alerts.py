"""Failure alerts: post ``{"text": ...}`` to a Slack or Microsoft Teams incoming webhook.

The webhook URL is looked up, first match wins, in:

1. the environment variable ``RETAIL_ALERT_WEBHOOK_URL``;
2. the Airflow Variable ``retail_alert_webhook_url``;
3. the Airflow connection ``retail_alert_webhook`` (the URL in ``host``, or in
   ``password`` for webhooks whose URL is the secret).

Nothing configured: the callback does nothing. The URL is never logged (for Slack it is
the credential), and a failing webhook never fails the task or hides its error.
"""

from __future__ import annotations

import logging
from typing import Any

from ingestion.settings import setting

log = logging.getLogger(__name__)

WEBHOOK_ENV = "RETAIL_ALERT_WEBHOOK_URL"
WEBHOOK_VARIABLE = "retail_alert_webhook_url"
WEBHOOK_CONN_ID = "retail_alert_webhook"
TIMEOUT_S = 10.0


def webhook_url() -> str | None:
    """The configured webhook URL, or ``None``."""
    url = setting(WEBHOOK_ENV)
    if url:
        return url
    try:
        from airflow.sdk import Variable

        url = str(Variable.get(WEBHOOK_VARIABLE, default=None) or "").strip()
    except Exception:  # noqa: BLE001 - no metadata database or API at hand: not configured
        url = ""
    if url:
        return url
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(WEBHOOK_CONN_ID)
    except Exception:  # noqa: BLE001 - a missing connection raises; it means not configured
        return None
    for candidate in (conn.host, conn.password):
        if candidate and str(candidate).startswith(("http://", "https://")):
            return str(candidate)
    return None


def failure_message(context: Any) -> str:
    """One readable paragraph: which task of which run failed, and why."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag_id = getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = getattr(dag_run, "run_id", None) or getattr(ti, "run_id", "?")
    logical_date = getattr(dag_run, "logical_date", None)
    try_number = getattr(ti, "try_number", None)
    error = context.get("exception")
    reason = " ".join(str(error).split())[:800] if error else "no error message"
    lines = [
        f"Airflow: task {task_id} of DAG {dag_id} failed",
        f"run {run_id}"
        + (f", logical date {logical_date:%Y-%m-%d}" if logical_date else "")
        + (f", try {try_number}" if try_number else ""),
        f"error: {type(error).__name__ + ': ' if error else ''}{reason}",
    ]
    try:
        log_url = getattr(ti, "log_url", None)
    except Exception:  # noqa: BLE001 - the link is a convenience; no base URL, no link
        log_url = None
    if log_url:
        lines.append(f"log: {log_url}")
    return "\n".join(lines)


def notify_failure(context: Any) -> None:
    """``on_failure_callback``: post the failure to the webhook when one is configured."""
    url = webhook_url()
    if not url:
        return
    import httpx

    try:
        response = httpx.post(url, json={"text": failure_message(context)}, timeout=TIMEOUT_S)
        response.raise_for_status()
    except httpx.HTTPError as error:
        status = getattr(getattr(error, "response", None), "status_code", None)
        log.warning(
            "Failure alert not delivered to the webhook (%s%s)",
            type(error).__name__,
            f", HTTP {status}" if status else "",
        )
        return
    log.info("Failure alert posted to the webhook")
