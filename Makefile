# Two commands do all set-up on a fresh machine:
#   make demo   -> installs everything, then runs `stemrestore demo`
#   make test   -> installs everything (incl. headless chromium for the web test), then runs pytest
# GPU users: make demo TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu124"
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.stemrestore-installed

.PHONY: demo test install browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH_SPEC)
	# tinysoundfont's optional audio-output dependency does not build here; we only render offline.
	$(BIN)/pip install --quiet --no-deps "tinysoundfont>=0.3.6"
	$(BIN)/pip install --quiet -e ".[dev,web]"
	touch $(STAMP)

install: $(STAMP)

browser:
	bash scripts/install_browser.sh

demo: install
	$(BIN)/stemrestore demo

test: install browser
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
