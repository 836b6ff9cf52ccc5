# FluentAI: `make run` and `make test` set up everything they need on a fresh Debian machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SYSTEM_PACKAGES := gcc make libgc-dev libgmp-dev
# CPython's headers: without them the runtime builds all the same, less the image runner extension
# that starts warm runs 3-4 ms sooner (fluentai/runtime/build.py)
OPTIONAL_PACKAGES := python3-dev
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit corpus sysdeps venv clean pyc runtime prelude bench bench-peers

run: $(STAMP) pyc runtime prelude
	$(BIN)/fluentai run examples/demo.fl

test: $(STAMP) pyc runtime lint typecheck
	$(BIN)/python -m pytest -q -n 2 tests

lint: $(STAMP)
	$(BIN)/ruff check fluentai tests
	$(BIN)/ruff format --check fluentai tests

typecheck: $(STAMP)
	$(BIN)/mypy fluentai

unit: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests/unit tests/property

corpus: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests/test_programs.py

# The benchmark suite (docs/benchmarks.md, .json, .png); BENCH_FLAGS passes options, e.g.
# `make bench BENCH_FLAGS="--quick --only fib,tak"`.
bench: $(STAMP) pyc runtime prelude
	$(BIN)/fluentai bench $(BENCH_FLAGS)

# The peers the benchmarks compare against: installed with apt-get when root, otherwise the command
# is printed. gcc comes with sysdeps.
PEER_PACKAGES := pypy3 chezscheme luajit clang hyperfine
bench-peers:
	@missing=""; \
	for p in $(PEER_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then \
	  echo "benchmark peers already installed: $(PEER_PACKAGES)"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing benchmark peers:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
	  echo "missing benchmark peers:$$missing"; \
	  echo "run: sudo apt-get update && sudo apt-get install -y$$missing"; \
	  exit 1; \
	fi

# System packages: installed with apt-get when root, otherwise the exact command is printed. An
# optional one that is missing is only mentioned, and a failure to install it (no network) does
# not stop the build.
sysdeps:
	@missing=""; optional=""; \
	for p in $(SYSTEM_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	for p in $(OPTIONAL_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || optional="$$optional $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing || exit 1; \
	  else \
	    echo "missing system packages:$$missing"; \
	    echo "run: sudo apt-get update && sudo apt-get install -y$$missing$$optional"; \
	    exit 1; \
	  fi; \
	fi; \
	if [ -n "$$optional" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing optional system packages:$$optional (faster warm starts)"; \
	    { [ -n "$$missing" ] || apt-get update -qq; } && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$optional || \
	      echo "note: could not install$$optional; the build goes on without it"; \
	  else \
	    echo "optional system packages not installed:$$optional (faster warm starts)"; \
	    echo "run: sudo apt-get update && sudo apt-get install -y$$optional"; \
	  fi; \
	fi

# The editable install puts the checkout on sys.path with a .pth line (setuptools' compat mode,
# pinned in pyproject.toml): the default mode imports a finder that cost 20-40 ms at every start.
# PYTHONWARNINGS silences setuptools' notice that the mode is transitional. pip copies bin/fluentai
# into the environment, so a change to it installs again.
$(STAMP): pyproject.toml bin/fluentai | sysdeps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install -q -e '.[dev]' --config-settings editable_mode=compat
	@touch $(STAMP)

# Byte-compile the package once, so start-up does not recompile it (PYTHONDONTWRITEBYTECODE may
# be set in the environment).
# The prelude (the builtins written in FluentAI) compiled into the code cache once, so that no
# program's first run pays for it (`fluentai cache prelude`; a second time costs nothing).
prelude: $(STAMP) pyc runtime
	@$(BIN)/fluentai cache prelude

pyc: $(STAMP)
	@$(BIN)/python -m compileall -q fluentai

# The C runtime (libfluentrt.so for the JIT, libfluentrt.a for executables), rebuilt when its
# sources change; the native tiers would also build it on first use.
runtime: $(STAMP)
	@$(BIN)/python -m fluentai.runtime.build >/dev/null

venv: $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache fluentai/runtime/_build
