# The two commands of the README. Each creates .venv and installs what it needs on first use.
VENV ?= .venv
OUT ?= runs/demo
SEED ?= 0

.PHONY: demo test lint bench docs docs-outputs clean

demo:
	@./scripts/bootstrap.sh
	$(VENV)/bin/graphnas demo --out $(OUT) --seed $(SEED)

test:
	@./scripts/bootstrap.sh
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadfile

lint:
	@./scripts/bootstrap.sh
	$(VENV)/bin/ruff check graphnas tests bench
	$(VENV)/bin/mypy graphnas

docs:
	@./scripts/bootstrap.sh
	$(VENV)/bin/mkdocs build --strict

# Regenerate every output the docs quote: the main job's printed output in docs/cli.md, its pictures and
# the other pictures in docs/img, and docs/quickstart.ipynb executed with its outputs and pictures (docs/img/notebook)
# (runs `graphnas demo --out runs/demo --seed 0` once, in a temporary folder).
docs-outputs:
	@./scripts/bootstrap.sh
	$(VENV)/bin/python scripts/regen_docs.py

clean:
	rm -rf $(VENV) site runs .pytest_cache .hypothesis
