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

    def __init__(self, server: ServerT) -> None:
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)

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
