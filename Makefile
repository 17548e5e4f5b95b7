# controlwatch: everything a fresh machine needs goes through these targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# `make run` needs only the daemon and the stand-in: its own stamp, without the dev extra.
RUN_STAMP := $(VENV)/.installed-run
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEB_PACKAGES := prometheus=2.42.0+ds-5+deb12u1 prometheus-alertmanager=0.25.0-1+b4 \
	chromium=156.0.8078.108-1~deb12u1 chromium-driver=156.0.8078.108-1~deb12u1

.PHONY: run test lint bench venv tools clean readme

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip==25.3"
	$(PY) -m pip install -q -c requirements/constraints.txt -e ".[sandbox,dev]"
	touch $(STAMP) $(RUN_STAMP)

# The dev extra includes everything `run` needs, so a full install stamps both.
$(RUN_STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip==25.3"
	$(PY) -m pip install -q -c requirements/constraints.txt -e ".[sandbox]"
	touch $(RUN_STAMP)

venv: $(STAMP)

# Debian packages the tests drive for real (promtool, prometheus, amtool, alertmanager, and
# chromium with chromedriver for the HTML evidence report).
# Pinned; if the mirror has moved past the pin (a Debian security update), the current
# package of the same release is taken and a warning says so.
tools:
	@if ! command -v promtool >/dev/null || ! command -v amtool >/dev/null || \
	  ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  $(SUDO) apt-get update -qq && \
	  { DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(DEB_PACKAGES) || \
	    { echo "warning: pinned $(DEB_PACKAGES) unavailable, installing the current packages"; \
	      DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	        $(foreach p,$(DEB_PACKAGES),$(firstword $(subst =, ,$(p)))); }; }; \
	fi

run: $(RUN_STAMP)
	$(VENV)/bin/controlwatch run --demo

lint: $(STAMP)
	$(VENV)/bin/ruff check monitor checks tests benchmarks
	$(VENV)/bin/mypy monitor checks

# The in-process tests, again with every wall-clock read 400 days ahead (tests/conftest.py):
# a fixture that is fresh only because today is near the day it was written fails now.
SHIFTED_TESTS := tests/monitor tests/demo tests/collect tests/standin tests/checks tests/config \
	tests/evidence tests/architecture tests/test_cli.py tests/test_scopes_cli.py tests/test_params_per_scope.py tests/test_any_date.py tests/test_clock.py

test: $(STAMP) tools lint
	$(VENV)/bin/pytest -q
	CONTROLWATCH_TEST_CLOCK_SHIFT=400d $(VENV)/bin/pytest -q $(SHIFTED_TESTS)

bench: $(STAMP)
	$(PY) -m benchmarks

# Regenerate the README's controls table from the registry (a test fails when it is stale).
readme: $(STAMP)
	$(PY) -c "from checks import default_registry; from monitor.commands.catalogue import update_readme; update_readme('README.md', default_registry()); from monitor.commands.catalogue_doc import DOCUMENT_PATH, update_document; update_document(DOCUMENT_PATH, default_registry())"

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
