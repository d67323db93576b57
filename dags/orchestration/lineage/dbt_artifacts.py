"""The artifacts a dbt task's lineage reads, written for the nodes the task ran.

After each dbt task, cosmos reads ``target/manifest.json`` and ``target/run_results.json`` and
the OpenLineage dbt integration turns them into the task's events: for each result, the node
(its relation, its compiled SQL), its parents (the inputs) and the parents' own entries. dbt
itself writes the whole project's manifest after every command; one day through the
scheduler spent 5.3 of its dbt tasks' CPU-seconds on it, and ``dag.test()`` 6.6 s (profiled
at scale 1). A task that runs on a manifest parsed ahead (``parsed_dbt_runner``) runs dbt
with ``--no-write-json`` and writes them here instead: ``run_results.json`` as dbt writes it,
and a manifest in dbt's own format that holds only what the results name and their parents.
"""

from __future__ import annotations

from pathlib import Path

from dbt.artifacts.schemas.manifest import WritableManifest
from dbt.artifacts.schemas.run import RunExecutionResult
from dbt.contracts.graph.manifest import Manifest

MANIFEST_FILE = "manifest.json"
RUN_RESULTS_FILE = "run_results.json"


def node_parents(manifest: Manifest, unique_id: str) -> list[str]:
    """A node's entry in dbt's ``parent_map``: what it depends on, sorted as dbt sorts it (the
    OpenLineage integration attaches a test's assertions to its last parent)."""
    node = manifest.nodes.get(unique_id)
    depends_on = getattr(node, "depends_on", None)
    return sorted(getattr(depends_on, "nodes", None) or [])


def lineage_manifest(manifest: Manifest, run_result: RunExecutionResult) -> WritableManifest:
    """The manifest of the nodes ``run_result`` names and of their parents, in the project
    manifest's order, each node as the command left it (a node it ran carries its compiled
    SQL)."""
    ran = {result.node.unique_id: result.node for result in run_result.results}
    kept = set(ran).union(*(node_parents(manifest, unique_id) for unique_id in ran))
    nodes = {unique_id: ran.get(unique_id, node).to_resource()
             for unique_id, node in manifest.nodes.items() if unique_id in kept}
    sources = {unique_id: source.to_resource()
               for unique_id, source in manifest.sources.items() if unique_id in kept}
    parent_map = {unique_id: node_parents(manifest, unique_id) for unique_id in [*nodes, *sources]}
    child_map: dict[str, list[str]] = {unique_id: [] for unique_id in parent_map}
    for child, parents in parent_map.items():
        for parent in parents:
            if parent in child_map:
                child_map[parent].append(child)
    return WritableManifest(
        nodes=nodes, sources=sources, macros={}, docs={}, exposures={}, functions={},
        metrics={}, groups={}, selectors={}, metadata=manifest.metadata, disabled={},
        parent_map=parent_map,
        child_map={unique_id: sorted(children) for unique_id, children in child_map.items()},
        group_map={}, semantic_models={}, unit_tests={}, saved_queries={})


def write_run_artifacts(manifest: Manifest, run_result: RunExecutionResult,
                        target_dir: Path) -> None:
    """``run_results.json`` and the lineage manifest of one command, into ``target_dir``."""
    target_dir.mkdir(parents=True, exist_ok=True)
    run_result.write(str(target_dir / RUN_RESULTS_FILE))
    lineage_manifest(manifest, run_result).write(str(target_dir / MANIFEST_FILE))
