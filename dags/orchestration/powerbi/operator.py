"""``PowerBIRefreshOperator``: refresh the Power BI dataset after the gold layer is built.

The task runs synchronously in its worker slot (no triggerer needed): it starts one
refresh, polls the history until the refresh ends, and returns a small summary as XCom.
If the connection is missing or incomplete (laptops, CI) the task is skipped, not failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowSkipException

from orchestration.powerbi.errors import PowerBIConfigError
from orchestration.powerbi.hook import PowerBIHook

log = logging.getLogger(__name__)


class PowerBIRefreshOperator(BaseOperator):
    """Trigger a Power BI dataset refresh and wait for it to finish.

    :param conn_id: Airflow connection with the Power BI settings
    :param timeout_s: how long to wait for the refresh to end before failing
    :param poll_interval_s: pause between two reads of the refresh history

    Returns ``{"request_id": ..., "status": ..., "seconds": ...}`` (pushed as XCom).
    Raises ``AirflowSkipException`` when the connection is not configured.
    """

    template_fields: Sequence[str] = ("conn_id",)
    ui_color = "#f2c811"

    def __init__(
        self,
        *,
        conn_id: str = PowerBIHook.default_conn_name,
        timeout_s: float = 1800.0,
        poll_interval_s: float = 30.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.timeout_s = timeout_s
        self.poll_interval_s = poll_interval_s

    def make_hook(self) -> PowerBIHook:
        """The hook used by ``execute``; override to inject settings."""
        return PowerBIHook(conn_id=self.conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        """Trigger the refresh, wait for it, and return the summary."""
        with self.make_hook() as hook:
            try:
                _ = hook.config
            except PowerBIConfigError as err:
                message = f"Power BI refresh skipped: {err}"
                log.info(message)
                raise AirflowSkipException(message) from err

            started = time.monotonic()
            request_id = hook.trigger_refresh()
            log.info("Power BI refresh started, request id %s", request_id or "(none)")
            entry = hook.wait_for_refresh(
                request_id, timeout_s=self.timeout_s, poll_interval_s=self.poll_interval_s
            )
            seconds = round(time.monotonic() - started, 1)
            status = str(entry.get("status"))
            log.info(
                "Power BI refresh %s finished with status %s after %.1f s",
                request_id or "(none)",
                status,
                seconds,
            )
            return {"request_id": request_id, "status": status, "seconds": seconds}
