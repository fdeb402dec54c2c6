# cohort — the two commands of the README's quick start are `make demo` and `make test`.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
DEMO_DB   := instance/demo.db
DEMO_KEYS := instance/demo-keys.toml
DEMO_TOKENS := instance/demo-tokens.tsv
DEMO_SETUP  := instance/.demo-setup.stamp
DEMO_PROGRAMME := config/programmes/erbm-2023.toml
DEMO_ENV  := COHORT_DATABASE_URL=sqlite:///$(CURDIR)/$(DEMO_DB) COHORT_KEYS_FILE=$(CURDIR)/$(DEMO_KEYS) COHORT_SESSION_COOKIE_SECURE=false
PYTEST_ARGS ?=

# Two installs, each with its stamp: the service alone for `make demo`, and the service with
# the test tools (pytest, Playwright, schemathesis, hypothesis, ruff) for `make test`.
RUNTIME_INSTALLED := $(VENV)/.installed-runtime
DEV_INSTALLED     := $(VENV)/.installed-dev

.PHONY: demo demo-port serve test lint install clean-demo

$(BIN)/python:
	@echo "==> Creating the virtual environment $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_INSTALLED): pyproject.toml | $(BIN)/python
	@echo "==> Installing cohort and its dependencies into $(VENV) (the first time may take a minute or two)"
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEV_INSTALLED): pyproject.toml | $(BIN)/python
	@echo "==> Installing cohort with the test tools into $(VENV) (the first time may take a few minutes)"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(RUNTIME_INSTALLED)

install: $(DEV_INSTALLED)

# A busy port would make gunicorn retry "Connection in use" and give up: say so at once.
define PORT_CHECK
import errno, socket, sys
arg = sys.argv[1]
if not arg.isdigit() or not 0 < int(arg) < 65536:
    sys.exit(f"make demo: PORT={arg} is not a port number (1 to 65535)")
port = int(arg)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", port))
except OSError as exc:
    if exc.errno != errno.EADDRINUSE:
        sys.exit(f"make demo: cannot listen on 127.0.0.1:{port} ({exc.strerror})")
    sys.exit(f"make demo: port {port} is already in use on 127.0.0.1 (another program "
             f"listens there).\n  Stop it, or choose another port:  make demo PORT={port + 1}")
finally:
    s.close()
endef
export PORT_CHECK

demo-port:
	@$(PYTHON) -c "$$PORT_CHECK" '$(PORT)'

$(DEMO_KEYS): | $(RUNTIME_INSTALLED)
	@echo "==> Writing demo keys to $(DEMO_KEYS) (demo only)"
	@$(BIN)/cohort keys new --demo $(DEMO_KEYS)

# Schema and programme: redone when a migration, the programme file or the keys change, and
# always when the demo database is missing (not after a reinstall: `make test` reinstalls).
$(DEMO_SETUP): $(DEMO_KEYS) $(wildcard migrations/*.py migrations/versions/*.py) $(DEMO_PROGRAMME) | $(RUNTIME_INSTALLED)
	@echo "==> Migrating the demo database $(DEMO_DB)"
	@$(DEMO_ENV) $(BIN)/cohort db upgrade
	@echo "==> Loading the programme $(DEMO_PROGRAMME)"
	@$(DEMO_ENV) $(BIN)/cohort programme load $(DEMO_PROGRAMME)
	@touch $@
ifeq ($(wildcard $(DEMO_DB)),)
.PHONY: $(DEMO_SETUP)
endif

## Start the service on a demo database with demo data (http://127.0.0.1:$(PORT), PORT=5000 by default).
demo: demo-port $(RUNTIME_INSTALLED) $(DEMO_SETUP)
	@echo "==> Loading the demo data (only into an empty database)"
	@$(DEMO_ENV) $(BIN)/cohort demo load --if-empty
	@echo "==> Demo users and their API tokens"
	@$(DEMO_ENV) $(BIN)/cohort demo users --tokens-file $(DEMO_TOKENS)
	@echo
	@echo "  cohort demo: http://127.0.0.1:$(PORT)/  (French pages; sign in with a demo user above)"
	@echo "  API docs:    http://127.0.0.1:$(PORT)/api/v1/docs   (OpenAPI: /api/v1/openapi.json)"
	@echo "  Sign in:     http://127.0.0.1:$(PORT)/connexion  (demo users above, demo password)"
	@echo "  API tokens:  $(DEMO_TOKENS)  ->  curl -H 'Authorization: Bearer <token>' ..."
	@echo "  Demo keys:   $(DEMO_KEYS) (DEMO ONLY, not tracked by git). Ctrl-C to stop."
	@echo
	@echo "==> Starting the server on http://127.0.0.1:$(PORT)/"
	@$(DEMO_ENV) $(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --access-logfile - 'cohort:create_app()'

## Run the whole test suite on SQLite and PostgreSQL 15.
## Two pytest processes side by side (one per core): everything on SQLite, and the database
## tests on PostgreSQL (its output in build/test-postgresql.log, shown at the end).
test: $(DEV_INSTALLED)
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

lint: $(DEV_INSTALLED)
	$(BIN)/ruff check .

clean-demo:
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_SETUP)
