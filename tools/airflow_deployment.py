"""`make airflow` in a private folder, as a user starts it, for a test or a benchmark.

Everything the deployment writes stays under one folder: its ``AIRFLOW_HOME`` (metadata
database, logs, generated password and JWT secret), the DuckDB warehouse and dlt's state,
the demo sources and the OpenLineage events. The DAG runs only when triggered
(``RETAIL_DAG_SCHEDULE=none``), so unpausing it does not start a scheduled run of today.
Stopping is what Ctrl-C does: SIGINT to make's process group.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tools.airflow_api import AirflowApi, wait_until_healthy

PROJECT_DIR = Path(__file__).resolve().parents[1]
ADMIN = "admin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (those alive now)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def process_title(cmdline: Sequence[str], limit: int = 60) -> str:
    """A process's command line without folders (``python airflow_scheduler.py ...``), cut
    to ``limit`` characters: what a report may show of it."""
    words = []
    for word in cmdline:
        name, equals, value = word.rpartition("=") if "=" in word else ("", "", word)
        words.append(f"{name}{equals}{Path(value).name}" if "/" in value else word)
    return " ".join(" ".join(words).split())[:limit]


def process_memory_mb(pid: int) -> list[tuple[str, float, float]]:
    """Each process of the tree: its title (``process_title``), its resident (RSS) and its
    proportional (PSS) memory, MiB."""
    processes = []
    for process in process_tree(pid):
        try:
            full = process.memory_full_info()
            title = process_title(process.cmdline()) or process.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        processes.append((title, full.rss / 2**20, getattr(full, "pss", full.rss) / 2**20))
    return processes


@dataclass
class PeakMemory:
    """Samples a process tree's memory in a thread; keeps the peaks of RSS and PSS, and
    each process's PSS at the PSS peak (where the memory went).

    The LocalExecutor's workers and the task processes are forks sharing pages with their
    parent: the RSS sum counts a shared page once per process, the PSS sum once in all.
    """

    pid: int
    interval_s: float = 0.5
    peak_rss_mb: float = 0.0
    peak_pss_mb: float = 0.0
    at_peak_pss_mb: list[tuple[str, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            processes = process_memory_mb(self.pid)
            rss = sum(rss for _, rss, _ in processes)
            pss = sum(pss for _, _, pss in processes)
            self.peak_rss_mb = max(self.peak_rss_mb, rss)
            if pss > self.peak_pss_mb:
                self.peak_pss_mb = pss
                self.at_peak_pss_mb = sorted(
                    ((title, round(process_pss)) for title, _, process_pss in processes),
                    key=lambda item: -item[1])

    def __enter__(self) -> PeakMemory:
        threading.Thread(target=self._sample, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()


@dataclass
class Deployment:
    """A running `make airflow` and where it keeps its state."""

    process: subprocess.Popen[bytes]
    root: Path
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def home(self) -> Path:
        return self.root / "airflow-home"

    @property
    def warehouse(self) -> Path:
        """The DuckDB file the components write."""
        return self.root / "warehouse" / "retail.duckdb"

    @property
    def log(self) -> Path:
        return self.root / "make-airflow.log"

    def admin_password(self) -> str:
        passwords = json.loads((self.home / "simple_auth_manager_passwords.json.generated")
                               .read_text())
        return str(passwords[ADMIN])

    def api(self) -> AirflowApi:
        return AirflowApi.login(self.base_url, ADMIN, self.admin_password())

    def interrupt(self, timeout_s: float = 15.0) -> list[psutil.Process]:
        """Ctrl-C: SIGINT to make's group; returns the processes still alive after the wait."""
        tree = process_tree(self.process.pid)
        os.killpg(self.process.pid, signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout_s)
        _, alive = psutil.wait_procs(tree, timeout=1)
        return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]

    def kill(self) -> None:
        """Last resort after a failed test: SIGKILL to every process left of the tree."""
        for leftover in process_tree(self.process.pid):
            try:
                leftover.kill()
            except psutil.NoSuchProcess:
                continue
        self.process.wait()


def make_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment without its Airflow settings: the Makefile sets them."""
    env = {key: value for key, value in base.items()
           if not key.startswith("AIRFLOW") and key != "MAKEFLAGS"}
    env["RETAIL_DAG_SCHEDULE"] = "none"
    return env


@contextmanager
def make_airflow(root: Path, scale: float, *, startup_timeout_s: float = 300,
                 extra_env: Mapping[str, str] | None = None) -> Iterator[Deployment]:
    """Start `make airflow` with its state under ``root``; wait until its API answers.

    A demo already in ``root / "demo"`` is used as it is; otherwise `make airflow`
    generates one at ``scale``. On leaving, whatever still runs is killed.
    """
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    home = root / "airflow-home"
    log = (root / "make-airflow.log").open("w")
    process = subprocess.Popen(
        ["make", "--no-print-directory", "airflow", f"AIRFLOW_HOME={home}",
         f"AIRFLOW_PORT={port}", f"SCALE={scale:g}", f"AIRFLOW_WAREHOUSE={root / 'warehouse'}",
         f"AIRFLOW_DEMO_DIR={root / 'demo'}",
         f"OPENLINEAGE_FILE={root / 'openlineage' / 'events.jsonl'}"],
        cwd=PROJECT_DIR, env=dict(make_environment(os.environ), **(extra_env or {})),
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deployment = Deployment(process, root, port)
    try:
        wait_until_healthy(deployment.base_url, startup_timeout_s,
                           alive=lambda: process.poll() is None)
        yield deployment
    finally:
        log.close()
        if process.poll() is None or process_tree(process.pid):
            deployment.kill()
