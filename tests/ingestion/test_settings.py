"""The one settings module: every variable read the same way, bad values named with the fix.

Covers the shared helpers as the ingestion and the DAG use them, the Synapse login choices
(Python and ``profiles.yml`` alike), dlt's own destination configuration, and the process
defaults the Makefile exports from ``ingestion/runtime.py``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path
from typing import Any

import dlt
import pytest
import yaml
from sqlalchemy.engine import make_url

from ingestion.destinations import make_destination, synapse_destination
from ingestion.runtime import RUNTIME_DEFAULTS
from ingestion.settings import (
    DEFAULT_DUCKDB_PATH,
    SYNAPSE_AUTHENTICATIONS,
    SettingError,
    load_paths,
    postgres_settings,
    synapse_authentication,
)
from orchestration.settings import load_settings

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No RETAIL_* or dlt destination variable of the caller's shell leaks in."""
    for name in list(os.environ):
        if name.startswith(("RETAIL_", "DESTINATION__")):
            monkeypatch.delenv(name)


# -- the DAG's settings go through the shared helpers -----------------------------------------


def test_a_bad_number_of_retries_names_the_variable_and_the_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETAIL_DAG_RETRIES", "abc")

    with pytest.raises(SettingError) as caught:
        load_settings()

    assert str(caught.value) == (
        "RETAIL_DAG_RETRIES='abc' is not a number of retries (set RETAIL_DAG_RETRIES to a "
        "whole number from 0 to 100, or unset it for 2)")
    assert isinstance(caught.value, ValueError)  # what int() raised before


@pytest.mark.parametrize(("name", "value", "accepted"), [
    ("RETAIL_DAG_RETRIES", "-1", "a whole number from 0 to 100"),
    ("RETAIL_DAG_RETRY_DELAY_S", "-5", "a number from 0 up"),
    ("RETAIL_DAG_MAX_RETRY_DELAY_S", "soon", "a number from 0 up"),
    ("RETAIL_POWERBI_TIMEOUT_S", "0", "a positive number"),
    ("RETAIL_POWERBI_POLL_S", "nan", "a positive number"),
    ("RETAIL_DAG_START_DATE", "yesterday", "an ISO date"),
])
def test_every_numeric_dag_setting_is_checked(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, accepted: str,
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingError, match=f"^{name}={value!r} is not .*set {name} to {accepted}"):
        load_settings()


def test_blank_means_unset_and_whitespace_is_dropped_in_the_dag_as_in_the_ingestion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETAIL_DAG_RETRIES", "  ")
    monkeypatch.setenv("RETAIL_DAG_RETRY_DELAY_S", " 0 ")
    monkeypatch.setenv("RETAIL_POWERBI_POLL_S", "2.5\n")
    monkeypatch.setenv("RETAIL_PG_PORT", " 6543 ")
    monkeypatch.setenv("RETAIL_DUCKDB_PATH", "")

    settings = load_settings()

    assert (settings.retries, settings.retry_delay_s, settings.powerbi_poll_s) == (2, 0.0, 2.5)
    assert postgres_settings().port == 6543
    assert load_paths().duckdb_path == Path(DEFAULT_DUCKDB_PATH)


# -- PostgreSQL ------------------------------------------------------------------------------


def test_a_password_with_url_characters_survives_the_sqlalchemy_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETAIL_PG_USER", "etl@retail")
    # a generated value, with every character a URL must escape
    password = f"{secrets.token_hex(4)}@:/% "
    monkeypatch.setenv("RETAIL_PG_PASSWORD", password)
    monkeypatch.setenv("RETAIL_PG_HOST", " dwh.internal ")

    settings = postgres_settings()
    url = make_url(settings.sqlalchemy_url())
    dlt_url = make_url(settings.dlt_credentials())

    # a secret is passed on exactly as given (dbt reads it verbatim too); a host is trimmed
    assert url.password == dlt_url.password == password
    assert url.username == "etl@retail"
    assert (url.host, url.port, url.database) == ("dwh.internal", 5432, "retail")


