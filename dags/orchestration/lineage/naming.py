"""OpenLineage names of what the DAG reads and writes, after the OpenLineage naming spec.

A dataset is a namespace (the data source, ``scheme://authority``) and a name (the dataset
within it). The warehouse tables are named exactly as the OpenLineage dbt integration names
the models, sources and snapshots cosmos runs, so the ingest tasks' outputs, the dbt tasks'
inputs and outputs and the Power BI refresh's inputs are the same datasets:

* DuckDB: ``duckdb://<path of the file, as profiles.yml renders it>``,
  ``<database>.<schema>.<table>`` (dbt-duckdb's database is the file name without extension);
* PostgreSQL: ``postgres://<host>:<port>``, ``<database>.<schema>.<table>``.

The source systems are named by their URLs, without user, password or query: a CRM API
``https://crm.example.com`` (name: its path, ``/`` for the root), an ERP database
``postgres://host:5432`` or ``mysql://host:3306`` (name: the database), a file or a folder
(SQLite ERP, landing folder) ``file`` (name: its absolute path), an Azure container
``abfss://container@account.dfs.core.windows.net`` (name: the prefix). The Power BI dataset is
``powerbi://<API host>/groups/<workspace id>``, named by its dataset id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

SCHEME_ALIASES = {"postgresql": "postgres", "mariadb": "mysql", "az": "abfss"}
"""URL schemes (before any ``+driver``) and the OpenLineage scheme of the same system."""

DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306, "https": 443, "http": 80}


@dataclass(frozen=True)
class DatasetName:
    """One OpenLineage dataset: where it lives and what it is called there."""

    namespace: str
    name: str


@dataclass(frozen=True)
class WarehouseNaming:
    """How the dbt target's tables are named: its namespace and its database."""

    namespace: str
    database: str

    def table(self, schema: str, table: str) -> DatasetName:
        """A table or view of the warehouse."""
        return DatasetName(self.namespace, ".".join(p for p in (self.database, schema, table) if p))


class UnsupportedTargetError(ValueError):
    """A dbt target whose tables this module cannot name (neither DuckDB nor PostgreSQL)."""


def render_profile_target(profiles_yml: Path, profile: str, target: str) -> dict[str, Any]:
    """The ``target`` output of ``profile`` with its ``env_var()`` calls rendered, as the
    OpenLineage dbt integration renders it (``as_number`` keeps the text)."""
    from openlineage.common.provider.dbt.local import DbtLocalArtifactProcessor

    outputs = yaml.safe_load(profiles_yml.read_text())[profile]["outputs"]
    env = DbtLocalArtifactProcessor.setup_jinja()
    return {
        key: env.from_string(value).render() if isinstance(value, str) else value
        for key, value in outputs[target].items()
    }


def warehouse_naming(output: Mapping[str, Any]) -> WarehouseNaming:
    """Namespace and database of a rendered dbt output (``UnsupportedTargetError`` if unknown)."""
    kind = str(output.get("type", ""))
    if kind == "duckdb":
        path = str(output.get("path", ""))
        database = str(output.get("database") or "")
        if not database:
            database = "memory" if path in {"", ":memory:"} else Path(path).stem
        return WarehouseNaming(f"duckdb://{path}", database)
    if kind == "postgres":
        database = str(output.get("dbname") or output.get("database") or "")
        return WarehouseNaming(f"postgres://{output['host']}:{output['port']}", database)
    raise UnsupportedTargetError(f"no OpenLineage naming for dbt targets of type {kind!r}")


def source_system(url: str) -> DatasetName:
    """A source system named by its URL; never carries its user, password or query."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0].lower()
    scheme = SCHEME_ALIASES.get(scheme, scheme)
    if scheme in {"", "file", "sqlite"}:
        # a local file or folder: "file" and its absolute path
        path = unquote(parts.path) if scheme else url
        return DatasetName("file", str(Path(path).resolve()))
    if scheme == "abfss" and "@" not in parts.netloc:
        # az://container/prefix: the account is in the credentials, not in the URL
        return DatasetName(f"abfss://{parts.hostname or ''}", parts.path or "/")
    host = parts.hostname or ""
    port = parts.port or DEFAULT_PORTS.get(scheme)
    authority = f"{host}:{port}" if port else host
    if scheme in {"postgres", "mysql"}:
        return DatasetName(f"{scheme}://{authority}", parts.path.strip("/"))
    if scheme == "abfss":
        container = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
        return DatasetName(f"abfss://{container}@{host}", parts.path or "/")
    return DatasetName(f"{scheme}://{authority}", parts.path or "/")


def powerbi_dataset(api_base_url: str, group_id: str, dataset_id: str) -> DatasetName:
    """The Power BI dataset (semantic model) a refresh updates."""
    host = urlsplit(api_base_url).netloc.rsplit("@", 1)[-1]
    return DatasetName(f"powerbi://{host}/groups/{group_id}", dataset_id)
