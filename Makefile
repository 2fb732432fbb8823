# netpolui — `make run` serves the dashboard on the embedded default, `make test` runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := frontend/static/vendor/.built
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS ?= redis://127.0.0.1:6379

.PHONY: run test lint bench venv assets browser kubectl graphviz migrate demo services clean check-migrations test-fast screenshots

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

assets: $(ASSETS)

$(ASSETS): frontend/package.json frontend/package-lock.json frontend/build.mjs
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	cd frontend && node build.mjs
	touch $(ASSETS)

# Browser tests drive Debian's Chromium; never a browser download.
browser:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || \
	  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; }

# `kubectl kustomize` renders deploy/ in the tests; Debian's kubernetes-client if none is here.
kubectl:
	@command -v kubectl >/dev/null || { \
	  echo "installing Debian's kubernetes-client (kubectl) for the deploy tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q kubernetes-client >/dev/null || \
	  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q kubernetes-client >/dev/null; }; }

# Graphviz's `dot` draws `netpolui analyze -o svg|png|html` and the graph's downloads.
graphviz:
	@command -v dot >/dev/null || { \
	  echo "installing Debian's graphviz for svg and png output"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q graphviz >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q graphviz >/dev/null 2>&1; } || \
	  echo "graphviz could not be installed (apt-get install graphviz as root): svg and png output are unavailable"; }

run: venv assets graphviz
	NETPOLUI_ENV=development $(BIN)/python manage.py migrate --noinput
	NETPOLUI_ENV=development $(BIN)/python manage.py load_demo
	NETPOLUI_ENV=development $(BIN)/python manage.py ensure_admin
	NETPOLUI_ENV=development $(BIN)/python manage.py serve 127.0.0.1:8000

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	NETPOLUI_ENV=development $(BIN)/python manage.py makemigrations --check --dry-run

check-migrations: lint

# The whole suite: lint, unit, integration (PostgreSQL, Redis, a real Celery worker),
# browser tests in headless Chromium. Set DATABASE_URL to test on another database.
test: venv assets browser kubectl graphviz lint
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(REDIS)/14} \
	  NETPOLUI_ENV=test $(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test-fast: venv kubectl graphviz
	NETPOLUI_ENV=test $(BIN)/pytest -m "not integration and not e2e" $(PYTEST_ARGS)

# Engine, CLI, sync and API figures against the targets of docs/architecture.md (PostgreSQL and Redis as in
# production; the API part falls back to SQLite without DATABASE_URL).
# `make bench BENCH_ARGS=--size=large` adds the 5,000-workload cluster.
bench: venv
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} REDIS_URL=$${REDIS_URL:-$(REDIS)/13} $(BIN)/python -m bench $(BENCH_ARGS)

# The README's screenshots (docs/screenshots/*.png), taken in headless Chromium on the demo.
screenshots: venv assets browser
	NETPOLUI_SCREENSHOTS=docs/screenshots NETPOLUI_ENV=test $(BIN)/pytest tests/e2e/test_screenshots.py -q $(PYTEST_ARGS)

services:
	.ci/services

clean:
	rm -rf $(VENV) frontend/node_modules frontend/static/vendor var
