"""Where a resource lives decides its layer, and the layer decides its name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

NAME = r"[a-z0-9]+(?:_[a-z0-9]+)*"


@dataclass(frozen=True)
class Layer:
    """A folder of models/ and the names its models may take."""

    name: str
    pattern: str
    example: str

    def accepts(self, model_name: str) -> bool:
        return re.fullmatch(self.pattern, model_name) is not None


def model_layer(original_file_path: str) -> Layer | None:
    """The layer of a model from its path, e.g. models/staging/crm/base/x.sql."""
    parts = PurePosixPath(original_file_path).parts
    if len(parts) < 3 or parts[0] != "models":
        return None
    folder = parts[1]
    if folder == "staging" and len(parts) >= 4:
        source = parts[2]
        if len(parts) >= 5 and parts[3] == "base":
            return Layer("staging (base)", rf"base_{source}__{NAME}",
                         f"base_{source}__<table>")
        return Layer("staging", rf"stg_{source}__{NAME}", f"stg_{source}__<table>")
    if folder == "intermediate":
        return Layer("intermediate", rf"int_{NAME}", "int_<entity>_<verb>")
    if folder == "marts":
        return Layer("marts", rf"(dim|fct|agg|customer)_{NAME}",
                     "dim_<entity>, fct_<process>, agg_<grain>, customer_<measure>")
    if folder == "quality":
        return Layer("quality", rf"(quarantine|dq)_{NAME}", "quarantine_<source>, dq_<check>")
    return None


def yml_path(patch_path: str | None) -> PurePosixPath | None:
    """`retail_medallion://models/x/_x__models.yml` -> models/x/_x__models.yml."""
    if not patch_path:
        return None
    return PurePosixPath(patch_path.split("://", 1)[-1])
