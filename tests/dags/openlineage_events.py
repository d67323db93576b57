"""Reading the OpenLineage events a DAG run wrote with the file transport.

``EventLog`` reads the events appended to the transport's file since it was created (one JSON
event a line); ``LineageGraph`` joins the COMPLETE events of the task runs into a graph of
datasets: an edge from each input of a run to each of its outputs.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

Dataset = tuple[str, str]
"""``(namespace, name)``"""


class EventLog:
    """The events appended to ``path`` after this object was made."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._start = path.stat().st_size if path.exists() else 0

    def events(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as handle:
            handle.seek(self._start)
            return [json.loads(line) for line in handle.read().splitlines() if line.strip()]


def task_completes(events: Iterable[Mapping[str, Any]], dag_id: str) -> dict[str, dict[str, Any]]:
    """``task_id -> COMPLETE event`` of the task runs of ``dag_id`` (job ``<dag_id>.<task_id>``)."""
    prefix = f"{dag_id}."
    return {
        event["job"]["name"].removeprefix(prefix): dict(event)
        for event in events
        if event.get("eventType") == "COMPLETE" and event["job"]["name"].startswith(prefix)
    }


def datasets(event: Mapping[str, Any], side: str) -> set[Dataset]:
    """The ``inputs`` or ``outputs`` of an event."""
    return {(d["namespace"], d["name"]) for d in event.get(side) or []}


class LineageGraph:
    """Datasets linked through the runs that read and wrote them."""

    def __init__(self, events: Iterable[Mapping[str, Any]]) -> None:
        self.parents: dict[Dataset, set[Dataset]] = {}
        for event in events:
            for output in datasets(event, "outputs"):
                self.parents.setdefault(output, set()).update(
                    d for d in datasets(event, "inputs") if d != output
                )

    def ancestors(self, dataset: Dataset) -> set[Dataset]:
        """Every dataset ``dataset`` was derived from, at any distance."""
        seen: set[Dataset] = set()
        queue = deque([dataset])
        while queue:
            for parent in self.parents.get(queue.popleft(), ()):
                if parent not in seen:
                    seen.add(parent)
                    queue.append(parent)
        return seen

    def path(self, start: Dataset, end: Dataset) -> list[Dataset]:
        """One shortest chain of datasets from ``start`` to ``end`` ([] if none)."""
        previous: dict[Dataset, Dataset] = {}
        queue = deque([end])
        while queue:
            current = queue.popleft()
            if current == start:
                return list(_walk(previous, start))
            for parent in self.parents.get(current, ()):
                if parent not in previous and parent != end:
                    previous[parent] = current
                    queue.append(parent)
        return []


def _walk(following: Mapping[Dataset, Dataset], start: Dataset) -> Iterator[Dataset]:
    current: Dataset | None = start
    while current is not None:
        yield current
        current = following.get(current)
