# Parley: `make run` starts everything with a demo; `make test` sets up and runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(STAMP)

run: install
	$(BIN)/python manage.py runstack

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# Parley side by side with the seed tutorial app (../shared/bench/seed_app); see docs/PERFORMANCE.md.
bench: install
	$(BIN)/python bench/run.py --json artifacts/bench.json

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .data staticfiles
