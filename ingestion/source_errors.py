"""Turn a failure deep inside dlt, requests or a database driver into one actionable line."""

from __future__ import annotations

from collections.abc import Iterator

import requests
from dlt.destinations.exceptions import DestinationConnectionError

from ingestion.errors import UserError
from ingestion.settings import crm_http_settings, postgres_settings

PG_SETTINGS = "RETAIL_PG_HOST / RETAIL_PG_PORT / RETAIL_PG_USER / RETAIL_PG_PASSWORD / " \
              "RETAIL_PG_DATABASE"


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it was raised from (dlt keeps the original in .exception)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = getattr(current, "exception", None)
        pending += [wrapped if isinstance(wrapped, BaseException) else None,
                    current.__cause__, current.__context__]


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _crm_unreachable(error: BaseException) -> UserError:
    http = crm_http_settings()
    return UserError(
        f"the CRM API did not answer ({type(error).__name__}) after {http.max_attempts} "
        f"attempts of {http.timeout_s:g} s (check RETAIL_CRM_URL; RETAIL_CRM_TIMEOUT_S and "
        "RETAIL_CRM_MAX_ATTEMPTS set how long to wait)")


def _erp_unreachable(error: BaseException, source_url: str) -> UserError:
    import sqlalchemy as sa

    url = sa.make_url(source_url).render_as_string(hide_password=True)
    return UserError(f"cannot read the ERP database {url}: {_first_line(error)} "
                     "(check RETAIL_ERP_URL and that the server is running)")


def _warehouse_unreachable(error: BaseException, destination: str) -> UserError:
    if destination == "postgres":
        pg = postgres_settings()
        return UserError(
            f"cannot connect to the PostgreSQL warehouse {pg.host}:{pg.port}/{pg.database}: "
            f"{_first_line(error)} (set {PG_SETTINGS}, or start the server)")
    return UserError(f"cannot connect to the {destination} warehouse: {_first_line(error)} "
                     "(check its RETAIL_* connection settings)")


def explain_failure(error: BaseException, source: str, source_url: str,
                    destination: str) -> UserError | None:
    """A UserError for failures the user can fix (unreachable systems), else None."""
    chain = list(causes(error))
    for cause in chain:
        if source == "crm" and isinstance(cause, requests.ConnectionError | requests.Timeout):
            return _crm_unreachable(cause)
    if source == "erp":
        import sqlalchemy as sa  # only the ERP reads through SQLAlchemy (slow to import)

        for cause in chain:
            if isinstance(cause, sa.exc.OperationalError | sa.exc.InterfaceError):
                return _erp_unreachable(cause, source_url)
    for cause in chain:
        if isinstance(cause, DestinationConnectionError) or (
                type(cause).__module__.startswith("psycopg2")
                and type(cause).__name__ == "OperationalError"):
            return _warehouse_unreachable(cause, destination)
    return None
