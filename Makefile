# The portal's everyday commands. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := FLASK_APP=wsgi.py PORTAL_DEVELOPMENT=1 $(BIN)/flask

.PHONY: install run worker test test-fast lint format bench assets clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

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
test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check portal tests migrations benchmarks
	$(BIN)/ruff format --check portal tests

format: install
	$(BIN)/ruff format portal tests
	$(BIN)/ruff check --fix portal tests

bench: install
	$(BIN)/python -m benchmarks

## assets: rebuild portal/static/govuk/ from the pinned govuk-frontend (needs Node)
assets:
	bash assets/build.sh

clean:
	rm -rf $(VENV) instance .pytest_cache
