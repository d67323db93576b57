# The two commands a newcomer needs: `make demo` and `make test`. Everything else is optional.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SCALE ?= 1
DAYS ?= 2
SEED ?= 42
CONSTRAINTS := requirements/constraints.txt
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check -q -c $(CONSTRAINTS)

# Telemetry off and the other process defaults, read from their one home, ingestion/runtime.py:
# Python entry points apply them themselves, but dbt, sqlfluff and airflow started from here do
# not. A variable already set in the environment wins.
$(foreach default,$(shell $(PYTHON) ingestion/runtime.py),$(eval export $(subst =,?=,$(default))))

.PHONY: demo test install install-all install-portability parse airflow bench docs lint lint-python lint-sql lint-dbt fix-sql \
	hooks system-packages clean help

help:
	@echo "make demo   - set up, generate demo data, ingest, dbt build + test, docs, summary (DuckDB)"
	@echo "make test   - set up everything and run the whole test suite"
	@echo "make airflow - start Airflow locally (scheduler, DAG processor, API server) with the DAG"
	@echo "make docs   - serve the dbt docs site (lineage graph) on http://127.0.0.1:$(DOCS_PORT)"
	@echo "make lint   - ruff, mypy, sqlfluff and the dbt conventions (make -k lint runs all)"
	@echo "make bench  - benchmark report at BENCH_SCALES (default 1,20) in artifacts/benchmark/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade "pip==26.3"

# Core install: what `make demo` needs (dbt + DuckDB + dlt), nothing more.
$(VENV)/.core: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(PIP_INSTALL) -e .
	touch $@

# Everything: PostgreSQL/MariaDB drivers, Airflow + Cosmos + GX, linters, test tools.
$(VENV)/.all: $(VENV)/.core
	$(PIP_INSTALL) -e ".[postgres,mysql,azure,airflow,lint,dev]"
	touch $@

# The Spark / Databricks / Synapse adapters pin dbt-common, pydantic and packaging below the
# main environment's versions, so the portability proofs get a virtualenv of their own.
PORTABILITY_VENV ?= .venv-portability
PORTABILITY_BIN := $(PORTABILITY_VENV)/bin

$(PORTABILITY_VENV)/.installed: requirements/portability.txt
	$(PYTHON) -m venv $(PORTABILITY_VENV)
	$(PORTABILITY_BIN)/python -m pip install --disable-pip-version-check -q --upgrade "pip==26.3"
	$(PORTABILITY_BIN)/python -m pip install --disable-pip-version-check -q \
		-r requirements/portability.txt
	touch $@

install-portability: $(PORTABILITY_VENV)/.installed

# Node tools the tests run (Azurite, the Azure Blob Storage emulator), from package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.core
install-all: $(VENV)/.all

demo: $(VENV)/.core
	time $(BIN)/python -m tools.quickstart --scale $(SCALE) --days $(DAYS) --seed $(SEED)

# The manifest Cosmos renders the DAG from, produced ahead of time (never at DAG parse time).
parse: $(VENV)/.all
	$(BIN)/dbt parse --profiles-dir . --project-dir .

# The suite runs on TEST_WORKERS processes (pytest-xdist); tests/conftest.py keeps each module,
# and the modules sharing the demo timeline, on one worker. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
test: $(VENV)/.all $(PORTABILITY_VENV)/.installed parse node_modules/.installed system-packages
	RETAIL_PORTABILITY_BIN=$(abspath $(PORTABILITY_BIN)) $(BIN)/python -m pytest \
		-n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder --durations=15

# Performance report (JSON + table in artifacts/benchmark/): ingest rows/s per source, dbt full
# and incremental build, DAG parse, peak memory, each beside a floor measured in the same run;
# at BENCH_ORCHESTRATION_SCALES (default 1) one day through the CLI, dag.test() and the real
# scheduler (make airflow + REST API), about 10 minutes more on a 2-core laptop; at
# BENCH_POSTGRES_SCALES (default 1) the full build and a daily increment on PostgreSQL too
# (a new database on RETAIL_BENCH_PG_URL, default the local server; reported as not measured
# when it cannot be reached).
BENCH_SCALES ?= 1,20
BENCH_ORCHESTRATION_SCALES ?= 1
BENCH_POSTGRES_SCALES ?= 1
bench: $(VENV)/.all
	$(BIN)/python -m tools.benchmark --scales $(BENCH_SCALES) --out artifacts/benchmark \
		--orchestration-scales "$(BENCH_ORCHESTRATION_SCALES)" \
		--postgres-scales "$(BENCH_POSTGRES_SCALES)"

DOCS_PORT ?= 8081
docs: $(VENV)/.core
	@test -f target/index.html || $(BIN)/dbt docs generate --profiles-dir . --project-dir .
	$(BIN)/dbt docs serve --profiles-dir . --project-dir . --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

# sqlfluff's dbt templater and the convention check parse against an in-memory DuckDB:
# lint needs no warehouse and never locks warehouse/retail.duckdb.
LINT_ENV := RETAIL_DBT_TARGET=duckdb RETAIL_DUCKDB_PATH=:memory:

lint: lint-python lint-sql lint-dbt

lint-python: $(VENV)/.all
	$(BIN)/ruff check .
	$(BIN)/mypy ingestion dags tools

lint-sql: $(VENV)/.all
	$(LINT_ENV) DBT_TARGET_PATH=target/sqlfluff $(BIN)/sqlfluff lint models snapshots tests/dbt \
		--processes 0 --disable-progress-bar

