# Frontline developer tasks. `make` alone lists them.
.DEFAULT_GOAL := help
SHELL := bash

# The interpreter that makes the virtualenv: `make run PYTHON=python3.13`. VENV lets several
# live side by side (CI keeps one per interpreter).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Re-install when the project metadata changes or a top-level package appears (the editable
# install maps packages by name when it is made).
STAMP := $(VENV)/.installed
LINT_PACKAGES := $(wildcard domain readmodel api frontline bench)
SCALE ?= 10k
# The suite runs on as many workers as there are cores (at most 4: each worker starts its own
# embedded PostgreSQL); a test module stays on one worker, since its server is module-scoped.
# `make test PYTEST_ARGS="-n0 -k name"` runs a selection in one process.
PYTEST_ARGS ?= --numprocesses=auto --maxprocesses=4 --dist=loadfile

.PHONY: help venv install run test lint fmt clean bench bench-smoke soak

help: ## List the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv and install the project with its dev tools (when needed)

venv: install

# Too old a Python would fail deep inside pip; say so in one line instead (pip itself refuses
# one newer than pyproject's requires-python allows).
PYTHON_CHECK := import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
	"Frontline needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0] + \
	". Install one and run: make $(or $(MAKECMDGOALS),install) PYTHON=python3.13")

$(STAMP): pyproject.toml $(wildcard */__init__.py)
	@test -x $(BIN)/python || { $(PYTHON) -c '$(PYTHON_CHECK)' && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

run: $(STAMP) ## Serve the API (embedded PostgreSQL unless DATABASE_URL is set)
	$(BIN)/frontline serve

test: $(STAMP) ## Run the tests (starts a throwaway PostgreSQL unless DATABASE_URL is set)
	@scripts/ensure-chromium
	@scripts/ensure-node
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP) ## Benchmark vs raw PostgreSQL (SCALE=10k|100k|1m, comma list); bench/results.md
	@scripts/ensure-wrk
	@scripts/ensure-chromium
	$(BIN)/python -m bench --scale $(SCALE) $(BENCH_ARGS)

bench-smoke: $(STAMP) ## A tiny benchmark run that fails on any error (asserts nothing about speed)
	$(BIN)/python -m bench --scale smoke --out "$${TMPDIR:-/tmp}/frontline-bench-smoke"

soak: $(STAMP) ## Readers, subscribers and writers for 60 s on loopback; bench/soak-results.md
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

lint: $(STAMP) ## ruff check, ruff format --check, mypy --strict, the layers' import contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(LINT_PACKAGES)
	$(BIN)/lint-imports

fmt: $(STAMP) ## Format and auto-fix
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## Remove the virtualenv and caches (keeps .frontline/ data)
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
