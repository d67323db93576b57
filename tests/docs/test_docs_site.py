"""The dbt docs site, served by ``dbt docs serve`` (as ``make docs`` does), in a real headless
browser.

A small demo is generated, ingested and built; ``dbt docs generate`` writes the site;
``dbt docs serve`` serves it on a free port and Chromium opens the lineage graph of ``fct_sales``.
The graph must show the chain a reader follows: a bronze source, through ``fct_sales``,
to the Power BI exposure. A screenshot of it is kept in ``artifacts/docs-lineage.png``.

Needs the ``playwright`` Python package and Debian's Chromium (``apt-get install chromium``);
no browser is downloaded. Without them the test is skipped, or fails under
RETAIL_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_SCALE, TEST_SEED, services_required

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent
CHROMIUM = Path(os.environ.get("RETAIL_CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # the test may run as root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = PROJECT_DIR / "artifacts" / "docs-lineage.png"
FCT_SALES = "model.retail_medallion.fct_sales"
EXPOSURES_YML = "models/marts/_exposures.yml"
BRONZE_SOURCES = ("source.retail_medallion.bronze_sales.", "source.retail_medallion.bronze_erp.")
STEP_TIMEOUT_SECONDS = 600
BROWSER_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.slow


def skip_or_fail(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (RETAIL_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def run_step(command: list[str], env: dict[str, str]) -> None:
    completed = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True,
                               text=True, timeout=STEP_TIMEOUT_SECONDS, check=False)
    if completed.returncode != 0:
        raise AssertionError(
            f"`{' '.join(command)}` exited with {completed.returncode}\n"
            f"--- stdout (tail) ---\n{completed.stdout[-6000:]}\n"
            f"--- stderr (tail) ---\n{completed.stderr[-3000:]}"
        )


def power_bi_exposures(docs_target: Path) -> set[str]:
    """Unique ids of the exposures declared in _exposures.yml that read fct_sales."""
    manifest = json.loads((docs_target / "manifest.json").read_text())
    return {
        unique_id
        for unique_id, exposure in manifest["exposures"].items()
        if exposure["original_file_path"] == EXPOSURES_YML
        and FCT_SALES in exposure["depends_on"]["nodes"]
    }


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Playwright and a Chromium binary; without them the browser test skips (or fails)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_or_fail("the playwright Python package is not installed (pip install playwright)")
    if not os.access(CHROMIUM, os.X_OK):
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install -y chromium, "
                     "or set RETAIL_CHROMIUM_PATH)")
    return CHROMIUM


@pytest.fixture(scope="session")
def docs_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo data, ingested and built with `dbt build`, then `dbt docs generate`."""
    root = tmp_path_factory.mktemp("docs-site")
    env = {
        **os.environ,
        "RETAIL_DEMO_DIR": str(root / "demo"),
        "RETAIL_DUCKDB_PATH": str(root / "warehouse" / "retail.duckdb"),
        "RETAIL_DLT_PIPELINES_DIR": str(root / "pipelines"),
        "RETAIL_DBT_TARGET": "duckdb",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PYTHONPATH": str(PROJECT_DIR),
    }
    for inherited in ("RETAIL_ERP_URL", "RETAIL_CRM_URL", "RETAIL_SALES_BUCKET_URL"):
        env.pop(inherited, None)
    python, dbt = str(BIN_DIR / "python"), str(BIN_DIR / "dbt")
    dbt_paths = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
                 "--target-path", str(root / "target"), "--log-path", str(root / "logs")]
    run_step([python, "-m", "ingestion", "generate", "--scale", str(TEST_SCALE),
              "--seed", str(TEST_SEED)], env)
    run_step([python, "-m", "ingestion", "ingest", "--source", "all"], env)
    run_step([dbt, "build", *dbt_paths], env)
    run_step([dbt, "docs", "generate", *dbt_paths], env)
    return root / "target"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def docs_served(docs_target: Path) -> Iterator[str]:
    """``dbt docs serve`` on 127.0.0.1 in the background; yields its URL, stops it after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen(
        [str(BIN_DIR / "dbt"), "docs", "serve", "--no-browser", "--host", "127.0.0.1",
         "--port", str(port), "--project-dir", str(PROJECT_DIR),
         "--profiles-dir", str(PROJECT_DIR), "--target-path", str(docs_target)],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "manifest.json", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                exited = server.poll() is not None
                if exited or time.monotonic() > deadline:
                    output = server.communicate(timeout=10)[0] if exited else ""
                    raise AssertionError(
                        f"`dbt docs serve` did not answer on {url}\n{output}") from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def browser_page(chromium: Path, tmp_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh profile for every run
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 1000},
            device_scale_factor=2,  # legible node labels in the screenshot
        )
        try:
            page = context.new_page()
            page.set_default_timeout(BROWSER_TIMEOUT_MS)
            yield page
        finally:
            context.close()


# The docs site draws the lineage with Cytoscape; its instance hangs off the #cy element.
RENDERED_GRAPH_JS = """
() => {
    const container = document.getElementById('cy');
    const cy = container && container._cyreg && container._cyreg.cy;
    if (!cy) { return null; }
    const box = container.getBoundingClientRect();
    return {
        container: {width: box.width, height: box.height},
        nodes: cy.nodes(':visible').map(node => ({
            id: node.id(),
            label: node.data('label'),
            x: node.renderedPosition('x'),
            y: node.renderedPosition('y'),
            width: node.renderedWidth(),
        })),
        edges: cy.edges(':visible').map(edge => [edge.source().id(), edge.target().id()]),
    };
}
"""


def reachable(edges: list[list[str]], start: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for parent, child in edges:
        children.setdefault(parent, []).append(child)
    seen, queue = {start}, deque([start])
    while queue:
        for child in children.get(queue.popleft(), []):
            if child not in seen:
                seen.add(child)
                queue.append(child)
    return seen


def test_lineage_graph_shows_sources_through_fct_sales_to_power_bi(
    chromium: Path, docs_target: Path, browser_page: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # `chromium` comes first so that a machine without a browser skips before the build.
    exposures = power_bi_exposures(docs_target)
    assert exposures, f"no exposure in {EXPOSURES_YML} depends on fct_sales"
    page = browser_page
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    with docs_served(docs_target) as url:
        page.goto(f"{url}#!/model/{FCT_SALES}")
        page.wait_for_selector("h1:has-text('fct_sales')")

        # The lineage button opens the graph in the sidebar; fullscreen widens the
        # selection to +fct_sales+ (everything upstream and downstream).
        page.click("a[title='View Lineage Graph']")
        page.click("a[title='View Fullscreen'][data-large]")
        page.wait_for_selector(".launcher[data-launcher='fullscreen']", state="attached")
        include = page.locator("input[ng-model='selectorService.selection.dirty.include']")
        if include.input_value() != "+fct_sales+":
            include.fill("+fct_sales+")
            page.click("#submit-graph-selection")
        page.wait_for_function(
            f"() => {{ const g = ({RENDERED_GRAPH_JS})(); return g !== null"
            f" && g.nodes.some(n => n.id === '{FCT_SALES}')"
            " && g.nodes.some(n => n.id.startsWith('exposure.'))"
            " && g.nodes.some(n => n.id.startsWith('source.')); }"
        )
        page.mouse.move(10, 10)  # no tooltip over the graph
        page.wait_for_timeout(1_500)  # let the layout animation settle for the screenshot
        graph = page.evaluate(RENDERED_GRAPH_JS)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
    with capsys.disabled():
        print(f"\nlineage screenshot: {SCREENSHOT.relative_to(PROJECT_DIR)}")

    assert page_errors == [], f"the docs site raised JavaScript errors: {page_errors}"
    nodes = {node["id"]: node for node in graph["nodes"]}
    width, height = graph["container"]["width"], graph["container"]["height"]
    assert width > 800 and height > 500, f"the graph is not shown fullscreen: {width}x{height}"
    for node in nodes.values():
        assert 0 <= node["x"] <= width and 0 <= node["y"] <= height and node["width"] > 0, (
            f"{node['id']} is drawn outside the graph ({node['x']:.0f}, {node['y']:.0f})"
        )

    sources = sorted(n for n in nodes if n.startswith(BRONZE_SOURCES))
    assert sources, f"no bronze_sales/bronze_erp source in the graph: {sorted(nodes)}"
    shown_exposures = exposures & set(nodes)
    assert shown_exposures, f"exposure {sorted(exposures)} is not in the graph: {sorted(nodes)}"

    edges = graph["edges"]
    sources_reaching_fct_sales = [s for s in sources if FCT_SALES in reachable(edges, s)]
    assert sources_reaching_fct_sales, f"no edge path from {sources} to fct_sales"
    assert shown_exposures <= reachable(edges, FCT_SALES), (
        f"no edge path from fct_sales to {sorted(shown_exposures)}"
    )
    assert SCREENSHOT.stat().st_size > 10_000


def test_every_built_model_column_is_documented(docs_target: Path) -> None:
    """The docs site describes every column a model really has (catalog vs yml).

    dbt-score (tests/lint) sees only the yml; the catalog of the built demo shows the
    columns that exist, so a column missing from the yml is caught here.
    """
    manifest = json.loads((docs_target / "manifest.json").read_text())
    catalog = json.loads((docs_target / "catalog.json").read_text())
    undocumented: dict[str, list[str]] = {}
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "model" or unique_id not in catalog["nodes"]:
            continue
        built = {name.lower() for name in catalog["nodes"][unique_id]["columns"]}
        documented = {name.lower() for name, column in node["columns"].items()
                      if column.get("description", "").strip()}
        if built - documented:
            undocumented[node["original_file_path"]] = sorted(built - documented)
    assert undocumented == {}, "columns without a description in the yml:\n" + "\n".join(
        f"{path}: {', '.join(columns)}" for path, columns in sorted(undocumented.items())
    )
