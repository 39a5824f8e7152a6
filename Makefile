# The doors: make up, make test, make bench, make lint. Each installs what it needs.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
BUILT   := $(VENV)/.compiled
# The mypyc-compiled hot-path modules, read from pyproject.toml [tool.originguard] compiled.
COMPILED := $(addprefix src/originguard/,$(shell sed -n '/^compiled = \[/,/^\]/p' pyproject.toml | grep -o '[a-z0-9_/]*\.py'))
DEBS    := nginx-light wrk redis-server
APT_GET := $(shell command -v sudo >/dev/null 2>&1 && [ "$$(id -u)" != 0 ] && echo sudo) apt-get

.PHONY: up test lint bench build debs clean config-docs

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	ORIGINGUARD_PURE=1 $(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# Compile the hot-path modules with the venv's mypyc (setup.py); redone when one of them changes.
# The extensions land next to their sources (an editable install), where Python prefers them.
$(BUILT): $(STAMP) setup.py $(COMPILED)
	@command -v gcc >/dev/null 2>&1 || { $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq gcc; }
	@$(BIN)/python -c "import sysconfig, pathlib, sys; sys.exit(not pathlib.Path(sysconfig.get_paths()['include'], 'Python.h').exists())" \
	  || { $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq python3-dev; }
	@# Each module set makes a new hash-named shared library: drop the ones no shim loads any more.
	find src -maxdepth 1 -name '*__mypyc.*.so' -delete
	$(BIN)/pip install -q --no-build-isolation --no-deps -e .
	touch $(BUILT)

build: $(BUILT)

# Debian peers for integration tests and benchmarks: installed only when absent.
debs:
	@missing=""; \
	command -v nginx >/dev/null 2>&1 || missing="$$missing nginx-light"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	command -v h2load >/dev/null 2>&1 || missing="$$missing nghttp2-client"; \
	command -v curl >/dev/null 2>&1 || missing="$$missing curl"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	[ -d /usr/share/modsecurity-crs/rules ] || missing="$$missing modsecurity-crs"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq $$missing; \
	fi

up: $(BUILT)
	$(BIN)/originguard up

lint: $(BUILT)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: $(BUILT) debs lint
	$(BIN)/pytest

# docs/config.md's key reference, regenerated from the config models (a unit test fails when stale).
config-docs: $(STAMP)
	$(BIN)/python -m originguard.config.reference --write docs/config.md

bench: $(BUILT) debs
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .originguard build
	find src -name '*.so' -delete
