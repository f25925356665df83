# One target per thing a person does. Every target sets up .venv when it is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
STAGE ?= dev

.PHONY: install run test lint format bench fuzz package deploy destroy promote-admin smoke logs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	PORT=$(PORT) $(BIN)/python -m devstack

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: $(STAMP) lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis

# --- AWS (uses your AWS credentials and region; see scripts/) ---------------------------

package: $(STAMP)
	$(BIN)/python -m scripts.package --stage $(STAGE)

deploy: $(STAMP)
	$(BIN)/python -m scripts.deploy --stage $(STAGE)

destroy: $(STAMP)
	$(BIN)/python -m scripts.destroy --stage $(STAGE)

promote-admin: $(STAMP)
	$(BIN)/python -m scripts.promote_admin --stage $(STAGE) --email "$(EMAIL)"
