# The portal's everyday commands. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := FLASK_APP=wsgi.py PORTAL_DEVELOPMENT=1 $(BIN)/flask

.PHONY: install install-test run worker test test-fast lint format bench assets lock clean

# What the portal needs to run, exactly as locked (with hashes) in requirements/run.txt;
# the tests add requirements/test.txt. setuptools is upgraded at once because the one venv
# brings has known advisories; the lock then holds the portal to its pinned release.
install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 'setuptools>=78.1.1,<81'

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml requirements/run.txt
	$(BIN)/pip install --quiet --require-hashes -r requirements/run.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements/test.txt
	$(BIN)/pip install --quiet --require-hashes -r requirements/test.txt
	touch $@

## lock: pin every dependency, with hashes, after a change to pyproject.toml
lock: $(VENV)/bin/python
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links -o requirements/run.txt pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links --extra test -o requirements/test.txt pyproject.toml

## run: the portal on http://127.0.0.1:$(PORT), SQLite in instance/, with demonstration data
run: install
	$(FLASK) db upgrade
	$(FLASK) tenants sync
	$(FLASK) demo load --if-empty
	@echo
	@echo "  Equality Partnership Portal: http://127.0.0.1:$(PORT)/"
	@echo "  Sign in as officer@sevenoaks.demo, lead@west-kent.demo, admin@portal.demo, ..."
	@echo "  Demonstration password: $${PORTAL_DEMO_PASSWORD:-partnership-demo-2026}"
	@echo
	@trap 'exit 0' INT TERM; \
	PORTAL_INSECURE_COOKIES=1 PORTAL_BASE_URL=http://127.0.0.1:$(PORT) $(FLASK) run --host 127.0.0.1 --port $(PORT) || [ $$? -eq 143 ]

## worker: a job worker, for when REDIS_URL is set (without it, jobs run inside `make run`)
worker: install
	PORTAL_DEVELOPMENT=1 $(BIN)/celery -A portal.jobs.worker worker --loglevel=INFO

## test: the whole suite (PostgreSQL too when TEST_DATABASE_URL is set)
test: install-test
	$(BIN)/pytest -q

lint: install-test
	$(BIN)/ruff check portal tests migrations benchmarks
	$(BIN)/ruff format --check portal tests

format: install-test
	$(BIN)/ruff format portal tests
	$(BIN)/ruff check --fix portal tests

bench: install-test
	$(BIN)/python -m benchmarks

## assets: rebuild portal/static/govuk/ from the pinned govuk-frontend (needs Node)
assets:
	bash assets/build.sh

clean:
	rm -rf $(VENV) instance .pytest_cache
