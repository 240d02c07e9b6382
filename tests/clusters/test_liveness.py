"""A run whose process is killed is marked failed as soon as anyone looks, not two hours later: its owner holds
an advisory lock that dies with its connection."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from clusters.models import EngineRun
from clusters.services import run_create, run_execute

ROOT = Path(__file__).resolve().parents[2]


def _env_for_test_database() -> dict:
    s = connection.settings_dict
    auth = f"{s['USER']}:{s['PASSWORD']}@" if s.get("USER") and s.get("PASSWORD") else (
        f"{s['USER']}@" if s.get("USER") else "")
    host = f"{s.get('HOST') or ''}" + (f":{s['PORT']}" if s.get("PORT") else "")
    return {**os.environ, "DATABASE_URL": f"postgresql://{auth}{host}/{s['NAME']}",
            "SECRET_KEY": "kill-test-only-" + "x" * 32}


@pytest.mark.django_db(transaction=True)
def test_a_killed_rank_is_failed_at_once_and_a_new_run_completes():
    call_command("load_reference_data", verbosity=0)
    call_command("generate_region", region="nakagawa", assets=3000, seed=3, verbosity=0)
    proc = subprocess.Popen([sys.executable, "manage.py", "rank", "--region", "nakagawa", "--top", "1"], cwd=ROOT,
                            env=_env_for_test_database(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not EngineRun.objects.filter(status=EngineRun.Status.RUNNING).exists():
            assert proc.poll() is None, f"rank ended before it could be killed: {proc.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    dead = EngineRun.objects.get()
    assert dead.status == EngineRun.Status.RUNNING  # as the killed process left it
    # PostgreSQL ends the killed client's session (and frees its lock) as soon as it sees the socket close.
    deadline = time.monotonic() + 10
    while True:
        fresh = run_create(principal=None, region=dead.region)
        dead.refresh_from_db()
        if dead.status == EngineRun.Status.FAILED or time.monotonic() > deadline:
            break
        fresh.delete()
        time.sleep(0.1)
    assert (dead.status, dead.message) == (EngineRun.Status.FAILED, str(EngineRun.dead_message))
    assert dead.finished_at is not None
    done = run_execute(fresh.pk)
    assert done.status == EngineRun.Status.DONE and done.summary["assets"] == 3000


@pytest.mark.django_db(transaction=True)
def test_a_live_run_is_not_taken_for_dead(world):
    """Another session holding the run's lock (a live worker) keeps it 'running' through lists and new runs."""
    import psycopg

    run = run_create(principal=None, region=world.region)
    EngineRun.objects.filter(pk=run.pk).update(status=EngineRun.Status.RUNNING)
    params = connection.get_connection_params()
    worker = psycopg.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")},
                             autocommit=True)
    try:
        worker.execute("SELECT pg_advisory_lock(%s, %s)", [EngineRun.lock_kind, run.pk])
        c = Client()
        c.force_login(world.carol)
        assert c.get("/api/v1/runs").json()["items"][0]["status"] == "running"
        run_create(principal=None, region=world.region)
        run.refresh_from_db()
        assert run.status == EngineRun.Status.RUNNING
        # Same for a run claimed twice: the second executor finds the lock taken and leaves the run alone.
        assert run_execute(run.pk).status == EngineRun.Status.RUNNING
    finally:
        worker.close()
    # The worker's session ended: the next look finds the run dead.
    assert Client().get("/api/v1/runs").status_code == 401
    c = Client()
    c.force_login(world.carol)
    deadline = time.monotonic() + 10
    while c.get(f"/api/v1/runs/{run.pk}").json()["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert c.get(f"/api/v1/runs/{run.pk}").json()["status"] == "failed"


@pytest.mark.django_db(transaction=True)
def test_a_plan_whose_process_died_is_failed_when_listed(world):
    from reports.models import Plan

    run = EngineRun.objects.create(region=world.region, params={}, status=EngineRun.Status.DONE)
    plan = Plan.objects.create(run=run, status=Plan.Status.RUNNING)  # as a killed worker leaves it
    c = Client()
    c.force_login(world.carol)
    listed = c.get("/api/v1/plans").json()["items"]
    assert [(p["id"], p["status"], p["message"]) for p in listed] == [(plan.pk, "failed", str(Plan.dead_message))]
