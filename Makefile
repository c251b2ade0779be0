# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each creates .venv, installs the project, and builds (or reuses) the control-plane binaries,
# which are cached outside the clone under ~/.cache/batchops/k8s-<version>-<hash>/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
PYTEST_ARGS ?=
# Workers for `make test`: each starts its own control plane, emulator and operator when its
# tests need them. The end-to-end tests mostly wait on the operator; 3 workers fit 2 cores
# without starving the timing of the chaos and CLI tests (4 did, once in two runs).
TEST_WORKERS ?= 3

.PHONY: all venv controlplane lint test test-unit demo dev bench chaos clean

all: test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

controlplane:
	@hack/controlplane/build.sh >/dev/null

lint: venv
	$(BIN)/ruff check operator tests bench
	$(BIN)/ruff format --check operator tests bench
	$(BIN)/mypy
	# --no-cache: grimp's per-file cache keeps a stale import list when a package is added.
	$(BIN)/lint-imports --no-cache

test: venv controlplane lint
	BATCHOPS_K8S_BIN=$$(hack/controlplane/build.sh) $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

test-unit: venv
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

demo: venv controlplane
	BATCHOPS_K8S_BIN=$$(hack/controlplane/build.sh) $(BIN)/batchops demo

dev: venv controlplane
	BATCHOPS_K8S_BIN=$$(hack/controlplane/build.sh) $(BIN)/batchops dev

bench: venv controlplane
	BATCHOPS_K8S_BIN=$$(hack/controlplane/build.sh) $(BIN)/python -m bench

# The full chaos suite (a small version runs inside `make test`); BATCHOPS_CHAOS_SEED replays one.
chaos: venv controlplane
	BATCHOPS_CHAOS=full BATCHOPS_K8S_BIN=$$(hack/controlplane/build.sh) $(BIN)/pytest tests/chaos -x -q -s

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
