"""The demo CRM served by a process of its own while the CRM ingest is measured.

A real CRM answers from its own machine: encoding its pages as JSON is not the ingest's work.
``make demo`` serves the demo CRM from a thread of the ingesting process, which charges that
encoding (and its share of the GIL) to the ingest; the benchmark measures both ways.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tools.airflow_deployment import free_port

STARTUP_TIMEOUT_S = 60.0


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the demo CRM server exited ({process.returncode}); see {log}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health",
                                                                  timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the demo CRM server did not answer within {STARTUP_TIMEOUT_S:.0f} s")


@contextlib.contextmanager
def served_crm(env: dict[str, str], log: Path) -> Iterator[str]:
    """``python -m ingestion serve-crm`` on a free loopback port; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("a") as out:
        process = subprocess.Popen([sys.executable, "-m", "ingestion", "serve-crm",
                                    "--port", str(port)], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        _wait_until_up(url, process, log)
        # the server reads the CRM's files on its first page request: read them now, so the
        # measured ingest does not wait for it
        with urllib.request.urlopen(f"{url}/api/v1/customers?page_size=1", timeout=120):
            pass
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