lint-dbt: $(VENV)/.all
	$(LINT_ENV) $(BIN)/dbt --quiet parse --profiles-dir . --project-dir . \
		--target-path target/conventions
	PYTHONPATH=tests/lint $(BIN)/dbt-score lint --manifest target/conventions/manifest.json \
		--namespace dbt_score_rules --fail-project-under 10 --fail-any-item-under 10 \
		--show failing-items

# Rewrites SQL in place: run on a clean tree, review the diff.
fix-sql: $(VENV)/.all
	$(LINT_ENV) DBT_TARGET_PATH=target/sqlfluff $(BIN)/sqlfluff fix models snapshots tests/dbt \
		--processes 0 --disable-progress-bar

hooks: $(VENV)/.all
	$(BIN)/pre-commit install

# System packages the tests need, from Debian: Chromium for the docs-site test (Playwright drives
# it; no browser download), the ODBC driver manager that dbt-synapse's pyodbc loads, and a Java
# runtime for the local Spark session.
SYSTEM_PACKAGES_MISSING = $$( command -v chromium >/dev/null 2>&1 || echo chromium; \
	ldconfig -p 2>/dev/null | grep -q 'libodbc.so.2' || echo libodbc2; \
	command -v java >/dev/null 2>&1 || echo openjdk-17-jre-headless )

system-packages:
	@missing="$(SYSTEM_PACKAGES_MISSING)"; missing=$$(echo $$missing); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages the tests need: $$missing"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq $$missing; fi; \
	fi

# Airflow locally: the DAG reads the manifest `dbt parse` writes ahead of time. Paths are
# absolute because cosmos runs dbt from a temporary copy of the project.
# tools/airflow_local.py starts the components (scheduler, DAG processor, API server; triggerer if needed)
# as `airflow …` subprocesses and stops them all on Ctrl-C: the venv must be on PATH.
# The UI listens on 127.0.0.1 only and asks for a login (user `admin`, password generated into
# .airflow/simple_auth_manager_passwords.json.generated); AIRFLOW_HOST=0.0.0.0 exposes it on
# purpose. Parallelism is sized for the machine (min(CPUs, 4)) unless AIRFLOW_PARALLELISM is set.
# AIRFLOW_WAREHOUSE (the DuckDB file and dlt's state) and AIRFLOW_DEMO_DIR point it elsewhere.
AIRFLOW_HOST ?= 127.0.0.1
AIRFLOW_PORT ?= 8080
AIRFLOW_PARALLELISM ?=
AIRFLOW_HOME ?= $(CURDIR)/.airflow
AIRFLOW_WAREHOUSE ?= $(CURDIR)/warehouse
AIRFLOW_DEMO_DIR ?= $(CURDIR)/data/demo
# OpenLineage events of every run (dags/README.md, "Lineage"): appended to a local file unless
# AIRFLOW__OPENLINEAGE__TRANSPORT is set (an HTTP endpoint: Marquez, Purview's ingestion).
OPENLINEAGE_FILE ?= $(CURDIR)/logs/openlineage/events.jsonl
AIRFLOW__OPENLINEAGE__TRANSPORT ?= {"type": "file", "log_file_path": "$(OPENLINEAGE_FILE)", "append": true}
AIRFLOW_ENV = PATH=$(abspath $(BIN)):$$PATH AIRFLOW_HOME=$(AIRFLOW_HOME) AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin \
	AIRFLOW__API__HOST=$(AIRFLOW_HOST) AIRFLOW__API__PORT=$(AIRFLOW_PORT) \
	$(if $(AIRFLOW_PARALLELISM),AIRFLOW__CORE__PARALLELISM=$(AIRFLOW_PARALLELISM)) \
	AIRFLOW__OPENLINEAGE__TRANSPORT='$(AIRFLOW__OPENLINEAGE__TRANSPORT)' \
	AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST=127.0.0.1 \
	PYTHONPATH=$(CURDIR) RETAIL_DBT_MANIFEST_PATH=$(CURDIR)/target/manifest.json \
	RETAIL_DBT_PROJECT_DIR=$(CURDIR) \
	RETAIL_DUCKDB_PATH=$(AIRFLOW_WAREHOUSE)/retail.duckdb RETAIL_DEMO_DIR=$(AIRFLOW_DEMO_DIR) \
	RETAIL_SOURCES=$${RETAIL_SOURCES:-demo} \
	RETAIL_DLT_PIPELINES_DIR=$(AIRFLOW_WAREHOUSE)/.dlt \
	AIRFLOW__API_AUTH__JWT_SECRET_CMD="cat $(AIRFLOW_HOME)/jwt_secret"

airflow: parse
	@test -f $(AIRFLOW_DEMO_DIR)/state.json || RETAIL_DEMO_DIR=$(AIRFLOW_DEMO_DIR) \
		$(BIN)/python -m ingestion generate --scale $(SCALE) --seed $(SEED)
	@mkdir -p $(AIRFLOW_HOME) && test -s $(AIRFLOW_HOME)/jwt_secret || (umask 077 && \
		$(BIN)/python -c "import secrets; print(secrets.token_urlsafe(64))" > $(AIRFLOW_HOME)/jwt_secret)
	@mkdir -p $(dir $(OPENLINEAGE_FILE))
	$(AIRFLOW_ENV) $(BIN)/airflow db migrate
	$(AIRFLOW_ENV) $(BIN)/airflow pools set retail_duckdb 1 "one writer on the DuckDB warehouse"
	@echo "Airflow UI on http://$(AIRFLOW_HOST):$(AIRFLOW_PORT) (user admin; password in $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated); DAG: retail_medallion; Ctrl-C stops it"
	$(AIRFLOW_ENV) $(BIN)/python -m tools.airflow_local

clean:
	rm -rf $(VENV) $(PORTABILITY_VENV) node_modules target logs warehouse data artifacts .pytest_cache
