# Quick start: `make run` serves the embedded stack on http://localhost:8000/api/v1/,
# `make test` runs the test suite. Everything installs into .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-integration lint format plugins sandbox browser stack stack-stop bench clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(STAMP)

plugins: $(STAMP)
	utils/scripts/install_builtin_plugins.sh .venvs/plugins var/plugins

# localcompute runs every plugin in a bubblewrap sandbox: installed here when missing.
sandbox:
	utils/scripts/ensure-bubblewrap.sh

run: $(STAMP) plugins sandbox
	utils/scripts/run-embedded.sh

# The real-browser tests (tests/browser) drive Debian's chromium: installed here when missing.
browser:
	utils/scripts/ensure-chromium.sh

test: $(STAMP) sandbox browser
	$(BIN)/pytest -q

test-integration: $(STAMP) sandbox
	utils/scripts/test-production.sh

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The production profile in the foreground (PostgreSQL, Redis, Swift, localcompute in swift
# mode); `utils/scripts/stack.sh start` runs it in the background, `make stack-stop` stops it.
stack: $(STAMP) plugins sandbox
	utils/scripts/run-production.sh

stack-stop:
	utils/scripts/stack.sh stop

bench: $(STAMP) plugins sandbox
	$(BIN)/python -m utils.bench

clean:
	rm -rf var
