"""Background work past one machine (issue 17): django-q2 on Redis when REDIS_URL is set, and a worker killed
mid-task (kill -9) leaves its job failed, never 'running' for ever (core.jobs, core.liveness).

Runs a real redis-server (installed by scripts/bootstrap.sh) on a free port in a temporary directory, and a real
`manage.py qcluster` against the test database."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connections
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.status import Stat

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """One redis-server for the module's tests (nothing they do depends on what another left in it)."""
    tmp_path = tmp_path_factory.mktemp("redis")
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/bootstrap.sh installs it)")
    import redis

    port = _free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
                             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if redis.Redis.from_url(url).ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _env(**extra) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "Q_SYNC", "ENGINE_SYNC", "DB_POOL"}}
    return {**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **extra}


def _django(code: str, env: dict) -> str:
    r = subprocess.run([sys.executable, "-c", "import django, json; django.setup(); " + code], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()[-1]


def test_redis_url_makes_redis_the_broker(redis_url):
    out = _django("from django.conf import settings; from django_q.brokers import get_broker; b = get_broker(); "
                  "print(json.dumps([settings.Q_CLUSTER.get('redis'), 'orm' in settings.Q_CLUSTER, type(b).__name__, "
                  "bool(b.ping())]))", _env(REDIS_URL=redis_url))
    assert json.loads(out) == [redis_url, False, "Redis", True]
    out = _django("from django.conf import settings; print(json.dumps(settings.Q_CLUSTER.get('orm')))", _env())
    assert json.loads(out) == "default"  # without REDIS_URL: the ORM broker, as before


def _wait(what, check, timeout=90.0, every=0.3):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


class _ClusterStats:
    """The part of django-q2's Redis broker that Stat.get_all reads (the cluster's status, as it saves it), on the
    test's redis-server: read here, not in a Django process of its own started for each look (seconds each)."""

    get_stats = RedisBroker.get_stats

    def __init__(self, url: str):
        import redis

        self.connection = redis.Redis.from_url(url)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_task_leaves_its_job_failed_not_running(world, redis_url, tmp_path):
    """kill -9 of the django-q2 worker running an engine run: the run's advisory lock goes with the worker's
    connection, and the next read of the run marks it failed with the 'process stopped' message (core.jobs)."""
    from clusters.models import EngineRun
    from clusters.services import run_create

    run = run_create(principal=None, region=world.region)
    db = connections["default"].settings_dict["NAME"]
    env = _env(DATABASE_URL=f"postgresql:///{db}", REDIS_URL=redis_url, Q_WORKERS="1", LOG_FORMAT="text")

    def worker_pids() -> list[int]:
        return [w for s in Stat.get_all(broker=_ClusterStats(redis_url)) for w in s.workers]

    # Holding the registry's table keeps the run's first read waiting, so the worker is surely mid-task when killed.
    holder = psycopg.connect(f"dbname={db}")
    holder.execute("LOCK TABLE assets_asset IN ACCESS EXCLUSIVE MODE")
    log = (tmp_path / "qcluster.log").open("w")
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _django(f"from django_q.tasks import async_task; print(async_task('{EngineRun.task}', {run.pk}))", env)
        _wait("the run to start", lambda: EngineRun.objects.get(pk=run.pk).status == "running")
        workers = _wait("the cluster's worker pids", worker_pids)
        assert len(workers) == 1
        os.kill(workers[0], signal.SIGKILL)
        holder.rollback()  # the killed worker's server process now finds its client gone and ends
        assert EngineRun.objects.get(pk=run.pk).status == "running"  # as stored: nobody has looked yet
        _wait("the dead run to be marked failed",
              lambda: EngineRun.objects.filter(pk=run.pk).reaped().get().status == "failed")
        dead = EngineRun.objects.get(pk=run.pk)
        assert dead.message == str(EngineRun.dead_message) and dead.finished_at is not None
        # The cluster carries on with a new worker (django-q2's sentinel replaces a dead one).
        _wait("a replacement worker", lambda: worker_pids() not in ([], workers), timeout=60)
    finally:
        holder.close()
        if cluster.poll() is None:
            # The cluster stops its own processes (in a couple of seconds); a SIGTERM to each of them at once left
            # it waiting out the whole timeout.
            os.kill(cluster.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                cluster.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(cluster.pid, signal.SIGKILL)  # whatever it left behind
        cluster.wait(timeout=10)
        log.close()
