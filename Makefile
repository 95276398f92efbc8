# The two commands of the README: `make run` (set up and run the service) and `make test` (set up and test).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run chat test lint check-migrations check-catalogs docs-config setup setup-test bench bench-sms bench-recall bench-pedigree bench-search load fault-notifications clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# -qq: setup prints only errors (not setuptools' notice that every editable install gets).
$(VENV)/.installed: pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip install -qq -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip install -qq -e '.[test]'
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed

setup-test: $(VENV)/.installed-test

run: setup
	$(BIN)/reunite serve --host $(HOST) --port $(PORT)

chat: setup
	$(BIN)/reunite chat

test: setup-test
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

check-migrations: setup-test
	REUNITE_DATA_DIR=$$(mktemp -d) sh -c '$(BIN)/alembic upgrade head && $(BIN)/alembic check'

docs-config: setup-test  # docs/configuration.md from the settings tree (tests/test_settings.py checks they agree)
	$(BIN)/python -m intake.platform.settings.table > docs/configuration.md

check-catalogs: setup-test
	$(BIN)/pybabel compile --statistics -d intake/locale -D messages

bench: setup-test bench-search
	$(BIN)/python benchmarks/bench_kinship.py
	$(MAKE) bench-recall

bench-recall: setup-test
	$(BIN)/python benchmarks/bench_recall.py

bench-pedigree: setup-test
	$(BIN)/python benchmarks/bench_pedigree.py

bench-search: setup-test
	$(BIN)/python -m benchmarks.bench_search --tracemalloc

bench-sms: setup-test
	$(BIN)/python benchmarks/bench_sms.py

# Load and faults (docs/reliability.md): 10,000 signed deliveries per run against `reunite serve --workers 2` on a
# PostgreSQL cluster of the run's own; several minutes each (the first three: acceptance, acceptance first with the
# hold, conversation latency at a rate the workers sustain). A run exits non-zero when a check fails.
fault-notifications: setup-test
	$(BIN)/python -m benchmarks.fault_notifications --notifications 2000 --workers 3

load: setup-test
	$(BIN)/python benchmarks/load_sms.py
	$(BIN)/python benchmarks/load_sms.py --hold-above 50
	$(BIN)/python benchmarks/load_sms.py --target reunite --deliveries 4000 --dialogue-workers 1,2,4 --rate 35
	$(BIN)/python benchmarks/load_sms.py --target reunite --deliveries 2000 --dialogue-workers 2 --rate 30 --lockstep
	$(BIN)/python benchmarks/load_sms.py --target reunite --mode inline
	$(BIN)/python benchmarks/load_sms.py --target reunite --dialogue-workers 2 --fault postgres-restart
	$(BIN)/python benchmarks/load_sms.py --target reunite --dialogue-workers 2 --fault kill-web
	$(BIN)/python benchmarks/load_sms.py --target reunite --dialogue-workers 2 --telegram
	$(BIN)/python benchmarks/load_sms.py --target reunite --dialogue-workers 2 --telegram --fault postgres-restart
	$(BIN)/python benchmarks/load_sms.py --target reunite --dialogue-workers 2 --telegram --fault kill-web

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
