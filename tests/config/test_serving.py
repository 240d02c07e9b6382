"""Serving as a municipality deploys it (issue 17): production settings, pooled connections, /healthz, JSON logs,
the read-replica router, and gunicorn itself."""

import io
import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
_SERVING_ENV = {"DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "HTTPS", "DJANGO_ENV", "GUNMANE_ENV", "ALLOWED_HOSTS",
                "DB_POOL", "DB_POOL_MAX_SIZE", "GUNICORN_THREADS", "WEB_CONCURRENCY", "REDIS_URL",
                "DATABASE_REPLICA_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _env(**extra) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in _SERVING_ENV}
    return {**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **extra}


def _python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(**env), capture_output=True, text=True,
                          timeout=120)


SETUP = "import django; django.setup(); from django.conf import settings; "


# --- production settings ----------------------------------------------------------------------------------------

def test_production_refuses_a_missing_secret_key(tmp_path):
    """A deployment never signs sessions with a key made up on one machine: DJANGO_ENV=production without
    SECRET_KEY stops at start-up, naming the setting."""
    r = _python(SETUP, DJANGO_ENV="production", ALLOWED_HOSTS="gunmane.example.jp",
                SECRET_KEY_FILE=str(tmp_path / "key"))
    assert r.returncode != 0
    assert "ImproperlyConfigured" in r.stderr and "SECRET_KEY must be set in production" in r.stderr
    assert not (tmp_path / "key").exists()  # no local key file was made instead
    # GUNMANE_ENV says the same.
    r = _python(SETUP, GUNMANE_ENV="production", ALLOWED_HOSTS="gunmane.example.jp")
    assert "SECRET_KEY must be set in production" in r.stderr


def test_production_starts_with_its_settings_from_the_environment():
    key = secrets.token_urlsafe(50)
    r = _python(SETUP + f"print(settings.PRODUCTION, settings.SECRET_KEY == {key!r}, settings.ALLOWED_HOSTS, "
                        "settings.CSRF_TRUSTED_ORIGINS, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)",
                DJANGO_ENV="production", SECRET_KEY=key, ALLOWED_HOSTS="gunmane.example.jp, www.example.jp",
                CSRF_TRUSTED_ORIGINS="https://gunmane.example.jp", HTTPS="1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ("True True ['gunmane.example.jp', 'www.example.jp'] ['https://gunmane.example.jp'] "
                                "True True")


def test_production_refuses_missing_allowed_hosts_and_debug():
    key = secrets.token_urlsafe(50)
    r = _python(SETUP, DJANGO_ENV="production", SECRET_KEY=key)
    assert "ALLOWED_HOSTS must be set in production" in r.stderr
    r = _python(SETUP, DJANGO_ENV="production", SECRET_KEY=key, ALLOWED_HOSTS="x.example.jp", DEBUG="1")
    assert "DEBUG must be off in production" in r.stderr
    r = _python(SETUP, DJANGO_ENV="staging")
    assert "DJANGO_ENV must be development or production" in r.stderr


def test_development_keeps_the_local_key_file(tmp_path):
    r = _python(SETUP + "print(settings.PRODUCTION, len(settings.SECRET_KEY) >= 50)",
                SECRET_KEY_FILE=str(tmp_path / "key"))
    assert r.stdout.strip() == "False True", r.stderr
    assert (tmp_path / "key").exists()


# --- connection pool --------------------------------------------------------------------------------------------

POOL_PROBE = (
    "import runpy, json; cfg = runpy.run_path('config/gunicorn.py'); "
    "import django; django.setup(); from django.conf import settings; from django.db import connection; "
    "c = connection.cursor(); c.execute('SHOW max_connections'); mc = int(c.fetchone()[0]); "
    "pool = connection.pool; "
    "print(json.dumps({'workers': cfg['workers'], 'threads': cfg['threads'], 'worker_class': cfg['worker_class'], "
    "'options': settings.DATABASES['default']['OPTIONS'], 'conn_max_age': settings.DATABASES['default']['CONN_MAX_AGE'], "
    "'pool_max': pool.max_size, 'q_workers': settings.Q_CLUSTER['workers'], 'max_connections': mc}))"
)


@pytest.mark.django_db
def test_gunicorn_pools_connections_within_the_servers_max_connections():
    """Loading config/gunicorn.py turns on psycopg's pool (Django's `pool` option), one per worker process, as big
    as the worker's threads; workers × pool + the qcluster's workers + headroom stay under max_connections."""
    db = connections["default"].settings_dict["NAME"]
    r = _python(POOL_PROBE, DATABASE_URL=f"postgresql:///{db}")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["options"]["pool"]["max_size"] == got["threads"] == got["pool_max"]
    assert got["options"]["pool"]["timeout"] > 0 and got["conn_max_age"] == 0  # a pool replaces persistent ones
    assert got["worker_class"] == "gthread" and got["workers"] >= 2
    headroom = 10 + 3  # psql, migrate, monitoring + PostgreSQL's superuser_reserved_connections
    q_cluster = got["q_workers"] + 2  # each django-q2 worker, its monitor and pusher
    assert got["workers"] * got["pool_max"] + q_cluster + headroom <= got["max_connections"]


