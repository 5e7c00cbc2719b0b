# The two commands of the README. Each creates .venv and installs what it needs on first use.
VENV ?= .venv
OUT ?= runs/demo
SEED ?= 0

.PHONY: demo test lint bench docs clean

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

clean:
	rm -rf $(VENV) site runs .pytest_cache .hypothesis
