# cohort — the two commands of the README's quick start are `make demo` and `make test`.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DB   := instance/demo.db
DEMO_KEYS := instance/demo-keys.toml
DEMO_TOKENS := instance/demo-tokens.tsv
DEMO_ENV  := COHORT_DATABASE_URL=sqlite:///$(CURDIR)/$(DEMO_DB) COHORT_KEYS_FILE=$(CURDIR)/$(DEMO_KEYS) COHORT_SESSION_COOKIE_SECURE=false
PYTEST_ARGS ?=

.PHONY: demo serve test lint install clean-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

$(DEMO_KEYS): | $(VENV)/.installed
	$(BIN)/cohort keys new --demo $(DEMO_KEYS)

## Start the service on a demo database with demo data (http://127.0.0.1:5000).
demo: $(VENV)/.installed $(DEMO_KEYS)
	$(DEMO_ENV) $(BIN)/cohort db upgrade
	$(DEMO_ENV) $(BIN)/cohort programme load config/programmes/erbm-2023.toml
	$(DEMO_ENV) $(BIN)/cohort demo load --if-empty
	$(DEMO_ENV) $(BIN)/cohort demo users --tokens-file $(DEMO_TOKENS)
	@echo
	@echo "  cohort demo: http://127.0.0.1:5000/  (French pages; sign in with a demo user above)"
	@echo "  API docs:    http://127.0.0.1:5000/api/v1/docs   (OpenAPI: /api/v1/openapi.json)"
	@echo "  Sign in:     http://127.0.0.1:5000/connexion  (demo users above, demo password)"
	@echo "  API tokens:  $(DEMO_TOKENS)  ->  curl -H 'Authorization: Bearer <token>' ..."
	@echo "  Demo keys:   $(DEMO_KEYS) (DEMO ONLY, not tracked by git). Ctrl-C to stop."
	@echo
	$(DEMO_ENV) $(BIN)/gunicorn --workers 2 --bind 127.0.0.1:5000 --access-logfile - 'cohort:create_app()'

## Run the whole test suite on SQLite and PostgreSQL 15.
## Two pytest processes side by side (one per core): everything on SQLite, and the database
## tests on PostgreSQL (its output in build/test-postgresql.log, shown at the end).
test: $(VENV)/.installed
	$(BIN)/ruff check .
	@mkdir -p build
	@$(BIN)/python -m pytest -p no:cacheprovider --backend postgresql --database-tests-only \
	    $(PYTEST_ARGS) > build/test-postgresql.log 2>&1 & pg=$$!; \
	$(BIN)/python -m pytest --backend sqlite $(PYTEST_ARGS); lite=$$?; \
	wait $$pg; pgstatus=$$?; \
	echo "---------------- PostgreSQL half (build/test-postgresql.log) ----------------"; \
	if [ $$pgstatus -eq 0 ]; then tail -n 3 build/test-postgresql.log; \
	else cat build/test-postgresql.log; fi; \
	test $$lite -eq 0 && test $$pgstatus -eq 0

lint: $(VENV)/.installed
	$(BIN)/ruff check .

clean-demo:
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
