# Two entry points: `make run` (the app on SQLite with a demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test setup-db chromium bench clean

run: $(VENV)/.runtime setup-db
	$(FLASK) run --host $(HOST) --port $(PORT)

# Migrations, instruments and the demo survey (the demo only when missing).
setup-db: $(VENV)/.runtime
	$(FLASK) db upgrade
	$(FLASK) instruments load
	$(FLASK) demo

test: $(VENV)/.tests chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.tests
	$(BIN)/python -m bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.tests: requirements.txt requirements-test.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.runtime

# Browser tests drive Debian's Chromium (Playwright's own browser download is not used).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium fonts-noto-cjk; \
	fi

clean:
	rm -rf $(VENV) instance/*.sqlite*
