"""``PowerBIRefreshOperator``: refresh the Power BI dataset after the gold layer is built.

The task runs in its worker slot (no triggerer needed): it starts one refresh, follows it
in the refresh history until it ends, and returns a small summary as XCom. Without a
usable connection (laptops, CI) the task is skipped with one log line, not failed.
It reports its lineage to the OpenLineage provider: the gold tables the dataset imports
(``lineage_inputs``) as inputs, the Power BI dataset as output.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowSkipException

from orchestration.powerbi.errors import PowerBIConfigError
from orchestration.powerbi.hook import PowerBIHook

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

log = logging.getLogger(__name__)


class PowerBIRefreshOperator(BaseOperator):
    """Trigger a Power BI dataset refresh and wait for it to finish.

    :param conn_id: Airflow connection with the Power BI settings
    :param timeout_s: time allowed for waiting until a running refresh of someone else
        ends and for ours to finish, together
    :param poll_interval_s: pause between two reads of the refresh history
    :param history_top: refresh history entries searched for ours on each read
    :param lineage_inputs: ``(schema, table)`` of the warehouse relations the dataset
        imports, reported as the inputs of its OpenLineage events

    Returns ``{"request_id": ..., "status": ..., "seconds": ...}`` (pushed as XCom).
    """

    template_fields: Sequence[str] = ("conn_id",)
    ui_color = "#f2c811"

    def __init__(
        self,
        *,
        conn_id: str = PowerBIHook.default_conn_name,
        timeout_s: float = 1800.0,
        poll_interval_s: float = 30.0,
        history_top: int = 10,
        lineage_inputs: Sequence[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.timeout_s = timeout_s
        self.poll_interval_s = poll_interval_s
        self.history_top = history_top
        self.lineage_inputs = [(schema, table) for schema, table in lineage_inputs]
        self.request_id: str | None = None

    def make_hook(self) -> PowerBIHook:
        """The hook used by ``execute``; override to inject settings."""
        return PowerBIHook(conn_id=self.conn_id, history_top=self.history_top)

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
            request_id = hook.trigger_refresh(
                busy_timeout_s=self.timeout_s, poll_interval_s=self.poll_interval_s
            )
            self.request_id = request_id
            remaining_s = max(self.timeout_s - (time.monotonic() - started), 0.0)
            entry = hook.wait_for_refresh(
                request_id, timeout_s=remaining_s, poll_interval_s=self.poll_interval_s
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

    def get_openlineage_facets_on_start(self) -> OperatorLineage | None:
        """Gold tables -> Power BI dataset; nothing when the connection is not configured."""
        return self._lineage()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage | None:
        """As on start, with the refresh's request id."""
        return self._lineage()

    def _lineage(self) -> OperatorLineage | None:
        from orchestration.lineage.tasks import powerbi_lineage

        try:
            config = self.make_hook().config
        except PowerBIConfigError:
            return None
        return powerbi_lineage(
            self.lineage_inputs,
            api_base_url=config.api_base_url,
            group_id=config.group_id,
            dataset_id=config.dataset_id,
            request_id=self.request_id,
        )
