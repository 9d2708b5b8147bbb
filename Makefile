# IX Stream. A newcomer types `make run` or `make test`; everything else follows.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
WEB_SUPPORT := clients/web/test-support

.PHONY: help run test test-fast bench lint format system-deps env scene clean

help:
	@echo "make run    - orchestrator + local render backend + web client on http://127.0.0.1:8000"
	@echo "make test   - lint, type checks, architecture checks and every test"
	@echo "make bench  - benchmarks, printed as JSON"
	@echo "make lint   - ruff, mypy, import-linter"

system-deps:
	@scripts/system-deps.sh

$(UV):
	$(PYTHON) -m venv .tools/uv
	.tools/uv/bin/pip install -q uv==$(UV_VERSION)

# The lock file is the contract: CI installs exactly what was tested.
$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	UV_PYTHON=$$($(PYTHON) -c 'import sys; print(sys.executable)') $(UV) sync --frozen --all-extras --quiet
	@touch $@

# iwer (WebXR emulation) and the JSDoc type check for the browser tests, as locked.
$(WEB_SUPPORT)/node_modules/.installed: $(WEB_SUPPORT)/package-lock.json
	npm ci --prefix $(WEB_SUPPORT) --no-audit --no-fund --loglevel=error
	@touch $@

env: system-deps $(VENV)/.synced $(WEB_SUPPORT)/node_modules/.installed

lint: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(VENV)/.synced
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: env lint
	$(BIN)/pytest -q

test-fast: $(VENV)/.synced
	$(BIN)/pytest -q -m "not e2e and not browser"

bench: env
	$(BIN)/python -m bench

scene: $(VENV)/.synced
	$(BIN)/python scripts/make_scene.py

run: env
	$(BIN)/ixstream up --port 8000

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache artifacts
