# Two commands matter: `make run` and `make test`. Everything else is a helper.
# Python 3.12 or newer where the machine has one (on PATH, or installed by pyenv): with
# its sys.monitoring, coverage measures the suite at almost no cost, where 3.11's
# settrace makes it 2.5 times slower (docs/development.md). Any Python 3.11+ works.
PYTHON ?= $(or $(shell for p in python3.13 python3.12; do $$p -c '' >/dev/null 2>&1 && echo $$p && break; done),$(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12))),python3)
VENV   := .venv
BIN    := $(VENV)/bin
# Where `make run` serves: `make run PORT=8100`, or GATEWAY_HOST / GATEWAY_PORT as for
# `privacy-gateway serve` (the settings decide when neither is given: 127.0.0.1:8000).
HOST   ?=
PORT   ?=

.PHONY: run test lint typecheck docs bench clean help

help:
	@echo "make run   - set up, migrate the embedded SQLite store, seed demo data, serve (127.0.0.1:8000; PORT=, HOST= or GATEWAY_PORT=, GATEWAY_HOST= to change)"
	@echo "make test  - set up with the dev extras; ruff, import contracts, mypy, a strict docs build, every test"
	@echo "make docs  - build the documentation site into site/ (strict: a broken link fails)"
	@echo "make bench - read-path benchmark (gateway vs direct database read)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

# Browser tests drive Debian's Chromium through Playwright, never a downloaded browser:
# nothing to do if it is there ($OPG_CHROMIUM, or `chromium` on PATH), else apt-get it.
# Printed reports in Chinese need a CJK font (Debian's fonts-noto-cjk), or Chromium
# draws boxes; the report tests check the glyphs are there, and look at the printed
# pages as pixels through poppler-utils' pdftoppm.
CHROMIUM_HELP := install Debian's chromium, fonts-noto-cjk and poppler-utils packages (apt-get install chromium fonts-noto-cjk poppler-utils) or set OPG_CHROMIUM to a Chromium binary
$(VENV)/.chromium: | $(BIN)/python
	@missing=""; \
	[ -x "$${OPG_CHROMIUM:-}" ] || command -v chromium >/dev/null || missing="chromium"; \
	[ -n "$$(fc-list :lang=zh 2>/dev/null)" ] || missing="$$missing fonts-noto-cjk"; \
	command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then \
		echo "Missing$$missing and this user cannot install it: $(CHROMIUM_HELP)" >&2; exit 1; \
	else \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		echo "Installing Debian's$$missing for the browser tests"; \
		$$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing \
			|| { echo "Could not install$$missing: $(CHROMIUM_HELP)" >&2; exit 1; }; \
	fi
	@touch $@

# The identity tests run a real OpenID Connect provider (tests/idp: panva's oidc-provider) on
# the machine's Node.js. Its npm packages are pinned by tests/idp/package-lock.json and
# installed again only when that lock changes.
IDP_PACKAGES := tests/idp/node_modules/.installed
NPM_HELP := install Node.js 20 and npm (Debian: apt-get install nodejs npm)
$(IDP_PACKAGES): tests/idp/package.json tests/idp/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: $(NPM_HELP)" >&2; exit 1; }
	npm ci --prefix tests/idp --no-audit --no-fund
	@touch $@

# The console's browser tests check each screen with axe-core (tests/axe), injected into
# the page by Playwright; pinned by its lock file like the provider's packages.
AXE_PACKAGES := tests/axe/node_modules/.installed
$(AXE_PACKAGES): tests/axe/package.json tests/axe/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: $(NPM_HELP)" >&2; exit 1; }
	npm ci --prefix tests/axe --no-audit --no-fund
	@touch $@

run: $(VENV)/.installed
	$(BIN)/privacy-gateway migrate
	$(BIN)/privacy-gateway demo --if-empty
	$(BIN)/privacy-gateway serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check gateway audit tests bench migrations docs/hooks
	$(BIN)/ruff format --check gateway audit tests bench migrations docs/hooks
	$(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# Reference pages are generated from the code by docs/hooks/reference.py at build time.
docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: lint typecheck docs $(VENV)/.chromium $(IDP_PACKAGES) $(AXE_PACKAGES)
	$(BIN)/python -m pytest -n auto --dist loadfile --cov --cov-report=term --cov-fail-under=90 $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/read_path.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage site tests/idp/node_modules tests/axe/node_modules
