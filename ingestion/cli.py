"""``python -m ingestion generate|advance|ingest|serve-crm``."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import traceback
from contextlib import AbstractContextManager
from dataclasses import asdict

from ingestion.demo.sources import demo_endpoints
from ingestion.destinations import DESTINATIONS
from ingestion.errors import UserError
from ingestion.ingest import SOURCES, format_summary, ingest_source
from ingestion.settings import Paths, load_paths
from ingestion.sources import SourceEndpoints, configured_endpoints, demo_sources_requested


def _say(message: str) -> None:
    print(message, flush=True)


def _say_error(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback when something fails")
    parser = argparse.ArgumentParser(prog="python -m ingestion", description=__doc__,
                                     parents=[common])
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, parents=[common])

    gen = add("generate", "create day 0 of the demo sources")
    gen.add_argument("--scale", type=float, default=1.0,
                     help="1 = 10k customers, ~200k sales lines")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--history-days", type=int, default=90)
    gen.add_argument("--start-date", default="2026-01-01", help="business date of day 1")
    gen.add_argument("--drift-day", type=int, default=2,
                     help="day from which the CRM sends a new field")

    adv = add("advance", "apply daily increments to all sources")
    adv.add_argument("--days", type=int, default=1)

    ing = add("ingest", "load what is new into bronze")
    ing.add_argument("--source", choices=(*SOURCES, "all"), default="all")
    ing.add_argument("--destination", choices=DESTINATIONS, default="duckdb")
    ing.add_argument("--report", help="also write the summary as JSON to this file")

    srv = add("serve-crm", "serve the demo CRM API until interrupted")
    srv.add_argument("--port", type=int, default=8765)
    return parser


def _endpoints(paths: Paths, names: tuple[str, ...]
               ) -> AbstractContextManager[SourceEndpoints]:
    """The configured sources; the demo's stand-ins only when RETAIL_SOURCES=demo."""
    if demo_sources_requested():
        return demo_endpoints(paths, names)
    return contextlib.nullcontext(configured_endpoints(names))


def _ingest(args: argparse.Namespace) -> None:
    paths = load_paths()
    started = time.perf_counter()
    names = SOURCES if args.source == "all" else (args.source,)
    with _endpoints(paths, names) as endpoints:
        reports = [ingest_source(name, args.destination, paths, _say, endpoints)
                   for name in names]
    _say(format_summary(reports))
    _say(f"bronze written to {args.destination}"
         + (f" ({paths.duckdb_path})" if args.destination == "duckdb" else "")
         + f" in {time.perf_counter() - started:.1f} s")
    if args.report:
        with open(args.report, "w") as handle:
            json.dump([asdict(r) | {"rows_per_second": r.rows_per_second}
                       for r in reports], handle, indent=2)


def _serve_crm(args: argparse.Namespace) -> None:
    from ingestion.demo.crm_server import CrmHTTPServer

    server = CrmHTTPServer(load_paths().crm_dir, port=args.port)
    _say(f"CRM API on {server.base_url}/api/v1/customers (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


def _run(args: argparse.Namespace) -> None:
    # the generator (and the sources it writes with) is imported only where it is used:
    # ``ingest`` starts faster without it
    if args.command == "generate":
        from ingestion.demo import generator

        generator.generate(load_paths(), args.scale, args.seed, args.history_days,
                           args.start_date, args.drift_day, progress=_say)
    elif args.command == "advance":
        from ingestion.demo import generator

        paths = load_paths()
        if not paths.state_path.exists():
            raise UserError(f"no demo data in {paths.demo_dir} (run `python -m ingestion "
                            "generate` first or set RETAIL_DEMO_DIR)")
        state = generator.advance(paths, args.days, progress=_say)
        _say(f"demo is now at day {state.day} ({state.business_date()})")
    elif args.command == "ingest":
        _ingest(args)
    elif args.command == "serve-crm":
        _serve_crm(args)


def main(argv: list[str] | None = None) -> int:
    """Run one command; a problem the user can fix is one line on stderr and exit code 2."""
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except UserError as error:
        if getattr(args, "verbose", False):
            traceback.print_exc()
        _say_error(f"error: {error}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
