# Agency Pulse: `make run` and `make test` do all the set-up themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9

export AGENCY_PULSE_HOME ?= $(CURDIR)/data
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?= sqlite:///$(AIRFLOW_HOME)/airflow.db
export GX_ANALYTICS_ENABLED := false
export AGENCY_PULSE_DEFAULT_SOURCE ?= sandbox
export PYTHONDONTWRITEBYTECODE := 1

# `make airflow`: the UI/API port (log servers on the next two) and the sandbox's port;
# a second checkout on the same machine: make airflow AIRFLOW_PORT=8090 SANDBOX_PORT=8199
AIRFLOW_PORT ?= 8080
SANDBOX_PORT ?= 8099

.PHONY: help setup browser venv airflow-home run test test-fast test-slow test-distributed test-compose reliability airflow up down lint bench bench-quick lock clean

help:
	@echo "make run      run the whole pipeline once on the sandbox and print a leaderboard"
	@echo "make test     the full test suite"
	@echo "make test-fast  without Airflow clusters, dag.test, the browser and reliability scenarios"
	@echo "make test-slow  only those (slow, distributed, browser, reliability markers)"
	@echo "make airflow  Airflow standalone with the DAGs on the sandbox (UI on localhost:$(AIRFLOW_PORT))"
	@echo "make lint     ruff (incl. AIR3 rules)"
	@echo "make reliability  faults, crashes, reruns, bad input, secrets: the scenario table"
	@echo "make up/down  the docker-compose deployment (CeleryExecutor)"
	@echo "make test-compose  build the image, run the compose stack for real, check it, tear it down"
	@echo "make bench    benchmarks (make bench-quick: a short version)"

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.txt
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $@

airflow-home: $(AIRFLOW_HOME)/.ready
# Also rerun when the dbt project changes: set-up writes its manifest for the marts DAG.
$(AIRFLOW_HOME)/.ready: $(VENV)/.installed $(wildcard include/dbt/*.yml include/dbt/models/*/* include/dbt/macros/* include/dbt/macros/*/* include/dbt/tests/*)
	mkdir -p $(AIRFLOW_HOME) $(AGENCY_PULSE_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/migrate.log; exit 1)
	$(BIN)/python -m agency_pulse.airflow_setup
	touch $@

setup: venv airflow-home

# The browser test drives Debian's Chromium headless; install it where it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium and chromium-driver for the browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "the browser test needs Chromium: sudo apt-get install -y chromium chromium-driver" >&2; \
	  fi; }

run: setup
	$(BIN)/agency-pulse run
	@$(BIN)/agency-pulse report | sed 's/^/Report:             /'

test: setup browser
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The slow suites carry a marker (pyproject.toml): slow (Airflow dag.test, many processes),
# distributed (the Celery cluster), browser (headless Chromium), reliability (the scenarios).
SLOW_MARKERS := slow or distributed or browser or reliability

test-fast: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not ($(SLOW_MARKERS))"

test-slow: setup browser
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "$(SLOW_MARKERS)"

airflow: setup
	$(BIN)/python -m agency_pulse.airflow_setup --standalone --airflow-port $(AIRFLOW_PORT) --sandbox-port $(SANDBOX_PORT)

reliability: setup
	$(BIN)/python -m reliability.run

test-distributed: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider -m distributed tests/distributed

# Docker: installs what it needs (as root), builds, runs, checks and removes the stack.
test-compose: venv
	PYTHON=$(BIN)/python scripts/compose/test_compose.sh

# Compose v2 (`docker compose`) where installed, else Debian's docker-compose.
COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

up:
	test -f .env || { echo "create .env first: python3 scripts/compose/env_secrets.py generate > .env" >&2; exit 1; }
	$(COMPOSE) up -d --build

down:
	$(COMPOSE) down

lint: venv
	$(BIN)/ruff check src dags plugins tests reliability bench testkit

bench: setup
	$(BIN)/python -m bench.run --full

bench-quick: setup
	$(BIN)/python -m bench.run --quick

lock: venv
	$(BIN)/uv pip compile requirements.in --python-version 3.11 -o requirements.txt

clean:
	rm -rf $(AIRFLOW_HOME) $(AGENCY_PULSE_HOME)
