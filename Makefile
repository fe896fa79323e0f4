# Two commands on a fresh machine:
#   make demo   — set up and run the main job on the bundled households
#   make test   — set up and run every test (lint, types, unit, property, golden, docs)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup lint typecheck unit clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/fanpin check policies/ewenki_2024q2.policy
	$(BIN)/fanpin evaluate --policy ewenki_2024q2 examples/households.jsonl -o out/decisions.jsonl
	$(BIN)/fanpin report --decisions out/decisions.jsonl -o out/audit_report.html
	$(BIN)/fanpin explain --policy ewenki_2024q2 examples/households/01-脱贫户收入略低于基准.json

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard src tests examples benchmarks)
	$(BIN)/ruff format --check $(wildcard src tests examples benchmarks)
	$(BIN)/fanpin fmt --check policies examples/*.policy benchmarks/reference_ruleset.policy

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck unit

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis
