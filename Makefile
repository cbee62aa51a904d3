# Every target sets up the virtualenv first, so a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench chaos check catalogs clean verify-deploy

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  echo "python3-venv is missing; installing it with apt-get"; \
	  apt-get update -q && apt-get install -y -q python3-venv python3-pip; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

# The browser tests (tests/browser) drive Debian's chromium through Playwright (no browser
# download) and check pages with axe-core from npm (package-lock.json, offline-safe).
CHROMIUM ?= /usr/bin/chromium
NODE_STAMP := node_modules/.installed

$(CHROMIUM):
	@echo "chromium is missing; installing it with apt-get"
	apt-get update -q && apt-get install -y -q chromium

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { \
	  echo "npm is missing; installing it with apt-get"; \
	  apt-get update -q && apt-get install -y -q npm; }
	npm ci --no-audit --no-fund
	@touch $@

demo: $(STAMP)
	$(BIN)/hashchat demo

test: $(STAMP) $(NODE_STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

# The real process killed at random and 20% of its posts refused: ARGS="--chats 20 --kills 80"
chaos: $(STAMP)
	PYTHONPATH=. $(BIN)/python bench/chaos.py $(ARGS)

check: lint test

# After changing any text the bot shows: refresh the catalogs, translate what is new.
catalogs: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header \
	  -o bot/locale/messages.pot .
	$(BIN)/pybabel update -i bot/locale/messages.pot -d bot/locale \
	  --ignore-obsolete --no-fuzzy-matching --width 100

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache node_modules test-output

# The systemd unit in deploy/, checked by systemd-analyze where it exists (CI runs it).
verify-deploy: $(STAMP)
	bash deploy/verify-unit
