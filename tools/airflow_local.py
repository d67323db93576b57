"""Airflow on a laptop: its components as child processes that stop when asked.

``python -m tools.airflow_local`` (what ``make airflow`` runs once the metadata database is
migrated) starts ``airflow scheduler``, ``airflow dag-processor``, ``airflow api-server`` and
``airflow triggerer``, each in a process group of its own, and prefixes their output with the
component's name. ``airflow standalone`` did the same, but on Ctrl-C its scheduler waited more
than 100 s on its workers, and a SIGTERM left components running. Here SIGINT, SIGTERM or
SIGHUP sends SIGTERM to every group, waits ``--stop-timeout`` seconds, then SIGKILLs whatever
is left, including the task processes, which the task SDK puts in groups of their own. When a
component dies the others are stopped and the exit status is non-zero.

The triggerer runs only when a task of the DAG defers: cosmos' sensors under
``ExecutionMode.WATCHER`` (``RETAIL_DBT_EXECUTION_MODE=watcher``). Under the default LOCAL
mode nothing defers (the Power BI refresh polls in its worker slot), and the triggerer with
its log server would hold about 240 MB for nothing; ``--triggerer on`` starts it anyway,
for DAGs of your own that defer. Neither the scheduler nor the triggerer starts Airflow's
log server: every component runs on this machine, and the API server reads the task logs
from the log folder they share (a running task's page also says the log server was not
reached).

Sizing for a laptop, unless the variable is already set: ``[core] parallelism`` (the
LocalExecutor's worker processes) ``min(CPUs, 4)``, or 1 where the DAG runs one task at a
time anyway (a DuckDB warehouse under the LOCAL mode), one DAG-parsing process (the folder holds
one DAG file), one API server worker, a task heartbeat every second instead of five (see
``laptop_environment``); the API server listens on ``AIRFLOW__API__HOST`` (default 127.0.0.1),
passed explicitly, and the tasks reach its execution API on that host and
``AIRFLOW__API__PORT``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

import psutil

MAX_PARALLELISM = 4
HEARTBEAT_INTERVAL_S = 1
"""``[workers] min_heartbeat_interval``: how often a running task heartbeats, and the longest a
finished task's supervisor can wait before it notices the process has exited."""
SCHEDULER_IDLE_SLEEP_S = 0.1
"""``[scheduler] scheduler_idle_sleep_time``: the longest the scheduler sleeps after a loop that
found nothing to do, so about half of it passes between a task's end and its successor's start.
Airflow's 1 s cost a day at scale 1 (62 tasks one after the other) about 12 s (paired runs:
107.5 to 95.8 s, 127.0 to 115.0 s); the price is the scheduler's CPU while nothing runs:
8.8 CPU-seconds a minute against 1.3 (measured)."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class Component:
    """One long-running child process, named for its output prefix."""

    name: str
    command: tuple[str, ...]


def one_task_at_a_time(env: Mapping[str, str]) -> bool:
    """Whether the DAG runs one task at a time whatever the machine: a DuckDB warehouse (one
    writer per file, every warehouse task in a one-slot pool) under the LOCAL mode, as the
    DAG's ``Settings.single_writer`` decides it. Under the watcher, cosmos' sensors run
    beside the producer's ``dbt build``, outside the pool.
    """
    target = env.get("RETAIL_DBT_TARGET", "duckdb").strip() or "duckdb"
    destination = env.get("RETAIL_DLT_DESTINATION", "").strip() or target
    watcher = env.get("RETAIL_DBT_EXECUTION_MODE", "local").strip().lower() == "watcher"
    return "duckdb" in {target, destination} and not watcher


def laptop_environment(base: Mapping[str, str], cpus: int | None = None) -> dict[str, str]:
    """``base`` with the laptop sizing added where it does not set the variable itself."""
    env = dict(base)
    workers = max(1, min(cpus or os.cpu_count() or 1, MAX_PARALLELISM))
    # A second LocalExecutor worker would only wait beside the first (about 35 MB of its own).
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "1" if one_task_at_a_time(env) else str(workers))
    env.setdefault("AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES", "1")
    env.setdefault("AIRFLOW__API__WORKERS", "1")
    env.setdefault("AIRFLOW__API__HOST", "127.0.0.1")
    env.setdefault("AIRFLOW__API__PORT", "8080")
    # A task's supervisor notices its process has exited only between two waits on the task's
    # sockets; once the last socket closed before the exit, it waits this long for nothing.
    # Airflow's default of 5 s held the worker after 12 to 15 of a day's 62 tasks (measured).
    env.setdefault("AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL", str(HEARTBEAT_INTERVAL_S))
    # The DAG's tasks run one after the other: each waits for a scheduler loop after the last.
    env.setdefault("AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME", str(SCHEDULER_IDLE_SLEEP_S))
    # The task processes report to the API server's execution API: on its actual port, not
    # Airflow's default of localhost:8080.
    host = env["AIRFLOW__API__HOST"]
    reachable = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
    env.setdefault("AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
                   f"http://{reachable}:{env['AIRFLOW__API__PORT']}/execution/")
    return env


TRIGGERER_CHOICES = ("auto", "on", "off")


def triggerer_needed(env: Mapping[str, str], choice: str = "auto") -> bool:
    """``auto``: only when the DAG's tasks defer, i.e. cosmos' watcher sensors."""
    if choice != "auto":
        return choice == "on"
    return env.get("RETAIL_DBT_EXECUTION_MODE", "local").strip().lower() == "watcher"


def airflow_components(env: Mapping[str, str], with_triggerer: bool = True) -> list[Component]:
    """The commands of Airflow's components, the API server bound to the configured host.

    No component starts Airflow's log server (``--skip-serve-logs``): they all write to
    and read from this machine's log folder.
    """
    beside_python = Path(sys.executable).with_name("airflow")
    airflow = str(beside_python) if beside_python.exists() else "airflow"
    api_server = (airflow, "api-server", "--host", env.get("AIRFLOW__API__HOST", "127.0.0.1"),
                  "--port", env.get("AIRFLOW__API__PORT", "8080"),
                  "--workers", env.get("AIRFLOW__API__WORKERS", "1"))
    # the scheduler imports dbt first, so the task processes forked from it find it loaded
    scheduler = (sys.executable, str(Path(__file__).with_name("airflow_scheduler.py")),
                 "--skip-serve-logs")
    components = [
        Component("scheduler", scheduler),
        Component("dag-processor", (airflow, "dag-processor")),
        Component("api-server", api_server),
    ]
    if with_triggerer:
        components.append(Component("triggerer", (airflow, "triggerer", "--skip-serve-logs")))
    return components


class Supervisor:
    """Starts the components, relays their output and stops them all, on a signal or a death."""

    def __init__(self, components: Sequence[Component], env: Mapping[str, str],
                 stop_timeout: float = 5.0, out: IO[str] | None = None) -> None:
        self.components = list(components)
        self.env = dict(env)
        self.stop_timeout = stop_timeout
        self.out = out or sys.stdout
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._stop_requested = threading.Event()
        self._output_lock = threading.Lock()
        self._relays: list[threading.Thread] = []

    def say(self, name: str, line: str) -> None:
        with self._output_lock:
            self.out.write(f"{name:<13}| {line}\n")
            self.out.flush()

    def request_stop(self, signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        """Signal handler: the main loop stops the components."""
        self._stop_requested.set()

    def start(self) -> None:
        for component in self.components:
            process = subprocess.Popen(component.command, env=self.env, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       start_new_session=True)
            self.processes[component.name] = process
            relay = threading.Thread(target=self._relay, args=(component.name, process),
                                     daemon=True)
            relay.start()
            self._relays.append(relay)
            self.say("supervisor", f"started {component.name} (pid {process.pid})")

    def _relay(self, name: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            self.say(name, raw.decode("utf-8", "replace").rstrip())

    def run(self) -> int:
        """Start, then wait for a stop signal (exit 0) or a component's death (exit 1)."""
        previous = {signum: signal.signal(signum, self.request_stop) for signum in STOP_SIGNALS}
        try:
            self.start()
            while not self._stop_requested.wait(0.2):
                dead = [(name, code) for name, process in self.processes.items()
                        if (code := process.poll()) is not None]
                if dead:
                    for name, code in dead:
                        self.say("supervisor", f"{name} exited ({code}): stopping the others")
                    self.stop()
                    return 1
            self.say("supervisor", "stopping every component")
            self.stop()
            return 0
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _descendants(self) -> list[psutil.Process]:
        found: list[psutil.Process] = []
        for process in self.processes.values():
            try:
                found += psutil.Process(process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                continue
        return found

    def stop(self) -> None:
        """SIGTERM to every group; SIGKILL to what is left after ``stop_timeout`` seconds."""
        descendants = self._descendants()
        for process in self.processes.values():
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        _, alive = psutil.wait_procs(descendants, timeout=max(0.0, deadline - time.monotonic()))
        for name, process in self.processes.items():
            if _signal_group(process.pid, signal.SIGKILL):
                self.say("supervisor", f"{name} did not stop in {self.stop_timeout:g} s: killed")
        for leftover in alive:
            try:
                leftover.kill()
            except psutil.NoSuchProcess:
                continue
        for process in self.processes.values():
            process.wait()
        psutil.wait_procs(alive, timeout=self.stop_timeout)
        for relay in self._relays:
            relay.join(timeout=1)


def _signal_group(pgid: int, signum: int) -> bool:
    """Send ``signum`` to a process group; ``False`` when the group has no process left."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.airflow_local",
                                     description="run Airflow's components; Ctrl-C stops them")
    parser.add_argument("--stop-timeout", type=float, default=5.0,
                        help="seconds between SIGTERM and SIGKILL (default 5)")
    parser.add_argument("--triggerer", choices=TRIGGERER_CHOICES, default="auto",
                        help="start the triggerer: auto (default) when the DAG's tasks defer, "
                             "i.e. RETAIL_DBT_EXECUTION_MODE=watcher; on; off")
    args = parser.parse_args(argv)
    env = laptop_environment(os.environ)
    with_triggerer = triggerer_needed(env, args.triggerer)
    supervisor = Supervisor(airflow_components(env, with_triggerer=with_triggerer), env,
                            stop_timeout=args.stop_timeout)
    supervisor.say("supervisor", f"parallelism {env['AIRFLOW__CORE__PARALLELISM']}; "
                   + ("" if with_triggerer else
                      "no triggerer (no task defers; --triggerer on starts one); ")
                   + "Ctrl-C stops every component")
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
