# The two commands in the README: `make demo` and `make test`. Both set up whatever is missing first.
PY := .venv/bin/python
MANAGE := $(PY) manage.py
DEMO_ASSETS ?= 30000
DEMO_SEED ?= 1
PORT ?= 8000

.PHONY: setup demo test bench lint serve demo-data

setup:
	@bash scripts/bootstrap.sh
	@$(MANAGE) migrate --noinput -v 0
	@$(MANAGE) load_reference_data

demo-data: setup
	@$(MANAGE) generate_region --region nakagawa --assets $(DEMO_ASSETS) --seed $(DEMO_SEED)
	@$(MANAGE) ensure_demo_users

demo: demo-data
	@$(MANAGE) collectstatic --noinput -v 0
	@echo "Serving on http://localhost:$(PORT)/  (admin: http://localhost:$(PORT)/admin/)"
	@$(MANAGE) runserver 0.0.0.0:$(PORT)

test: setup
	@$(PY) -m ruff check .
	@$(PY) -m pytest

bench: setup
	@$(PY) -m benchmarks.run

lint:
	@$(PY) -m ruff check .
