"""Run a command as a child process and record its wall time and peak memory."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_rss_mb: float


def run_measured(command: list[str], env: dict[str, str], cwd: Path,
                 log: Path) -> Measurement:
    """Run to completion (raising on failure) and return the child's own resource use."""
    started = time.perf_counter()
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out,
                                   stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"`{' '.join(command)}` failed ({process.returncode}); see {log}")
    return Measurement(seconds=seconds, peak_rss_mb=usage.ru_maxrss / 1024)
