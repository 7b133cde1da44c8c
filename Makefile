# The one task runner. `make demo` runs the app on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432
# Tests migrate as the owner role and then run as the app role (see tests/conftest.py).
TEST_DATABASE_URL ?= postgres://spm_owner@$(PG_HOST):$(PG_PORT)/spm
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

.PHONY: install demo serve test test-postgres test-sqlite e2e lint bench migrations-check \
        worker beat system-deps services db-roles lock clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo --tenant acme --seed 1
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

serve: install
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

system-deps:
	bash scripts/ensure_system_deps.sh

services:
	bash scripts/ensure_services.sh

db-roles: services
	psql -h $(PG_HOST) -p $(PG_PORT) -U postgres -v ON_ERROR_STOP=1 -q -f scripts/pg_roles.sql

test: install system-deps db-roles lint migrations-check test-postgres test-sqlite

test-postgres: install
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	  $(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

test-sqlite: install
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest -p no:cacheprovider -m smoke $(PYTEST_ARGS)

e2e: install system-deps
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -p no:cacheprovider -m e2e $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	DEBUG=1 $(PY) -m mypy

migrations-check: install
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

bench: install
	DEBUG=1 $(PY) -m bench

worker: install
	$(VENV)/bin/celery -A spm worker -l info

beat: install
	$(VENV)/bin/celery -A spm beat -l info

lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
