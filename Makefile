# Everything a fresh machine needs: `make demo` and `make test` (README).
SHELL := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP  := $(VENV)/.installed
DEMO_DIR ?= demo
DEMO_ENTITIES ?= 2000
# make test runs the suite in this many processes (pytest-xdist), a test file per process at a time: the tests
# that wait (the Airflow scheduler, the browser) overlap with the ones that compute. 16 min against 27 on 2 cores.
TEST_WORKERS ?= 2
PYTEST = $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile
BENCH_ARGS ?= --entities 100000 --seed 7 --out bench-out --report docs/benchmarks.md --airflow 2000

.PHONY: install demo lint test test-fast lock bench clean airflow

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	touch $(STAMP)

# Re-pin every dependency after editing pyproject.toml.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 --no-header -o requirements.lock

demo: install
	$(BIN)/mdm demo --out $(DEMO_DIR) --entities $(DEMO_ENTITIES)

# Lint, format check and types (configured in pyproject.toml); `make test` runs it first.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/ruff format --check .

test: install lint
	bash tests/pg.sh start
	bash tests/browser.sh
	$(PYTEST) $(PYTEST_ARGS)

test-fast: install
	$(PYTEST) -m "not airflow and not postgres and not browser" $(PYTEST_ARGS)

# A local Airflow 3 on 127.0.0.1 with the project's DAGs and the demo config (docs/airflow.md).
AIRFLOW_PORT ?= 8080
airflow: install
	test -f $(DEMO_DIR)/mdm.yaml || $(MAKE) demo
	$(BIN)/python scripts/airflow_local.py --home .airflow --config $(DEMO_DIR)/mdm.yaml --port $(AIRFLOW_PORT)

# Benchmark (docs/benchmarks.md): make bench BENCH_ARGS="--entities 1000000 --no-splink --out /tmp/b --report docs/benchmarks.md";
# --no-incremental skips the 1% change run, --scaling 10000,100000,1000000 writes the scaling table.
bench: install
	$(BIN)/python -m pipelines.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .airflow
