"""Fixtures shared by every suite: demo workspaces and the real database servers."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingestion.demo import generator
from ingestion.settings import Paths, load_paths
from ingestion.sources import URL_VARIABLES

TEST_SCALE = 0.05
TEST_SEED = 42

DEFAULT_PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
DEFAULT_MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306/test"


DEMO_TIMELINE_MODULES = frozenset({
    "tests/integration/test_gold_models.py",
    "tests/integration/test_customer_analytics.py",
})
"""The modules that read the session's demo timeline (``demo_run``): one worker runs them all,
so the timeline is built once. A module missing here still passes; it only builds it again."""


def _group(nodeid: str) -> str:
    module = nodeid.split("::", 1)[0]
    return "demo-timeline" if module in DEMO_TIMELINE_MODULES else module


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`make test` runs the suite on several workers (pytest-xdist, ``--dist loadscope``).

    A module runs whole on one worker, so a module-scoped timeline is built once; the
    modules sharing the session's demo timeline run together on one worker too.
    """
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return ModuleScheduling(config, log)


LONGEST_FIRST = (
    "tests/integration/test_dag_end_to_end.py",
    "tests/integration/test_portability_spark.py",
    "demo-timeline",
    "tests/dags/test_make_airflow.py",
)
"""The longest groups (``--durations``, which `make test` prints), started first."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest groups first, then the other slow ones, so no long module ends up last
    on one worker while the other idles. The order is otherwise the collection order."""
    slow = {_group(item.nodeid) for item in items if item.get_closest_marker("slow")}

    def rank(item: pytest.Item) -> int:
        group = _group(item.nodeid)
        if group in LONGEST_FIRST:
            return LONGEST_FIRST.index(group)
        return len(LONGEST_FIRST) + (0 if group in slow else 1)

    items.sort(key=rank)


def services_required() -> bool:
    """CI sets RETAIL_REQUIRE_SERVICES=1: a missing database is then a failure, not a skip."""
    return os.environ.get("RETAIL_REQUIRE_SERVICES") == "1"


def require_server(url: str, what: str) -> None:
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure to connect means "not available"
        message = f"{what} is not reachable at {sa.make_url(url).render_as_string()}: {error}"
        if services_required():
            pytest.fail(message + " (RETAIL_REQUIRE_SERVICES=1)")
        pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def demo_sources() -> Iterator[None]:
    """The suite reads the demo's stand-ins: RETAIL_SOURCES=demo for every test and every
    command it runs (a test of configured sources removes it from its own environment)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETAIL_SOURCES", "demo")
        yield


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Day 0 of the demo, generated once per session; tests copy it before changing it."""
    root = tmp_path_factory.mktemp("demo-template")
    paths = Paths(demo_dir=root / "demo", duckdb_path=root / "unused.duckdb",
                  pipelines_dir=root / "unused")
    generator.generate(paths, TEST_SCALE, TEST_SEED)
    return root / "demo"


@pytest.fixture
def workspace(tmp_path: Path, demo_template: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """A private copy of the day-0 demo and an empty warehouse, wired through the env."""
    shutil.copytree(demo_template, tmp_path / "demo")
    monkeypatch.setenv("RETAIL_DEMO_DIR", str(tmp_path / "demo"))
    monkeypatch.setenv("RETAIL_DUCKDB_PATH", str(tmp_path / "warehouse" / "retail.duckdb"))
    monkeypatch.setenv("RETAIL_DLT_PIPELINES_DIR", str(tmp_path / "pipelines"))
    for variable in URL_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    return load_paths()


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get("RETAIL_TEST_PG_URL", DEFAULT_PG_URL)
    require_server(url, "PostgreSQL")
    return url


@pytest.fixture(scope="session")
def mysql_admin_url() -> str:
    url = os.environ.get("RETAIL_TEST_MYSQL_URL", DEFAULT_MYSQL_URL)
    require_server(url, "MariaDB")
    return url


@pytest.fixture
def pg_database(pg_admin_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh PostgreSQL database, exported as RETAIL_PG_* for dlt and dbt; dropped after."""
    name = f"retail_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = sa.make_url(pg_admin_url)
    monkeypatch.setenv("RETAIL_PG_HOST", url.host or "127.0.0.1")
    monkeypatch.setenv("RETAIL_PG_PORT", str(url.port or 5432))
    monkeypatch.setenv("RETAIL_PG_USER", url.username or "postgres")
    monkeypatch.setenv("RETAIL_PG_PASSWORD", url.password or "")
    monkeypatch.setenv("RETAIL_PG_DATABASE", name)
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.fixture
def mysql_database(mysql_admin_url: str) -> Iterator[str]:
    name = f"retail_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(mysql_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database `{name}`"))
    yield sa.make_url(mysql_admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f"drop database if exists `{name}`"))
    admin.dispose()
