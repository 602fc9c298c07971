# Flowlearn task runner. `make dev` runs the system locally; `make test` runs every test.
# Both install what they need on a fresh machine (Python 3.11+, network access to PyPI).

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --frozen
PYTEST_ARGS ?=

.PHONY: help install dev test test-unit test-integration test-e2e lint format typecheck bench docs clean

help:
	@echo "make dev    - run NATS, SecantusDB and the four services (http://127.0.0.1:8000)"
	@echo "make test   - install everything and run the whole test suite"
	@echo "make lint   - ruff (format check + lint) and mypy"
	@echo "make bench  - benchmarks against their baselines (see bench/)"
	@echo "make docs   - regenerate docs/openapi.json and docs/asyncapi/*.json"

$(UV):
	$(PYTHON) -m pip install --quiet --user "uv==$(UV_VERSION)" || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --frozen --all-packages

dev: install
	$(RUN) flowlearn dev

test: install
	$(RUN) pytest $(PYTEST_ARGS)

test-unit: install
	$(RUN) pytest tests/unit $(PYTEST_ARGS)

test-integration: install
	$(RUN) pytest tests/integration tests/gateway $(PYTEST_ARGS)

test-e2e: install
	$(RUN) pytest tests/e2e $(PYTEST_ARGS)

lint: install
	$(RUN) ruff format --check .
	$(RUN) ruff check .
	$(RUN) mypy shared/src services/journal/src services/nudges/src services/sharing/src services/gateway/src cli/src

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

bench: install
	$(RUN) python -m bench

docs: install
	$(RUN) python -m flowlearn_cli.contracts write

clean:
	rm -rf .flowlearn .pytest_cache .mypy_cache .ruff_cache test-output
