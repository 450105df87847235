# Quick start: `make preview` (offline preview of dev + its policy check), `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock | cksum | cut -d' ' -f1)

.PHONY: setup preview preview-all test bench clean

setup: $(STAMP)

# Idempotent: reinstalls only when requirements.lock changes.
$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	rm -f $(VENV)/.installed-* && touch $@

preview: setup
	$(BIN)/python -m tools.preview dev --json build/preview-dev.json

preview-all: setup
	for s in dev prod airgap; do $(BIN)/python -m tools.preview $$s --quiet --json build/preview-$$s.json || exit $$?; done

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m benchmarks.preview_scaling

clean:
	rm -rf build .pytest_cache .hypothesis
