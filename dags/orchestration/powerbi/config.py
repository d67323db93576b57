"""Settings the Power BI hook needs, read from an Airflow connection.

The connection (default id ``powerbi_default``) is laid out as:

* ``login``: client id of the service principal
* ``password``: client secret
* extras ``tenant_id``, ``group_id`` (workspace) and ``dataset_id``
* optional extras ``api_base_url``, ``authority_url`` and ``scope``, which default to the
  public Power BI service; tests point them at a local server.

``PowerBIConnectionConfig`` can also be built by hand and handed to ``PowerBIHook`` as
``config=...``; the hook then never asks Airflow for a connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from orchestration.powerbi.errors import PowerBIConfigError

DEFAULT_API_BASE_URL = "https://api.powerbi.com/v1.0/myorg"
DEFAULT_AUTHORITY_URL = "https://login.microsoftonline.com"
DEFAULT_SCOPE = "https://analysis.windows.net/powerbi/api/.default"


class ConnectionLike(Protocol):
    """The part of ``airflow.sdk.Connection`` this module reads."""

    login: str | None
    password: str | None

    @property
    def extra_dejson(self) -> dict[str, Any]:
        """Extras as a dict."""
        ...


@dataclass(frozen=True)
class PowerBIConnectionConfig:
    """Everything needed to talk to one Power BI dataset. The secret is kept out of repr."""

    client_id: str
    client_secret: str = field(repr=False)
    tenant_id: str
    group_id: str
    dataset_id: str
    api_base_url: str = DEFAULT_API_BASE_URL
    authority_url: str = DEFAULT_AUTHORITY_URL
    scope: str = DEFAULT_SCOPE

    @classmethod
    def from_connection(cls, conn_id: str, conn: ConnectionLike) -> PowerBIConnectionConfig:
        """Build the config from an Airflow connection, or raise ``PowerBIConfigError``."""
        extra = conn.extra_dejson or {}
        values = {
            "login (client id)": conn.login,
            "password (client secret)": conn.password,
            "tenant_id": extra.get("tenant_id"),
            "group_id": extra.get("group_id"),
            "dataset_id": extra.get("dataset_id"),
        }
        missing = tuple(name for name, value in values.items() if not _text(value))
        if missing:
            raise PowerBIConfigError(conn_id, missing)
        return cls(
            client_id=_text(conn.login),
            client_secret=_text(conn.password),
            tenant_id=_text(extra["tenant_id"]),
            group_id=_text(extra["group_id"]),
            dataset_id=_text(extra["dataset_id"]),
            api_base_url=_text(extra.get("api_base_url")) or DEFAULT_API_BASE_URL,
            authority_url=_text(extra.get("authority_url")) or DEFAULT_AUTHORITY_URL,
            scope=_text(extra.get("scope")) or DEFAULT_SCOPE,
        )

    @property
    def token_url(self) -> str:
        """Client-credentials token endpoint of the tenant."""
        return f"{self.authority_url.rstrip('/')}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def refreshes_url(self) -> str:
        """Refresh collection of the dataset: POST starts one, GET lists the history."""
        return (
            f"{self.api_base_url.rstrip('/')}/groups/{self.group_id}"
            f"/datasets/{self.dataset_id}/refreshes"
        )


def _text(value: object) -> str:
    """Stripped string for a connection field, empty when unset."""
    return str(value).strip() if value is not None else ""
