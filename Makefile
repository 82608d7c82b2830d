# The two commands: `make run` and `make test`. Both set up what is missing and reuse what is there.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
# The browser tests' Chromium: Debian's chromium-headless-shell (the same Chromium release, in the
# headless mode Playwright itself runs by default). It takes half the CPU of /usr/bin/chromium's
# new headless mode for the same pages (a browser test file: 27.9 -> 14.4 CPU-s), which is most
# of the browser tier's time. `CHROMIUM=/usr/bin/chromium make test` runs the suite in the full browser.
CHROMIUM ?= /usr/bin/chromium-headless-shell
export CHROMIUM
export FLASK_APP := wsgi

.PHONY: run test test-fast setup deps sysdeps db seed serve clean lint lock

run: deps db seed serve

# Stamp files make a second run skip what is already installed.
# Only what the lock names, at its exact version and hash (pyproject.toml states the direct ones).
# pip installs uv (its lines of the lock, hashes checked), then uv installs the whole lock, hashes
# checked: 5 s instead of pip's 60-90 (pip unpacks and byte-compiles ~6,000 modules one at a time;
# uv links from its cache, and a module is compiled when first imported). pip check still checks.
$(VENV)/.installed: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	awk '/^uv==/ {p=1; print; next} p && /^[^ #]/ {p=0} p && /^ / {print}' requirements.lock > $(VENV)/uv.lock.txt
	$(BIN)/pip install --quiet --require-hashes --no-deps -r $(VENV)/uv.lock.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip check
	touch $@

# Resolve pyproject.toml's dependencies (runtime and the dev extra) again, with hashes.
# Versions move only here; add UPGRADE=--upgrade to take the newest each range allows.
lock: $(VENV)/.installed
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --universal \
	  --quiet $(UPGRADE) -o requirements.lock

static/vendor/.installed: package.json package-lock.json scripts/vendor.sh
	npm ci --no-audit --no-fund --loglevel=error
	sh scripts/vendor.sh
	touch $@

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(notdir $(CHROMIUM)) fonts-liberation

# WeasyPrint (the plan as PDF) draws text with Pango; install Debian's libraries only when missing.
PANGO_LIB := /usr/lib/x86_64-linux-gnu/libpangoft2-1.0.so.0
sysdeps:
	@ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || test -e $(PANGO_LIB) || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation)

# `make -j2 deps` installs the Python and the JavaScript packages at once (.ci/run does).
deps: sysdeps $(VENV)/.installed static/vendor/.installed

setup: deps

db: deps
	$(FLASK) db upgrade

seed: db
	$(FLASK) seed-demo

serve:
	FLASK="$(FLASK)" PORT=$(PORT) sh scripts/serve.sh

# The suite runs on PYTEST_WORKERS processes (pytest-xdist; `auto` is one per core, 0 runs in this
# process). PYTEST_ARGS picks tests or adds options, e.g. PYTEST_ARGS="tests/web/test_auth.py -x".
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS)
# The suite keeps its bytecode: pytest caches each test module with its asserts rewritten, and the
# processes tests start (gunicorn, `flask scheduler`) load the app's .pyc, only when Python may write
# them. With PYTHONDONTWRITEBYTECODE set (some shells and CI images set it), every xdist worker
# rewrote every test module again (about 5 CPU-s each) and every subprocess compiled app/ afresh
# (0.4 s each). An empty value switches it off.
test test-fast: export PYTHONDONTWRITEBYTECODE :=

# Every tier: tests/unit, tests/web and the browser tests in tests/e2e.
test: deps $(CHROMIUM)
	$(PYTEST) $(PYTEST_ARGS)

# Without the browser: tests/unit and tests/web.
test-fast: deps
	$(PYTEST) -m "not e2e" $(PYTEST_ARGS)

# ruff (pyflakes, pycodestyle, bugbear; formatting), mypy on app/ (flags in pyproject.toml), and
# bandit: nothing of medium or high severity. CI runs this first (.ci/run). bandit runs beside
# mypy (one core each; mypy without its cache, as in a fresh clone, is 19 CPU-s, bandit 3.5).
lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -r app -ll & bandit=$$!; $(BIN)/mypy; mypy=$$?; wait $$bandit && exit $$mypy

clean:
	rm -rf $(VENV) node_modules static/vendor
