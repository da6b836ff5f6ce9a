# sim2real: two commands do all set-up on a fresh Debian/Ubuntu machine with Python 3.11.
#   make demo   set up .venv (and missing system libraries), then run `sim2real demo`
#   make test   the same set-up, then the whole pytest suite
# Re-running is fast: system packages are checked with dpkg, the venv is rebuilt only when
# pyproject.toml or the set-up scripts change.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.sim2real-installed
PYTEST_ARGS ?=

.PHONY: demo test setup setup-test bench clean help

help:
	@echo "make demo   set up and run the sim2real demo"
	@echo "make test   set up and run the test suite"
	@echo "make bench  run the benchmarks in tools/bench (not part of the tests)"

setup:
	@tools/setup/system-deps.sh render
	@$(MAKE) --no-print-directory $(STAMP)

setup-test:
	@tools/setup/system-deps.sh render test
	@$(MAKE) --no-print-directory $(STAMP)

$(STAMP): pyproject.toml tools/setup/venv.sh
	tools/setup/venv.sh "$(PYTHON)" "$(VENV)"
	@touch $@

demo: setup
	$(BIN)/sim2real demo

test: setup-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup-test
	$(BIN)/python tools/bench/run_all.py

clean:
	rm -rf $(VENV) build exts/sim2real/*.egg-info .pytest_cache
