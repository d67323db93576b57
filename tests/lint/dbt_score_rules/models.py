"""Conventions every model follows: layout, yml next to the models, contracts."""

# No `from __future__ import annotations`: dbt-score reads the evaluated annotation of
# each rule's argument to know which resource type the rule applies to.

from pathlib import PurePosixPath

from dbt_score import Model, RuleViolation, Severity, rule

from dbt_score_rules.layers import model_layer, yml_path

UNIQUENESS_TESTS = {"unique", "unique_combination_of_columns"}
GRAIN_EXEMPT_PREFIXES = ("base_", "quarantine_")


@rule(severity=Severity.HIGH)
def model_name_matches_its_layer(model: Model) -> RuleViolation | None:
    """A model's name starts with the prefix of the folder (layer) it lives in."""
    layer = model_layer(model.original_file_path)
    if layer is None:
        return RuleViolation(
            f"{model.original_file_path} is outside the layers "
            "(models/staging/<source>/, intermediate/, marts/, quality/)."
        )
    if not layer.accepts(model.name):
        return RuleViolation(f"{layer.name} models are named {layer.example}.")
    return None


@rule(severity=Severity.HIGH)
def model_has_description(model: Model) -> RuleViolation | None:
    """A model says what one row is and where it comes from."""
    if not model.description.strip():
        return RuleViolation("Model lacks a description.")
    return None


@rule(severity=Severity.HIGH)
def model_columns_are_documented(model: Model) -> RuleViolation | None:
    """A model lists its columns in yml, each with a description."""
    if not model.columns:
        return RuleViolation("Model lists no columns in its yml.")
    undocumented = [column.name for column in model.columns if not column.description.strip()]
    if undocumented:
        return RuleViolation(f"Columns lack a description: {', '.join(undocumented)}.")
    return None


@rule(severity=Severity.HIGH)
def model_has_data_tests(model: Model) -> RuleViolation | None:
    """A model carries at least one data test, on the model or on a column."""
    if model.tests or any(column.tests for column in model.columns):
        return None
    return RuleViolation("Model has no data test.")


@rule(severity=Severity.MEDIUM)
def model_grain_is_tested(model: Model) -> RuleViolation | None:
    """The grain of a model is tested: unique on a key column, or on a column combination.

    Not for base_ models (they keep every delivered version on purpose; stg_ deduplicates)
    nor quarantine_ models (one row per rejected bronze row, duplicates included).
    """
    if model.name.startswith(GRAIN_EXEMPT_PREFIXES):
        return None
    tested = {test.type for test in model.tests}
    tested |= {test.type for column in model.columns for test in column.tests}
    if tested & UNIQUENESS_TESTS:
        return None
    return RuleViolation("No unique or unique_combination_of_columns test states the grain.")


@rule(severity=Severity.HIGH)
def gold_model_has_enforced_contract(model: Model) -> RuleViolation | None:
    """Gold (models/marts/) is what Power BI reads: its columns and types are a contract."""
    if not model.original_file_path.startswith("models/marts/"):
        return None
    contract = model.config.get("contract") or {}
    if not contract.get("enforced"):
        return RuleViolation("Gold model without `contract: {enforced: true}`.")
    untyped = [column.name for column in model.columns if not column.data_type]
    if untyped:
        return RuleViolation(f"Contracted columns lack a data_type: {', '.join(untyped)}.")
    return None


@rule(severity=Severity.MEDIUM)
def model_yml_sits_next_to_the_model(model: Model) -> RuleViolation | None:
    """A model is described in the `_<folder>__models.yml` of its folder (base/: the parent's)."""
    path = yml_path(model.patch_path)
    if path is None:
        return RuleViolation("Model is not described in any yml file.")
    sql_folder = PurePosixPath(model.original_file_path).parent
    expected_folder = sql_folder.parent if sql_folder.name == "base" else sql_folder
    if path.parent != expected_folder:
        return RuleViolation(f"Described in {path}, expected a yml in {expected_folder}/.")
    if not (path.name.startswith("_") and path.name.endswith("__models.yml")):
        return RuleViolation(f"{path.name} should be named _{expected_folder.name}__models.yml.")
    return None
