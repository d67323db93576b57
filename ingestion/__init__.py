"""Ingestion sidecar: demo sources and dlt pipelines that land raw data in bronze."""

from ingestion.runtime import apply_runtime_defaults

apply_runtime_defaults()
