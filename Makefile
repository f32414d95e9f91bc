# Two entry points: `make run` (the app on SQLite with a demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test setup-db chromium postgres redis translations bench clean

# The app and its queue worker (Huey on an SQLite file under instance/); Ctrl-C stops both.
# --max-delay 1: an idle worker polls the SQLite queue at least every second (Huey's default
# backs off to 10 s), so a new response reaches the dashboard's moment cells within seconds.
run: $(VENV)/.runtime translations setup-db
	@$(BIN)/python -m huey.bin.huey_consumer surveyapp.tasks.huey --workers 2 --worker-type thread \
	  --max-delay 1 --logfile instance/worker.log & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

# Migrations, instruments and the demo survey (the demo only when missing).
setup-db: $(VENV)/.runtime
	$(FLASK) db upgrade
	$(FLASK) instruments load
	$(FLASK) demo

# The PostgreSQL tests run against the local server `postgres` starts; without
# TEST_POSTGRES_URL they are skipped with the reason.
TEST_POSTGRES_URL ?= postgresql+psycopg://surveyapp:surveyapp@127.0.0.1:5432/surveyapp_test
test: $(VENV)/.tests chromium postgres redis translations
	TEST_POSTGRES_URL=$(TEST_POSTGRES_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

# Every benchmark at full size (many minutes): prints a table, writes bench/results.json.
# It starts PostgreSQL as `postgres` does (or records why not). BENCH_ARGS=--quick for a smoke run.
bench: $(VENV)/.tests translations
	$(BIN)/python -m bench $(BENCH_ARGS)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.tests: requirements.txt requirements-test.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.runtime

# The zh catalogue is kept as .po in git; the .mo Flask-Babel reads is built from it.
translations: $(VENV)/.runtime
	$(BIN)/pybabel compile -d surveyapp/translations

# Browser tests drive Debian's Chromium (Playwright's own browser download is not used).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-noto-cjk; \
	fi

# Debian's redis-server: the queue and cache tests start their own instance on a free loopback port.
redis:
	@if ! command -v redis-server >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q redis-server; \
	fi

# Debian's PostgreSQL, a role and a database for the tests (idempotent).
postgres:
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	if ! command -v pg_ctlcluster >/dev/null || [ -z "$$(ls /etc/postgresql 2>/dev/null)" ]; then \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q postgresql; \
	fi; \
	version=$$(ls /etc/postgresql | sort -n | tail -1); \
	$$SUDO pg_ctlcluster $$version main start 2>/dev/null || true; \
	for i in 1 2 3 4 5 6 7 8 9 10; do $$SUDO runuser -u postgres -- pg_isready -q && break; sleep 1; done; \
	$$SUDO runuser -u postgres -- psql -q -tc "SELECT 1 FROM pg_roles WHERE rolname='surveyapp'" | grep -q 1 || \
	  $$SUDO runuser -u postgres -- psql -q -c "CREATE ROLE surveyapp LOGIN PASSWORD 'surveyapp' CREATEDB"; \
	$$SUDO runuser -u postgres -- psql -q -tc "SELECT 1 FROM pg_database WHERE datname='surveyapp_test'" | grep -q 1 || \
	  $$SUDO runuser -u postgres -- psql -q -c "CREATE DATABASE surveyapp_test OWNER surveyapp"

clean:
	rm -rf $(VENV) instance/*.sqlite*
