"""A client of Airflow's REST API v2, doing what a user or an outside scheduler does.

Log in (``POST /auth/token``), unpause a DAG, trigger a run for a logical date, wait for it to
end, and read its task instances' states. Used by the real-deployment test and by
``make bench``, so both drive Airflow through the same public interface.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx

FINISHED_RUN_STATES = frozenset({"success", "failed"})
PAGE = 100
"""Task instances per request: Airflow's default ``[api] maximum_page_limit``."""


class AirflowApiError(RuntimeError):
    """The API answered something other than what the call needs."""


def wait_until_healthy(base_url: str, timeout_s: float, alive: Any = None) -> None:
    """Poll ``/api/v2/monitor/health`` until it answers 200.

    ``alive``: an optional callable; when it returns ``False`` (the process serving the API
    died) waiting stops at once.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        if alive is not None and not alive():
            raise AirflowApiError(f"the process serving {base_url} exited while starting")
        try:
            if httpx.get(f"{base_url}/api/v2/monitor/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AirflowApiError(f"{base_url} did not answer within {timeout_s:g} s")
        time.sleep(1)


class AirflowApi:
    """An authenticated session on one Airflow API server."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.client = httpx.Client(base_url=base_url, timeout=30,
                                   headers={"Authorization": f"Bearer {token}"})

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> AirflowApi:
        answer = httpx.post(f"{base_url}/auth/token", timeout=30,
                            json={"username": username, "password": password})
        if answer.status_code != 201:
            raise AirflowApiError(f"login as {username} refused: {answer.status_code}")
        return cls(base_url, str(answer.json()["access_token"]))

    def close(self) -> None:
        self.client.close()

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.client.request(method, path, **kwargs)
        if answer.status_code >= 300:
            raise AirflowApiError(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
        return answer.json()

    def wait_for_dag(self, dag_id: str, timeout_s: float) -> None:
        """Wait until the DAG processor has parsed the DAG into the metadata database."""
        deadline = time.monotonic() + timeout_s
        while self.client.get(f"/api/v2/dags/{dag_id}").status_code != 200:
            if time.monotonic() > deadline:
                raise AirflowApiError(f"{dag_id} not parsed within {timeout_s:g} s")
            time.sleep(1)

    def unpause(self, dag_id: str) -> None:
        self._json("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, logical_date: datetime) -> str:
        """Start a run of the DAG for ``logical_date``; returns its run id."""
        run = self._json("POST", f"/api/v2/dags/{dag_id}/dagRuns",
                         json={"logical_date": logical_date.isoformat()})
        return str(run["dag_run_id"])

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}"))

    def wait_for_run(self, dag_id: str, run_id: str, timeout_s: float,
                     poll_s: float = 1.0) -> dict[str, Any]:
        """Poll the run until it succeeds or fails; returns it as the API shows it."""
        deadline = time.monotonic() + timeout_s
        while True:
            run = self.run(dag_id, run_id)
            if run["state"] in FINISHED_RUN_STATES:
                return run
            if time.monotonic() > deadline:
                raise AirflowApiError(f"run {run_id} still {run['state']} after {timeout_s:g} s")
            time.sleep(poll_s)

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        """``task_id -> state`` of every task instance of the run."""
        states: dict[str, str] = {}
        offset = 0
        while True:
            page = self._json("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                              params={"limit": PAGE, "offset": offset})
            for ti in page["task_instances"]:
                states[str(ti["task_id"])] = str(ti["state"])
            offset += len(page["task_instances"])
            if not page["task_instances"] or offset >= int(page["total_entries"]):
                return states

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """A task attempt's log as the UI shows it, one event per line."""
        answer = self._json(
            "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/"
            f"{try_number}", params={"full_content": "true"},
            headers={"Accept": "application/json"})
        lines = []
        for entry in answer.get("content", []):
            if isinstance(entry, dict):
                lines.append(" ".join(str(entry.get(key, "")) for key in ("event", "sources")
                                      if entry.get(key)))
            else:
                lines.append(str(entry))
        return "\n".join(lines)