# -- DuckDB ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("configured", "duckdb_reports"), [
    (None, "488.2 MiB"),  # the default, 512MB
    ("2GB", "1.8 GiB"),
])
def test_dlt_loads_into_duckdb_under_a_memory_limit_the_environment_can_change(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, configured: str | None, duckdb_reports: str,
) -> None:
    monkeypatch.setenv("RETAIL_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    if configured:
        monkeypatch.setenv("RETAIL_DUCKDB_LOAD_MEMORY_LIMIT", configured)
    pipeline = dlt.pipeline("memory_limit", destination=make_destination("duckdb", load_paths()),
                            dataset_name="bronze_probe", pipelines_dir=str(tmp_path / "dlt"))
    pipeline.run([{"id": 1}], table_name="probe")

    with pipeline.sql_client() as client:
        setting = client.execute_sql("select current_setting('memory_limit')")
        loaded = client.execute_sql("select count(*) from probe")

    assert setting == [(duckdb_reports,)]
    assert loaded == [(1,)]


# -- Synapse ---------------------------------------------------------------------------------


def test_an_unknown_synapse_login_is_rejected_with_the_allowed_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETAIL_SYNAPSE_AUTHENTICATION", "bogus")

    expected = ("RETAIL_SYNAPSE_AUTHENTICATION='bogus' is not one of ServicePrincipal, "
                "SqlPassword")
    with pytest.raises(SettingError, match=f"^{expected} "):
        synapse_authentication()
    with pytest.raises(SettingError, match=f"^{expected} "):
        synapse_destination()


def test_synapse_login_is_matched_without_regard_to_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert synapse_authentication() == "ServicePrincipal"
    monkeypatch.setenv("RETAIL_SYNAPSE_AUTHENTICATION", " sqlpassword ")
    assert synapse_authentication() == "SqlPassword"


def _synapse_credentials() -> Any:
    destination = synapse_destination()
    return destination.configuration(None, accept_partial=True).credentials


def test_synapse_sql_login_hands_dlt_the_user_and_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETAIL_SYNAPSE_AUTHENTICATION", "SqlPassword")
    monkeypatch.setenv("RETAIL_SYNAPSE_SERVER", "ws.sql.azuresynapse.net")
    monkeypatch.setenv("RETAIL_SYNAPSE_USER", "loader")
    password = f"{secrets.token_hex(4)};}}"
    monkeypatch.setenv("RETAIL_SYNAPSE_PASSWORD", password)

    credentials = _synapse_credentials()

    assert (credentials.host, credentials.port, credentials.database) == (
        "ws.sql.azuresynapse.net", 1433, "retail")
    assert (credentials.username, credentials.password) == ("loader", password)
    assert "authentication" not in (credentials.query or {})


def test_dlt_fills_in_what_no_retail_variable_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAIL_SYNAPSE_SERVER", "ws.sql.azuresynapse.net")
    monkeypatch.setenv("RETAIL_SYNAPSE_CLIENT_ID", "app-id")
    monkeypatch.setenv("DESTINATION__SYNAPSE__CREDENTIALS__HOST", "other.sql.azuresynapse.net")
    monkeypatch.setenv("DESTINATION__SYNAPSE__CREDENTIALS__DATABASE", "pool_from_dlt")
    dlt_password = secrets.token_hex(8)
    monkeypatch.setenv("DESTINATION__SYNAPSE__CREDENTIALS__PASSWORD", dlt_password)
    monkeypatch.setenv("DESTINATION__SYNAPSE__CREDENTIALS__PORT", "1444")

    credentials = _synapse_credentials()

    assert credentials.host == "ws.sql.azuresynapse.net"  # a RETAIL_* variable wins
    assert (credentials.database, credentials.password, credentials.port) == (
        "pool_from_dlt", dlt_password, 1444)
    assert credentials.username == "app-id"
    assert credentials.query["authentication"] == "ActiveDirectoryServicePrincipal"


def test_a_dlt_connection_string_is_used_when_no_retail_variable_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DESTINATION__SYNAPSE__CREDENTIALS",
                       "synapse://loader:pw@dlt.sql.azuresynapse.net/pool"
                       "?driver=ODBC+Driver+18+for+SQL+Server")

    credentials = _synapse_credentials()

    assert (credentials.host, credentials.database, credentials.username) == (
        "dlt.sql.azuresynapse.net", "pool", "loader")
    assert "authentication" not in (credentials.query or {})


def _render_synapse_profile(monkeypatch: pytest.MonkeyPatch, login: str) -> dict[str, Any]:
    """The synapse output of profiles.yml as dbt renders it."""
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    monkeypatch.setenv("RETAIL_SYNAPSE_AUTHENTICATION", login)
    set_invocation_context(os.environ)
    profiles = yaml.safe_load((REPO_ROOT / "profiles.yml").read_text())
    output = profiles["retail_medallion"]["outputs"]["synapse"]
    rendered: dict[str, Any] = ProfileRenderer({}).render_data(output)
    return rendered


@pytest.mark.parametrize(("login", "dbt_login"), [
    ("", "ActiveDirectoryServicePrincipal"),
    ("ServicePrincipal", "ActiveDirectoryServicePrincipal"),
    ("SqlPassword", "sql"),
    ("sqlpassword", "sql"),
])
def test_profiles_yml_takes_the_same_synapse_logins(
    monkeypatch: pytest.MonkeyPatch, login: str, dbt_login: str,
) -> None:
    monkeypatch.setenv("RETAIL_SYNAPSE_USER", "loader")

    rendered = _render_synapse_profile(monkeypatch, login)

    assert rendered["authentication"] == dbt_login
    assert rendered["user"] == "loader"
    assert {choice.lower() for choice in SYNAPSE_AUTHENTICATIONS} == {
        "serviceprincipal", "sqlpassword"}


def test_profiles_yml_rejects_another_synapse_login_naming_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(Exception, match="RETAIL_SYNAPSE_AUTHENTICATION=CLI is not one of "
                                        "ServicePrincipal, SqlPassword"):
        _render_synapse_profile(monkeypatch, "CLI")


# -- process defaults ------------------------------------------------------------------------


def test_the_makefile_exports_the_runtime_defaults_and_lets_the_user_override(
    tmp_path: Path,
) -> None:
    show = tmp_path / "show.mk"
    show.write_text("show:\n\t@env\n")
    env = {key: value for key, value in os.environ.items()
           if key not in RUNTIME_DEFAULTS and key != "MAKEFLAGS"}
    env["DO_NOT_TRACK"] = "0"

    result = subprocess.run(
        ["make", "--no-print-directory", "-f", "Makefile", "-f", str(show), "show"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True, timeout=60)

    exported = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert {name: exported.get(name) for name in RUNTIME_DEFAULTS} == {
        **RUNTIME_DEFAULTS, "DO_NOT_TRACK": "0"}
