# sim2real: two commands do all set-up on a fresh Debian/Ubuntu machine with Python 3.11.
#   make demo   set up .venv with what the demo needs (sim2real[demo]: MuJoCo, torch, ONNX, the panel) and
#               the system libraries for rendering, then run `sim2real demo`
#   make test   set up .venv with every extra and the test tools (sim2real[all,dev]), then the whole pytest
#               suite, then the USD and Kit-side tests again in a
#               second venv close to Isaac Sim 5.1's Python (OpenUSD 24.05, the Kit wheels of
#               exts/sim2real/pip_archive installed offline: make test-usd24)
# Re-running is fast: system packages are checked with dpkg, the venv is rebuilt only when
# pyproject.toml or the set-up scripts change.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.sim2real-installed
DEMO_STAMP := $(VENV)/.sim2real-demo
PYTEST_ARGS ?=
# usd-core and usd-exchange both ship `pxr`: the OpenUSD 24.05 tests run in a venv of their own
USD24 := .venv-usd24
USD24_STAMP := $(USD24)/.sim2real-installed
USD24_TESTS := tests/usd tests/isaac tests/randomize tests/app tests/test_config.py

.PHONY: demo test test-usd24 setup setup-test bench clean help

help:
	@echo "make demo   set up and run the sim2real demo"
	@echo "make test   set up and run the test suite (then make test-usd24)"
	@echo "make test-usd24  the USD and Kit-side tests on OpenUSD 24.05 (Isaac Sim 5.1's), offline Kit wheels"
	@echo "make bench  run the benchmarks in tools/bench (not part of the tests)"

setup:
	@tools/setup/system-deps.sh render
	@$(MAKE) --no-print-directory $(DEMO_STAMP)

setup-test:
	@tools/setup/system-deps.sh render test
	@$(MAKE) --no-print-directory $(STAMP)

$(STAMP): pyproject.toml tools/setup/venv.sh
	tools/setup/venv.sh "$(PYTHON)" "$(VENV)" all,dev
	@touch $@

# a venv set up for the tests has every extra: the demo needs nothing more
$(DEMO_STAMP): pyproject.toml tools/setup/venv.sh
	@if [[ -f $(STAMP) && $(STAMP) -nt pyproject.toml && $(STAMP) -nt tools/setup/venv.sh ]]; then \
		echo "sim2real: $(VENV) has every extra (make test set it up)"; \
	else tools/setup/venv.sh "$(PYTHON)" "$(VENV)" demo; fi
	@touch $@

demo: setup
	$(BIN)/sim2real demo

test: setup-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory test-usd24

$(USD24_STAMP): tools/setup/usd24.sh tools/setup/usd24-requirements.txt exts/sim2real/config/extension.toml
	tools/setup/usd24.sh "$(PYTHON)" "$(USD24)"
	@touch $@

test-usd24: setup-test $(USD24_STAMP)
	PYTHONPATH=exts/sim2real SIM2REAL_CONVERTER_PYTHON=$(BIN)/python \
		$(USD24)/bin/python -m pytest $(USD24_TESTS) $(PYTEST_ARGS)

bench: setup-test
	$(BIN)/python tools/bench/run_all.py

clean:
	rm -rf $(VENV) $(USD24) build exts/sim2real/*.egg-info .pytest_cache
