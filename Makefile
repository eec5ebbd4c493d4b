# sitecare: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help
# uv from PATH, else the one `make uv` installs into this Python (run as a module).
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export UV_NO_PROGRESS := 1

.PHONY: help uv deps system-deps node-deps run test lint unit

help:
	@echo "make run   - install, set up and start sitecare with its demo (Ctrl-C stops it)"
	@echo "make test  - install test needs, run the lint gates and the whole test suite"

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		python3 -m pip install --quiet --user uv 2>/dev/null || \
		python3 -m pip install --quiet uv 2>/dev/null || \
		python3 -m pip install --quiet --user --break-system-packages uv

deps: uv
	$(UV) sync --frozen --quiet

# Debian packages the tests need, installed with apt-get when we are root and they are missing.
SYSTEM_PACKAGES := gettext chromium
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian packages:$$missing"; \
			(apt-get install -y -q --no-install-recommends $$missing >/dev/null 2>&1 || \
			 (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null)); \
		else echo "missing Debian packages:$$missing (install them, or run as root)"; exit 1; fi; \
	fi

# axe-core for the page sweep (front/tests/test_page_sweep.py), pinned in package-lock.json.
# npm comes with Debian's nodejs/npm packages (or NodeSource's nodejs): checked as a command,
# since either provides it.
node-deps:
	@if ! command -v npm >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian packages: nodejs npm"; \
			(apt-get install -y -q --no-install-recommends nodejs npm >/dev/null 2>&1 || \
			 (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm >/dev/null)); \
		else echo "missing: npm (install Debian's nodejs and npm, or run as root)"; exit 1; fi; \
	fi
	@[ -f node_modules/axe-core/axe.min.js ] || CI=true npm ci --no-audit --no-fund --loglevel=error </dev/null

run: deps
	$(UV) run --frozen sitecare setup --demo
	exec $(UV) run --frozen sitecare run --demo

lint: deps
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy .
	$(UV) run --frozen sitecare makemigrations --check --dry-run

unit: deps system-deps node-deps
	$(UV) run --frozen pytest

test: lint unit
