"""Conventions of the bronze sources, the snapshots and the exposures."""

# No `from __future__ import annotations`: dbt-score reads the evaluated annotation of
# each rule's argument to know which resource type the rule applies to.

import re
from pathlib import PurePosixPath

from dbt_score import Exposure, RuleViolation, Severity, Snapshot, Source, rule

from dbt_score_rules.layers import NAME


@rule(severity=Severity.HIGH)
def source_is_bronze_and_declared_in_staging(source: Source) -> RuleViolation | None:
    """A source is a bronze schema, declared in models/staging/<system>/_<system>__sources.yml."""
    match = re.fullmatch(rf"bronze_({NAME})", source.source_name)
    if match is None:
        return RuleViolation(f"Source {source.source_name} should be named bronze_<system>.")
    system = match.group(1)
    expected = PurePosixPath("models", "staging", system, f"_{system}__sources.yml")
    if PurePosixPath(source.original_file_path) != expected:
        return RuleViolation(f"Declared in {source.original_file_path}, expected {expected}.")
    return None


@rule(severity=Severity.HIGH)
def source_is_documented(source: Source) -> RuleViolation | None:
    """A source and each of its tables and columns say what they hold."""
    if not source.source_description.strip():
        return RuleViolation(f"Source {source.source_name} lacks a description.")
    if not source.description.strip():
        return RuleViolation("Source table lacks a description.")
    undocumented = [column.name for column in source.columns if not column.description.strip()]
    if undocumented:
        return RuleViolation(f"Columns lack a description: {', '.join(undocumented)}.")
    return None


@rule(severity=Severity.HIGH)
def snapshot_follows_conventions(snapshot: Snapshot) -> RuleViolation | None:
    """A snapshot is named snp_<source>__<entity>, with a unique key and a strategy."""
    if re.fullmatch(rf"snp_{NAME}__{NAME}", snapshot.name) is None:
        return RuleViolation("Snapshots are named snp_<source>__<entity>.")
    if not snapshot.config.get("unique_key") or not snapshot.config.get("strategy"):
        return RuleViolation("Snapshot lacks a unique_key or a strategy.")
    if not snapshot.description.strip():
        return RuleViolation("Snapshot lacks a description.")
    return None


@rule(severity=Severity.HIGH)
def exposure_has_owner_and_description(exposure: Exposure) -> RuleViolation | None:
    """Someone to ask about each dashboard: an owner with an email, and a description."""
    if not (exposure.owner or {}).get("email"):
        return RuleViolation("Exposure lacks an owner email.")
    if not exposure.description.strip():
        return RuleViolation("Exposure lacks a description.")
    return None
