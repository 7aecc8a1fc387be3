# Two commands do all set-up:  make run  (demo site on 127.0.0.1:8000)  and  make test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install system-deps lint check pytest e2e messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# ECharts from the npm registry (package-lock.json pins it), copied into the static files:
# never a CDN. The copy is gitignored; `make install` makes it again on a fresh clone.
ECHARTS := site/static/vendor/echarts/echarts.min.js

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(ECHARTS): node_modules/.installed
	mkdir -p $(dir $@)
	cp node_modules/echarts/dist/echarts.min.js $@
	cp node_modules/echarts/LICENSE $(dir $@)LICENSE

install: $(VENV)/.installed $(ECHARTS)

system-deps:
	@bash deploy/system-deps.sh

run: system-deps install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

pytest: install
	$(BIN)/pytest $(PYTEST_ARGS)

test: system-deps install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest --create-db $(PYTEST_ARGS)

e2e: install
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

messages: install
	cd site && ../$(BIN)/python ../manage.py makemessages -l en --ignore '*/migrations/*' && ../$(BIN)/python ../manage.py compilemessages

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var
