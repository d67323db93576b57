"""Serve the dbt docs site that ``dbt docs generate`` wrote, on this machine only.

``python -m tools.docs_server --port 8080 --target-dir target`` serves ``index.html``,
``manifest.json`` and ``catalog.json`` from the target folder on 127.0.0.1, prints the URL and
runs until Ctrl-C. ``--port 0`` picks a free port. Unlike ``dbt docs serve`` it neither opens
a browser nor changes the working directory, so tests and scripts can run it in the background.
"""

from __future__ import annotations

import argparse
import functools
import signal
import sys
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

from ingestion.httpd import BackgroundServer, LocalHTTPServer

DEFAULT_PORT = 8080
DEFAULT_TARGET_DIR = "target"
SITE_FILES = ("index.html", "manifest.json", "catalog.json")


class DocsSiteMissing(FileNotFoundError):
    """The target folder holds no generated docs site."""


def missing_site_files(target_dir: Path) -> list[str]:
    return [name for name in SITE_FILES if not (target_dir / name).is_file()]


class _QuietHandler(SimpleHTTPRequestHandler):
    """Static files from the target folder, without one log line per request."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return


class DocsHTTPServer(LocalHTTPServer):
    def __init__(self, target_dir: Path, host: str = "127.0.0.1",
                 port: int = DEFAULT_PORT) -> None:
        missing = missing_site_files(target_dir)
        if missing:
            raise DocsSiteMissing(
                f"no dbt docs site in {target_dir} (missing {', '.join(missing)}): "
                "run `dbt docs generate --profiles-dir .` first"
            )
        handler = functools.partial(_QuietHandler, directory=str(target_dir))
        super().__init__((host, port), handler)
        self.target_dir = target_dir

    @property
    def url(self) -> str:
        return f"{self.base_url}/"


class RunningDocsServer(BackgroundServer[DocsHTTPServer]):
    """The docs server in a background thread, for tests and scripts; stopped on exit."""

    def __init__(self, target_dir: Path, port: int = 0) -> None:
        super().__init__(DocsHTTPServer(target_dir, port=port))

    @property
    def url(self) -> str:
        return self.server.url


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.docs_server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 = any free port)")
    parser.add_argument("--target-dir", type=Path, default=Path(DEFAULT_TARGET_DIR),
                        help="folder `dbt docs generate` wrote to (default: target)")
    return parser


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        server = DocsHTTPServer(args.target_dir.resolve(), port=args.port)
    except DocsSiteMissing as error:
        print(error, file=sys.stderr)
        return 1
    except OSError as error:
        print(f"cannot listen on 127.0.0.1:{args.port}: {error.strerror} "
              "(choose another with --port)", file=sys.stderr)
        return 1
    print(f"dbt docs on {server.url} (serving {server.target_dir}; Ctrl-C to stop)", flush=True)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)  # `kill` stops it as cleanly as Ctrl-C
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
