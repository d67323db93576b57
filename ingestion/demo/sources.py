"""The demo's stand-ins wired in as sources, explicitly: the demo uses ingestion, never back.

``demo_endpoints`` serves the generated CRM files over HTTP for the duration of a run and
points the ERP at the generated SQLite file and the sales source at the landing folder. A
URL that is configured (``RETAIL_ERP_URL`` on a MariaDB the generator wrote, say) is kept.
It is used by the ``demo`` command, and by ``ingest`` and the Airflow DAG when
``RETAIL_SOURCES=demo``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ingestion.demo.crm_server import RunningCrmServer
from ingestion.errors import UserError
from ingestion.ingest import SOURCES, ingest_source
from ingestion.pipeline import Progress, SourceReport
from ingestion.settings import Paths
from ingestion.sources import URL_VARIABLES, SourceEndpoints, configured_url


def demo_erp_url(paths: Paths) -> str:
    """Where the generator writes the demo ERP: RETAIL_ERP_URL, or a SQLite file."""
    return configured_url("erp") or f"sqlite:///{paths.erp_sqlite_path.resolve()}"


def _not_generated(what: str, where: object, source: str) -> UserError:
    return UserError(f"no demo {what} at {where} (run `python -m ingestion generate` first "
                     f"or set {URL_VARIABLES[source]})")


@contextlib.contextmanager
def demo_endpoints(paths: Paths, sources: tuple[str, ...] = SOURCES
                   ) -> Iterator[SourceEndpoints]:
    """Each given source's configured URL, or its demo stand-in (the CRM served meanwhile)."""
    urls = {source: url for source in sources if (url := configured_url(source))}
    with contextlib.ExitStack() as stack:
        if "erp" in sources and "erp" not in urls:
            if not paths.erp_sqlite_path.exists():
                raise _not_generated("ERP database", paths.erp_sqlite_path, "erp")
            urls["erp"] = demo_erp_url(paths)
        if "sales" in sources and "sales" not in urls:
            if not paths.landing_dir.exists():
                raise _not_generated("sales landing folder", paths.landing_dir, "sales")
            urls["sales"] = paths.landing_dir.resolve().as_uri()
        if "crm" in sources and "crm" not in urls:
            if not paths.crm_dir.exists():
                raise _not_generated("CRM data", paths.crm_dir, "crm")
            urls["crm"] = stack.enter_context(RunningCrmServer(paths.crm_dir)).base_url
        yield SourceEndpoints(urls)


def ingest_demo_source(name: str, destination: str, paths: Paths,
                       progress: Progress) -> SourceReport:
    """One source from the demo's stand-ins into ``destination``."""
    with demo_endpoints(paths, (name,)) as endpoints:
        return ingest_source(name, destination, paths, progress, endpoints)
