# Parley: `make run` starts everything with a demo; `make test` sets up and runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint imports format bench soak clean widget widget-test system-deps

$(STAMP): pyproject.toml infra/dev/import_paths.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python infra/dev/import_paths.py
	touch $@

install: $(STAMP)

run: install widget
	$(BIN)/python manage.py runstack

test: install system-deps widget-test imports
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# Parley side by side with the seed tutorial app (../shared/bench/seed_app); see docs/PERFORMANCE.md.
bench: install
	$(BIN)/python bench/run.py --json artifacts/bench.json

# A long soak: the test of tests/e2e/test_soak.py (1 minute in `make test`) for 10 minutes.
# Parameters: PARLEY_SOAK_SECONDS, _SOCKETS, _INTERVAL, _PUBLIC_ROOMS, _PUBLIC_MEMBERS.
PARLEY_SOAK_SECONDS ?= 600
soak: install
	PARLEY_SOAK_SECONDS=$(PARLEY_SOAK_SECONDS) $(BIN)/python -m pytest tests/e2e/test_soak.py \
		-s -o timeout=$$(( $(PARLEY_SOAK_SECONDS) + 600 ))

lint: install imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Dependencies point one way (docs/ARCHITECTURE.md): the contracts in pyproject.toml.
imports: install
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .data staticfiles $(WIDGET)/node_modules $(WIDGET)/dist

# --- The embeddable widget (frontend-widget/): npm ci only when the lock file changed -----------
WIDGET       := frontend-widget
WIDGET_STAMP := $(WIDGET)/node_modules/.installed

$(WIDGET_STAMP): $(WIDGET)/package.json $(WIDGET)/package-lock.json
	cd $(WIDGET) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Builds dist/ (served by Django, widget/assets.py) and prints the bundle size; fails over 25 KB.
widget: $(WIDGET_STAMP)
	cd $(WIDGET) && node build.mjs

widget-test: widget
	cd $(WIDGET) && node --test --test-reporter=spec test/

# Debian's chromium for the end-to-end browser tests (installed only when missing).
system-deps:
	bash infra/dev/system-deps.sh
