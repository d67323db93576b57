"""Azurite, Microsoft's Blob Storage emulator, run as a subprocess for the duration of a test.

The binary comes from the npm dev dependency in package.json (``npm ci`` puts it in
``node_modules/.bin``). Without it a test skips, or fails when RETAIL_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import services_required

REPO_ROOT = Path(__file__).resolve().parents[2]
AZURITE_BLOB = REPO_ROOT / "node_modules" / ".bin" / "azurite-blob"
HOST = "127.0.0.1"
# Azurite's built-in development account; the key is public, published in Azurite's README.
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
               "K1SZFPTOtr/KBHBeksoGMGw==")
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Azurite:
    port: int

    @property
    def blob_endpoint(self) -> str:
        return f"http://{HOST}:{self.port}/{ACCOUNT_NAME}"

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT_NAME};"
                f"AccountKey={ACCOUNT_KEY};BlobEndpoint={self.blob_endpoint};")


def skip_or_fail(message: str) -> None:
    if services_required():
        pytest.fail(message + " (RETAIL_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    """Any HTTP answer counts: an unsigned request gets 403 from a healthy Azurite."""
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _tail(log: Path, lines: int = 20) -> str:
    if not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def running_azurite(location: Path, attempts: int = 3) -> Iterator[Azurite]:
    """Start Azurite's blob service on a free loopback port, wait until it answers, stop it."""
    if not AZURITE_BLOB.exists():
        skip_or_fail(f"Azurite is not installed ({AZURITE_BLOB.relative_to(REPO_ROOT)} is "
                     "missing): run `npm ci` at the repository root")
    location.mkdir(parents=True, exist_ok=True)
    log = location / "azurite.log"
    for attempt in range(1, attempts + 1):
        port = _free_port()
        service = Azurite(port)
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(AZURITE_BLOB), "--blobHost", HOST, "--blobPort", str(port),
                 "--location", str(location / "data"), "--silent", "--skipApiVersionCheck",
                 "--loose"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=location,
            )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while process.poll() is None and time.monotonic() < deadline:
                if _answers(f"{service.blob_endpoint}?comp=list"):
                    break
                time.sleep(0.2)
            else:
                if process.poll() is not None and attempt < attempts:
                    continue  # most likely the port was taken between probe and bind
                pytest.fail(f"Azurite did not answer on {service.blob_endpoint} within "
                            f"{START_TIMEOUT_S:.0f} s (exit code {process.poll()}):\n"
                            f"{_tail(log)}")
            yield service
            return
        finally:
            _stop(process)