def test_commands_and_tests_keep_persistent_connections_without_a_pool():
    r = _python(SETUP + "d = settings.DATABASES['default']; print('pool' in d.get('OPTIONS', {}), d['CONN_MAX_AGE'])")
    assert r.stdout.strip() == "False 60", r.stderr


# --- /healthz ---------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_healthz_answers_200_with_its_checks_without_sign_in(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    body = r.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"] == {"ok": True, "pending": []}
    assert body["checks"]["queue"]["broker"] == "orm" and body["checks"]["queue"]["oldest_queued_job_s"] == 0
    assert "no-store" in r["Cache-Control"]


@pytest.mark.django_db
def test_healthz_is_503_when_a_job_waits_too_long(client, world, settings):
    from clusters.models import EngineRun

    run = EngineRun.objects.create(region=world.region, params={})
    EngineRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=2))
    settings.HEALTH_QUEUE_MAX_AGE_S = 600
    r = client.get("/healthz")
    assert r.status_code == 503
    queue = r.json()["checks"]["queue"]
    assert queue["ok"] is False and queue["oldest_queued_job_s"] >= 7200
    assert r.json()["checks"]["database"]["ok"]


@pytest.mark.django_db
def test_healthz_is_503_when_migrations_are_pending_or_the_database_fails(client, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    from config import health

    class Fake:
        app_label, name = "assets", "9999_not_applied"

    monkeypatch.setattr(health, "_migrated", False)
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [(Fake(), False)])
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["checks"]["migrations"] == {"ok": False, "pending": ["assets.9999_not_applied"]}

    def down():
        raise OSError("connection refused")

    monkeypatch.setattr(health, "_database", down)
    body = client.get("/healthz").json()
    assert body["status"] == "fail" and body["checks"]["database"] == {"ok": False,
                                                                       "error": "OSError: connection refused"}


# --- JSON logs --------------------------------------------------------------------------------------------------

def _capture(logger_name: str):
    """A copy of the configured stdout handler (same formatter and filters) writing to a buffer."""
    configured = logging.getLogger(logger_name).handlers or logging.getLogger().handlers
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(configured[0].formatter)
    for f in configured[0].filters:
        handler.addFilter(f)
    return buf, handler


@pytest.mark.django_db
def test_each_request_logs_one_json_line_with_id_user_path_status_and_duration(client, world):
    from config.requestlog import JsonFormatter

    logger = logging.getLogger("gunmane.request")
    assert isinstance(logger.handlers[0].formatter, JsonFormatter) and logger.isEnabledFor(logging.INFO)
    buf, handler = _capture("gunmane.request")
    logger.addHandler(handler)
    try:
        client.force_login(world.alice)
        r = client.get("/api/v1/assets", HTTP_X_REQUEST_ID="req-abc.123")
        anonymous = client.__class__().get("/api/v1/assets")
    finally:
        logger.removeHandler(handler)
    assert r.status_code == 200 and r["X-Request-ID"] == "req-abc.123"
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    mine = next(rec for rec in lines if rec["request_id"] == "req-abc.123")
    assert mine["logger"] == "gunmane.request" and mine["level"] == "INFO"
    assert (mine["method"], mine["path"], mine["status"], mine["user"]) == ("GET", "/api/v1/assets", 200,
                                                                          f"user:{world.alice.pk}")
    assert isinstance(mine["duration_ms"], float) and mine["time"].endswith("+00:00")
    other = next(rec for rec in lines if rec["request_id"] == anonymous["X-Request-ID"])
    assert other["status"] == 401 and other["user"] is None and len(other["request_id"]) == 32  # made here
    # A proxy's id that could forge a log line is replaced.
    assert client.get("/healthz", HTTP_X_REQUEST_ID='x" y').get("X-Request-ID") != 'x" y'


def test_other_log_lines_carry_the_request_id_and_the_traceback():
    from config.requestlog import request_id_var

    buf, handler = _capture("")
    log = logging.getLogger("gunmane.test")
    log.addHandler(handler)
    token = request_id_var.set("rid-1")
    try:
        try:
            raise ValueError("bad value")
        except ValueError:
            log.error("failed: %s", "plan 7", exc_info=True, extra={"plan": 7})
    finally:
        request_id_var.reset(token)
        log.removeHandler(handler)
    rec = json.loads(buf.getvalue().splitlines()[0])
    assert (rec["message"], rec["request_id"], rec["plan"], rec["level"]) == ("failed: plan 7", "rid-1", 7, "ERROR")
    assert "ValueError: bad value" in rec["exc_info"]


