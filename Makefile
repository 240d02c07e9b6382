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
	@$(MANAGE) collectstatic --noinput -v 0

demo-data: setup
	@$(MANAGE) generate_region --region nakagawa --assets $(DEMO_ASSETS) --seed $(DEMO_SEED)
	@$(MANAGE) refresh_conditions
	@$(MANAGE) ensure_demo_users
	@$(MANAGE) rank --region nakagawa --top 5
	@$(MANAGE) plan_pdf --region nakagawa --out out/plan-nakagawa.pdf
	@$(MANAGE) plan_pdf --region nakagawa --municipality 112348 --out out/plan-nakagawa-112348.pdf

# Served as a municipality deploys it: gunicorn (config/gunicorn.py: workers from the CPU count, pooled database
# connections, JSON logs on stdout) with the django-q2 worker beside it, which stops with it.
# Without DEBUG (the default): static files come from whitenoise, stored files only through scoped views.
demo: demo-data
	@echo "Serving on http://localhost:$(PORT)/  (admin: http://localhost:$(PORT)/admin/, health: /healthz)"
	@$(MANAGE) qcluster > qcluster.log 2>&1 & qpid=$$!; trap "kill $$qpid 2>/dev/null" EXIT INT TERM; \
		PORT=$(PORT) .venv/bin/gunicorn -c config/gunicorn.py config.wsgi

test: setup
	@$(PY) -m ruff check .
	@.venv/bin/lint-imports --no-cache
	@$(PY) -m pytest

BENCH_DB ?= postgresql:///gunmane_bench
# Assets in the benchmark region (the issue's figure); e.g. `make bench BENCH_ASSETS=200000` for a shorter run.
BENCH_ASSETS ?= 1000000

# Benchmarks run in a database of their own, made anew each time, so the demo data stays as it is and
# every run measures the same thing (a first load into an empty registry).
bench:
	@psql "$(dir $(BENCH_DB))postgres" -qc "DROP DATABASE IF EXISTS $(notdir $(BENCH_DB))" 2>/dev/null || true
	@DATABASE_URL=$(BENCH_DB) bash scripts/bootstrap.sh
	@DATABASE_URL=$(BENCH_DB) $(MANAGE) migrate --noinput -v 0
	@DATABASE_URL=$(BENCH_DB) BENCH_ASSETS=$(BENCH_ASSETS) $(PY) -m benchmarks.run

lint:
	@$(PY) -m ruff check .
	@.venv/bin/lint-imports --no-cache
