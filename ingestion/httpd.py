"""Loopback HTTP servers run in a background thread: the CRM stand-in and the docs site."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from typing import Generic, Self, TypeVar


class LocalHTTPServer(ThreadingHTTPServer):
    """A threading server whose request threads never keep the process alive."""

    daemon_threads = True

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


ServerT = TypeVar("ServerT", bound=LocalHTTPServer)


class BackgroundServer(Generic[ServerT]):
    """Serve in a daemon thread inside a ``with`` block; shut down and close on exit."""

    POLL_INTERVAL_S = 0.05
    """How often the serving loop checks for shutdown: exiting waits up to this long (the
    standard library's 0.5 s added a quarter second on average to every CRM ingest)."""

    def __init__(self, server: ServerT) -> None:
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever,
                                        kwargs={"poll_interval": self.POLL_INTERVAL_S},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
