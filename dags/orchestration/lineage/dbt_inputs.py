"""The inputs the OpenLineage dbt integration leaves out of a node's lineage: seeds and snapshots.

Cosmos turns each dbt task's ``run_results.json`` and ``manifest.json`` into OpenLineage events
with the OpenLineage dbt integration, which takes a node's inputs from its parent models and
sources only. ``dim_customer`` reads the customer snapshot, so without this the CRM's
customers would not reach gold in the lineage. ``add_seed_and_snapshot_inputs`` is a cosmos
callback (run after dbt, once cosmos has computed the events): it adds every parent seed and
snapshot of the node a run event writes as one more input, named as the integration names
relations (``<database>.<schema>.<alias>`` in the output's namespace).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

UNREPORTED_PARENTS = ("seed.", "snapshot.")


def relation_name(node: Mapping[str, Any]) -> str:
    """``database.schema.alias`` of a manifest node, as the OpenLineage dbt integration names it."""
    parts = (node.get("database"), node.get("schema"), node.get("alias") or node.get("name"))
    return ".".join(str(part) for part in parts if part)


def unreported_inputs(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """``relation -> [relations]``: the parent seeds and snapshots of every model and snapshot."""
    nodes = manifest.get("nodes", {})
    inputs: dict[str, list[str]] = {}
    for unique_id, parents in manifest.get("parent_map", {}).items():
        node = nodes.get(unique_id)
        if node is None or node.get("resource_type") not in {"model", "snapshot"}:
            continue
        names = [relation_name(nodes[p]) for p in parents
                 if p.startswith(UNREPORTED_PARENTS) and p in nodes]
        if names:
            inputs[relation_name(node)] = sorted(names)
    return inputs


def add_seed_and_snapshot_inputs(project_dir: str, **kwargs: Any) -> None:
    """Cosmos callback: complete the OpenLineage events cosmos computed for this dbt run."""
    context = kwargs.get("context") or {}
    task = getattr(context.get("ti"), "task", None)
    events = getattr(task, "openlineage_events_completes", None)
    if not events:
        return
    manifest_path = Path(project_dir) / "target" / "manifest.json"
    try:
        added = unreported_inputs(json.loads(manifest_path.read_text()))
    except (OSError, ValueError) as error:
        log.debug("OpenLineage: no manifest to complete the inputs from: %s", error)
        return
    from openlineage.client.event_v2 import InputDataset

    for event in events:
        for output in event.outputs or []:
            present = {(d.namespace, d.name) for d in event.inputs}
            for name in added.get(output.name, []):
                if (output.namespace, name) not in present:
                    event.inputs.append(InputDataset(namespace=output.namespace, name=name))
