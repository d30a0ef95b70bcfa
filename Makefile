# Two entry points for a fresh machine: `make dev` (local API on the embedded stack) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install dev test lint unit bench clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

## Start PostgreSQL, Valkey, the MongoDB-protocol server and moto, migrate, serve http://127.0.0.1:3000
dev: install
	$(BIN)/hrms dev

## Lint, type-check, lint the template, then the whole test suite (unit, integration, e2e)
test: install lint
	$(BIN)/pytest --cov=hrms --cov-report=term:skip-covered

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml

unit: install
	$(BIN)/pytest tests/unit

bench: install
	$(BIN)/python benchmarks/cold_import.py
	$(BIN)/python benchmarks/tenancy.py

clean:
	rm -rf $(VENV) .hrms .pytest_cache .mypy_cache .ruff_cache .coverage
