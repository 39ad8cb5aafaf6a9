# netsupport: every target installs what it needs into .venv first.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
STUDY ?= data/example/study.toml
# the suite on two worker processes, each test file on one of them (its module fixtures run once)
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: help setup test report bench lint format clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,fast,scale]'
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv and install netsupport with dev, fast and scale extras at the versions of constraints.txt (only when pyproject.toml or constraints.txt changed)

test: $(STAMP) ## Run the test suite (unit, property, CLI, recovery and browser tests)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

report: $(STAMP) ## Build the example study's report into reports/example/ (STUDY=path/to/study.toml for another)
	$(BIN)/netsupport run $(STUDY)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) ## Run the benchmarks and update bench/RESULTS.md (installs the bench extra)
	$(BIN)/python bench/run_all.py

lint: $(STAMP) ## Check code style with ruff
	$(BIN)/ruff check netsupport tests bench
	$(BIN)/ruff format --check netsupport tests bench

format: $(STAMP) ## Format code with ruff
	$(BIN)/ruff check --fix netsupport tests bench
	$(BIN)/ruff format netsupport tests bench

clean: ## Remove the virtualenv, caches and generated reports
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis bench/out build dist *.egg-info
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
