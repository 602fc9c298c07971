# Flowlearn task runner. `make dev` runs the system locally; `make test` runs every test.
# Both install what they need on a fresh machine (Python 3.11+, network access to PyPI).

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --frozen
PYTEST_ARGS ?=

.PHONY: help install browser-deps dev test test-unit test-integration test-e2e test-browser test-faults reliability lint format typecheck bench docs clean

help:
	@echo "make dev    - run NATS, SecantusDB and the four services (http://127.0.0.1:8000)"
	@echo "make test   - install everything and run the whole test suite"
	@echo "make test-browser - the learning hub in Debian's chromium (Playwright)"
	@echo "make lint   - ruff (format check + lint) and mypy"
	@echo "make bench  - benchmarks against their baselines (see bench/)"
	@echo "make test-faults - kill -9, outages and poison events, each on its own local system"
	@echo "make reliability - the fault scenarios at full size; writes docs/RELIABILITY.md"
	@echo "make docs   - regenerate docs/openapi.json and docs/asyncapi/*.json"

$(UV):
	$(PYTHON) -m pip install --quiet --user "uv==$(UV_VERSION)" || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --frozen --all-packages

# The browser tests drive Debian's chromium (never a browser download). Installed as root
# when missing; without root the step says what to run and the browser tests skip.
CHROMIUM := /usr/bin/chromium
browser-deps:
	@if [ -x $(CHROMIUM) ]; then \
		echo "chromium: $(CHROMIUM) is installed"; \
	elif [ "$$(id -u)" -ne 0 ]; then \
		echo "chromium: $(CHROMIUM) is missing and this is not root; the browser tests will be skipped."; \
		echo "          Install it with: sudo apt-get update && sudo apt-get install -y chromium"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "chromium: $(CHROMIUM) is missing and there is no apt-get; the browser tests will be skipped."; \
	else \
		echo "chromium: installing Debian's chromium for the browser tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q chromium >/dev/null 2>&1 || \
			{ apt-get update -q && apt-get install -y -q chromium; }; \
	fi

dev: install
	$(RUN) flowlearn dev

# The fault tests (tests/faults) start a whole system each and take about five minutes more;
# they run in `make test-faults`, which CI runs too.
test: install browser-deps
	$(RUN) pytest -m "not faults" $(PYTEST_ARGS)

test-unit: install
	$(RUN) pytest tests/unit $(PYTEST_ARGS)

test-integration: install
	$(RUN) pytest tests/integration tests/gateway $(PYTEST_ARGS)

test-e2e: install
	$(RUN) pytest tests/e2e $(PYTEST_ARGS)

test-browser: install browser-deps
	$(RUN) pytest tests/browser $(PYTEST_ARGS)

test-faults: install
	$(RUN) pytest tests/faults -m faults $(PYTEST_ARGS)

lint: install
	$(RUN) ruff format --check .
	$(RUN) ruff check .
	$(RUN) mypy shared/src services/journal/src services/nudges/src services/sharing/src services/gateway/src cli/src reliability

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

bench: install
	$(RUN) python -m bench

reliability: install
	$(RUN) python -m reliability

docs: install
	$(RUN) python -m flowlearn_cli.contracts write

clean:
	rm -rf .flowlearn .pytest_cache .mypy_cache .ruff_cache test-output
