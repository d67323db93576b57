"""Where a dbt build's time goes: dbt's own per-node timings from run_results.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SLOWEST = 12


def node_timings(target_dir: Path) -> dict[str, Any]:
    """Seconds by resource type, and the slowest nodes, of the build that wrote target_dir."""
    results = json.loads((target_dir / "run_results.json").read_text())["results"]
    by_type: dict[str, dict[str, float]] = {}
    timed = []
    for result in results:
        unique_id: str = result["unique_id"]
        kind = unique_id.split(".", 1)[0]
        seconds = float(result["execution_time"])
        group = by_type.setdefault(kind, {"nodes": 0, "seconds": 0.0})
        group["nodes"] += 1
        group["seconds"] = round(group["seconds"] + seconds, 2)
        timed.append((round(seconds, 2), kind, unique_id.split(".")[2]))
    timed.sort(reverse=True)
    return {
        "nodes": len(results),
        "node_seconds": round(sum(seconds for seconds, _, _ in timed), 2),
        "by_type": by_type,
        "slowest": [{"node": name, "type": kind, "seconds": seconds}
                    for seconds, kind, name in timed[:SLOWEST]],
    }


def slowest_table(scale: float, step: str, timings: dict[str, Any]) -> str:
    """A markdown table of one build's slowest nodes and its time by resource type."""
    by_type = ", ".join(f"{kind} {group['nodes']} nodes {group['seconds']} s"
                        for kind, group in sorted(timings["by_type"].items()))
    lines = [f"Scale {scale:g}, {step}: {timings['nodes']} nodes, "
             f"{timings['node_seconds']} s inside dbt's nodes ({by_type}).", "",
             "| node | type | seconds |", "|---|---|---:|"]
    lines += [f"| {n['node']} | {n['type']} | {n['seconds']} |" for n in timings["slowest"]]
    return "\n".join(lines)
