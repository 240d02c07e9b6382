"""The web server's database connections compile no query with PostgreSQL's JIT (issue 17: a 10,000-feature page
or a tile passes jit_above_cost, and compiling took ~150 ms, longer than the query): config/gunicorn.py sets
DB_JIT=0 before the app loads; commands and the engine keep the server's default."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW = ("import django, json; django.setup(); from django.db import connection; c = connection.cursor(); "
        "c.execute('SHOW jit'); print(json.dumps(c.fetchone()[0]))")


def _jit(prelude: str = "") -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"DB_JIT", "DB_POOL"}}
    r = subprocess.run([sys.executable, "-c", prelude + SHOW], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_gunicorn_turns_jit_off_for_its_pooled_connections(db):
    from django.db import connection

    assert _jit("import runpy; runpy.run_path('config/gunicorn.py'); ") == "off"
    with connection.cursor() as c:
        c.execute("SHOW jit")
        server = c.fetchone()[0]
    assert _jit() == server  # commands and the background worker: as the server is configured
