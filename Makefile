# make demo: set up and run Haven on the embedded default (SQLite + in-process queue).
# make test: set up, make sure Redis, PostgreSQL and Chromium are there, and run every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-fast test-drills lint format services serve train clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Haven needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,semantic,photos]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/haven demo

serve: $(STAMP)
	$(BIN)/haven serve

services:
	bash scripts/ensure-services

# Retrain the learned stage's heads from rules/corpus/ (and ../shared/eval's tune halves when
# they are there); commit rules/semantic/heads.* afterwards (docs/detection.md).
train: $(STAMP)
	$(BIN)/haven rules train

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The tests run in parallel, one process per core (at most four: each takes its own Redis
# database, 15 counting down; tests/helpers.py), the longest first (tests/conftest.py). Each
# process starts with a share of the list and takes tests still waiting in another's once its
# own run out (worksteal): the first process keeps the long tests, the others the short ones,
# and none sits idle at the end. `pytest` alone runs them one by one.
PARALLEL := -n auto --maxprocesses 4 --dist worksteal
# Compiled modules are written and reused: the suite starts about a hundred Python processes
# (its own, gunicorn, `haven worker`...), and where the environment says not to write them
# (PYTHONDONTWRITEBYTECODE), each compiled Haven's modules and the tests from source again.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest

test: $(STAMP) services lint
	$(PYTEST) -q $(PARALLEL)

# The unit tier: no browser, no drills, no stacks of real processes.
# `make test` runs these and everything else.
test-fast: $(STAMP) services
	$(PYTEST) -q $(PARALLEL) -m "not browser and not drill and not stack"

# The failure drills and property tests alone (docs/reliability.md); `make test` runs them too.
test-drills: $(STAMP) services
	$(PYTEST) -q -m drill tests/drills

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
