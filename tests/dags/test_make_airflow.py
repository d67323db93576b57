"""`make airflow` as a user starts it: local only, with a login, the DAG served.

The real Airflow components (standalone: scheduler, DAG processor, triggerer, API server) run
in their own process group on a free port with a private AIRFLOW_HOME; the test reads the
kernel's socket table to see where the API server listens and talks to its REST API v2.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening_addresses(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses (hex, as /proc/net shows them) listening on the port."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                addresses.add(address)
    return addresses


@pytest.fixture(scope="module")
def airflow_standalone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("airflow-home")
    port = _free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("AIRFLOW") and key != "MAKEFLAGS"}
    process = subprocess.Popen(
        ["make", "--no-print-directory", "airflow", f"AIRFLOW_HOME={home}",
         f"AIRFLOW_PORT={port}", "SCALE=0.05"],
        cwd=PROJECT_DIR, env=env, stdout=(home / "make-airflow.log").open("w"),
        stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, (home / "make-airflow.log").read_text()[-4000:]
            try:
                if httpx.get(f"{base_url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "Airflow did not answer within 5 minutes"
            time.sleep(2)
        yield base_url, home
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        finally:
            with_leftovers = subprocess.run(["pgrep", "-g", str(process.pid)],
                                            capture_output=True, check=False)
            if with_leftovers.stdout:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.slow
def test_api_server_listens_on_loopback_only(airflow_standalone: tuple[str, Path]) -> None:
    base_url, _ = airflow_standalone
    port = int(base_url.rsplit(":", 1)[1])
    loopback_v4 = "0100007F"  # 127.0.0.1, little-endian hex
    assert _listening_addresses(port) == {loopback_v4}


@pytest.mark.slow
def test_api_refuses_visitors_without_a_login(airflow_standalone: tuple[str, Path]) -> None:
    base_url, _ = airflow_standalone
    assert httpx.get(f"{base_url}/api/v2/dags", timeout=10).status_code == 401


@pytest.mark.slow
def test_generated_admin_login_sees_the_dag(airflow_standalone: tuple[str, Path]) -> None:
    base_url, home = airflow_standalone
    passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
    assert set(passwords) == {"admin"} and len(passwords["admin"]) >= 12
    token = httpx.post(f"{base_url}/auth/token", timeout=10,
                       json={"username": "admin", "password": passwords["admin"]})
    assert token.status_code == 201, token.text
    dags = httpx.get(f"{base_url}/api/v2/dags", timeout=10,
                     headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert dags.status_code == 200
    assert [dag["dag_id"] for dag in dags.json()["dags"]] == ["retail_medallion"]
    wrong = httpx.post(f"{base_url}/auth/token", timeout=10,
                       json={"username": "admin", "password": "admin"})
    assert wrong.status_code == 401
    assert (home / "jwt_secret").stat().st_mode & 0o077 == 0
