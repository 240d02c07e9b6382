"""Read-only traffic to a PostgreSQL read replica, when DATABASE_REPLICA_URL configures one ('replica').

Only what cannot be stale in a harmful way goes there: reads of registry data during GET/HEAD requests to the
paths in settings.REPLICA_PATHS (asset lists, map layers, OGC items, tiles), outside any transaction. Writes,
anything in a transaction, other requests, commands and background jobs use default; so do sessions, users,
API tokens and memberships (who may see what is never read from a copy that may lag behind)."""

import contextvars

from django.conf import settings
from django.db import connections

_eligible: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_eligible", default=False)

REPLICA = "replica"
# Apps whose data a list or map may read from a replica that lags by a moment.
REPLICA_APPS = {"assets", "inspections", "clusters", "reports", "ledger"}
# Access rights and credentials: always from the primary.
PRIMARY_MODELS = {"assets.apitoken", "assets.membership"}


def replica_configured() -> bool:
    """A replica is used only when the settings name one (DATABASE_REPLICA_URL); a connection alias alone (as a
    test may register) does not switch routing on for everything else."""
    return getattr(settings, "REPLICA_ENABLED", False) and REPLICA in connections.settings


class ReplicaMiddleware:
    """Marks GET/HEAD requests to the read-only paths as free to read from the replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        eligible = (request.method in ("GET", "HEAD") and replica_configured()
                    and request.path.startswith(tuple(settings.REPLICA_PATHS)))
        token = _eligible.set(eligible)
        try:
            return self.get_response(request)
        finally:
            _eligible.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not _eligible.get() or connections["default"].in_atomic_block:
            return None
        if model._meta.app_label not in REPLICA_APPS or model._meta.label_lower in PRIMARY_MODELS:
            return None
        return REPLICA

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of default: objects from either relate

    def allow_migrate(self, db, app_label, **hints):
        return db != REPLICA  # replication copies the schema