# --- read replica -----------------------------------------------------------------------------------------------

# The test's 'replica' is a second connection to the same test database (a replica's data equals the primary's);
# Django's test set-up gives it the test database's name, as it does for any alias of the same database.
if "replica" not in connections.settings:
    connections.settings["replica"] = {**connections.settings["default"], "TEST": {"MIRROR": "default"}}


def _asset_queries(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if '"assets_asset"' in q["sql"]]


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_read_only_gets_read_the_registry_from_the_replica_and_writes_use_default(client, world, settings):
    from tests.conftest import make_pipe

    # As DATABASE_REPLICA_URL would set it, for this test only (the settings fixture restores it).
    settings.REPLICA_ENABLED = True
    pipe = make_pipe(world.yashio)
    client.force_login(world.alice)
    with CaptureQueriesContext(connections["replica"]) as replica, \
            CaptureQueriesContext(connections["default"]) as default:
        r = client.get("/api/v1/assets")
    assert r.status_code == 200 and [a["global_id"] for a in r.json()["items"]] == [pipe.global_id]
    assert _asset_queries(replica) and not _asset_queries(default)
    # Sessions, users and memberships (who may see what) are read from the primary.
    assert not any("django_session" in q["sql"] or "assets_membership" in q["sql"] for q in replica.captured_queries)

    with CaptureQueriesContext(connections["replica"]) as replica, \
            CaptureQueriesContext(connections["default"]) as default:
        r = client.post(f"/api/v1/assets/{pipe.global_id}/retire", {"reason": "test"}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert replica.captured_queries == [] and _asset_queries(default)

    # A page (not a read-only path) reads from default too.
    with CaptureQueriesContext(connections["replica"]) as replica:
        assert client.get(f"/en/assets/{pipe.global_id}/").status_code == 200
    assert replica.captured_queries == []


@pytest.mark.django_db(transaction=True)
def test_the_router_keeps_transactions_and_other_requests_on_default():
    from django.db import transaction

    from assets.models import ApiToken, Asset
    from config import routers

    router = routers.ReplicaRouter()
    token = routers._eligible.set(True)
    try:
        assert router.db_for_read(Asset) == "replica"
        assert router.db_for_read(ApiToken) is None  # credentials from the primary
        with transaction.atomic(using="default"):
            assert router.db_for_read(Asset) is None  # inside a transaction: read what it wrote
    finally:
        routers._eligible.reset(token)
    assert router.db_for_read(Asset) is None
    assert router.db_for_write(Asset) == "default"
    assert router.allow_migrate("replica", "assets") is False and router.allow_migrate("default", "assets")


# --- gunicorn ---------------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db
def test_gunicorn_serves_the_app_with_json_access_logs(tmp_path):
    db = connections["default"].settings_dict["NAME"]
    port = _free_port()
    out = tmp_path / "gunicorn.log"
    with out.open("w") as log:
        proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"], cwd=ROOT,
                                env=_env(DATABASE_URL=f"postgresql:///{db}", GUNICORN_BIND=f"127.0.0.1:{port}",
                                         WEB_CONCURRENCY="1", GUNICORN_THREADS="2"),
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as resp:
                    status, body, rid = resp.status, json.loads(resp.read()), resp.headers["X-Request-ID"]
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert status == 200 and body["status"] == "ok"
    lines = [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]
    access = [rec for rec in lines if rec["logger"] == "gunicorn.access" and rec["request_id"] == rid]
    app = [rec for rec in lines if rec["logger"] == "gunmane.request" and rec["request_id"] == rid]
    assert access and access[0]["status"] == 200 and access[0]["path"] == "/healthz"
    assert app and app[0]["status"] == 200


# --- per-request cost -------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_token_records_its_use_at_most_once_a_minute(world, django_assert_num_queries):
    """A ledger system's burst of reads costs no write per request: last_used_at moves once a minute."""
    from assets.models import ApiToken
    from assets.models.access import LAST_USED_RESOLUTION

    token, key = ApiToken.issue(name="t", municipality=world.yashio, source="daicho")
    first = ApiToken.authenticate(key)
    assert first.last_used_at is not None
    with django_assert_num_queries(1):  # the look-up only
        assert ApiToken.authenticate(key).last_used_at == first.last_used_at
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - LAST_USED_RESOLUTION * 2)
    with django_assert_num_queries(2):
        assert ApiToken.authenticate(key).last_used_at > first.last_used_at
