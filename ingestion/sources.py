"""Where the source systems are: one URL per source, always configured explicitly.

Production ingestion reads ``RETAIL_CRM_URL``, ``RETAIL_ERP_URL`` and
``RETAIL_SALES_BUCKET_URL`` and nothing else: an unset URL is an error naming the variable,
never a silent fallback. The demo's stand-ins are wired in only when asked for
(``RETAIL_SOURCES=demo``, or the ``demo`` command), by ``ingestion.demo.sources``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingestion.errors import UserError
from ingestion.settings import setting, text_setting

URL_VARIABLES: dict[str, str] = {
    "crm": "RETAIL_CRM_URL",
    "erp": "RETAIL_ERP_URL",
    "sales": "RETAIL_SALES_BUCKET_URL",
}
"""Source name -> the variable holding its URL."""

WHAT_TO_SET: dict[str, str] = {
    "crm": "the CRM API's base URL, e.g. https://crm.example.com",
    "erp": "a SQLAlchemy URL of the ERP database, e.g. postgresql+psycopg2://user@host/erp",
    "sales": "the folder or bucket the sales files land in, e.g. az://landing/sales",
}

SOURCES_MODE_VARIABLE = "RETAIL_SOURCES"
MODES = ("configured", "demo")


@dataclass(frozen=True)
class SourceEndpoints:
    """The URL of each source a run reads; a source missing here is not read."""

    urls: dict[str, str] = field(default_factory=dict)

    def url(self, source: str) -> str:
        if source not in self.urls:
            raise UserError(_unset_message(source))
        return self.urls[source]


def _unset_message(source: str) -> str:
    variable = URL_VARIABLES[source]
    return (f"{variable} is not set: set it to {WHAT_TO_SET[source]} "
            f"(or {SOURCES_MODE_VARIABLE}=demo to read the demo's stand-ins)")


def configured_url(source: str) -> str | None:
    return setting(URL_VARIABLES[source])


def configured_endpoints(sources: tuple[str, ...]) -> SourceEndpoints:
    """The configured URL of every given source; the first unset one is an error."""
    urls = {}
    for source in sources:
        url = configured_url(source)
        if url is None:
            raise UserError(_unset_message(source))
        urls[source] = url
    return SourceEndpoints(urls)


def demo_sources_requested() -> bool:
    """True when RETAIL_SOURCES=demo: unset URLs are then the demo's stand-ins."""
    raw = text_setting(SOURCES_MODE_VARIABLE, "")
    mode = raw.lower() or "configured"
    if mode not in MODES:
        raise UserError(f"{SOURCES_MODE_VARIABLE}={raw!r} is not one of {', '.join(MODES)} "
                        f"(unset it to read the configured sources)")
    return mode == "demo"
