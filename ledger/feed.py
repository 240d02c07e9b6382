"""The change feed: every asset created, changed or retired since a cursor, in commit-safe order.

Ordering by id alone can skip a change: a transaction that took id 10 may commit after one that took id 11
was already served. So each change carries its transaction id (set by the database), the feed orders by
(txid, id), and it serves only changes of transactions older than the oldest one still running: those are
final, and anything committed later sorts after the cursor."""

import json

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from assets import access
from assets.models import Asset

MAX_LIMIT = 1000

FEED_SQL = """
SELECT c.txid, c.id, c.time, c.action, c.via, c.actor_name, a.global_id, a.kind, a.owner_id, a.source,
       a.external_id, a.version, a.status, c.after
FROM assets_changerecord c
JOIN assets_asset a ON a.id = c.object_id::bigint
WHERE c.content_type_id = %(ct)s
  -- (txid, id) > cursor, spelled so the planner can estimate it from txid's statistics and walk the index
  AND c.txid >= %(txid)s AND (c.txid > %(txid)s OR c.id > %(id)s)
  AND c.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
  {scope}
ORDER BY c.txid, c.id
LIMIT %(limit)s
"""


def parse_cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return 0, 0
    try:
        txid, _sep, pk = cursor.partition(".")
        txid, pk = int(txid), int(pk)
        if not (0 <= txid < 2**63 and 0 <= pk < 2**63):  # both are bigint in the database
            raise ValueError(cursor)
        return txid, pk
    except ValueError:
        raise ValidationError({"cursor": _("%r is not a cursor from this feed (expected e.g. 1234.5678, or empty "
                                           "to start from the beginning)") % cursor}) from None


def change_feed(*, principal, cursor: str | None = None, limit: int = 500, municipality: str | None = None,
                kind: str | None = None) -> dict:
    txid, pk = parse_cursor(cursor)
    limit = max(1, min(int(limit), MAX_LIMIT))
    scope = access.scope_for(principal)
    params = {"ct": ContentType.objects.get_for_model(Asset).pk, "txid": txid, "id": pk, "limit": limit + 1}
    where = []
    if not scope.is_admin:
        where.append("(a.owner_id = ANY(%(read)s) OR a.operator_id = ANY(%(read)s))")
        params["read"] = list(scope.read)
    if municipality:
        where.append("a.owner_id = %(muni)s")
        params["muni"] = municipality
    if kind:
        where.append("a.kind = %(kind)s")
        params["kind"] = kind
    sql = FEED_SQL.format(scope="".join(f" AND {w}" for w in where))
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    changes = [{"cursor": f"{t}.{i}", "time": time.isoformat(), "action": action, "via": via, "actor": actor,
                "asset": gid, "kind": k, "owner": owner, "source": source, "external_id": ext,
                "current_version": version, "status": status,
                "values": json.loads(after) if isinstance(after, str) else after}
               for t, i, time, action, via, actor, gid, k, owner, source, ext, version, status, after in rows]
    next_cursor = changes[-1]["cursor"] if changes else (cursor or "0.0")
    return {"changes": changes, "next_cursor": next_cursor, "has_more": more}
