"""GET /healthz for load balancers and monitoring: no sign-in, JSON, 200 when every check passes, 503 otherwise.

- database: a query answers;
- migrations: none of this code's migrations is missing from the database (a deploy that forgot `migrate`);
- queue: the background jobs' broker answers, and no job has waited longer than HEALTH_QUEUE_MAX_AGE_S for a
  worker (no qcluster running, or too few)."""

import time

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# Once all migrations are applied they stay applied for this process' code: checked again only until then.
_migrated = False


def _database() -> dict:
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _migrations() -> dict:
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            return {"ok": False, "pending": [f"{m.app_label}.{m.name}" for m, _ in plan][:20]}
        _migrated = True
    return {"ok": True, "pending": []}


def _queue() -> dict:
    from django_q.brokers import get_broker

    from clusters.models import EngineRun
    from reports.models import Plan

    limit = settings.HEALTH_QUEUE_MAX_AGE_S
    now = timezone.now()
    oldest = [m.objects.filter(status="queued").order_by("created_at").values_list("created_at", flat=True).first()
              for m in (EngineRun, Plan)]
    oldest = [t for t in oldest if t is not None]
    age = round((now - min(oldest)).total_seconds()) if oldest else 0
    out = {"broker": "redis" if settings.Q_CLUSTER.get("redis") else "orm", "oldest_queued_job_s": age,
           "max_age_s": limit}
    broker = get_broker()
    if not broker.ping():
        return {**out, "ok": False, "error": "broker does not answer"}
    out["pending_tasks"] = broker.queue_size()
    return {**out, "ok": age <= limit}


@never_cache
@require_GET
def healthz(request):
    checks = {}
    for name, check in (("database", _database), ("migrations", _migrations), ("queue", _queue)):
        try:
            checks[name] = check()
        except Exception as exc:  # a health check answers, whatever failed (DatabaseError, Redis down, ...)
            checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503)
