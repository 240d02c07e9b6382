"""Recording changes. Services call `record_change`; nothing is logged behind their back by signals,
so bulk paths (imports, tasks) log exactly what they did, with who and through what."""

import datetime
import decimal
import uuid
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.gis.geos import GEOSGeometry
from django.db import models
from django.db.models.functions import Cast

from assets.models import ApiToken, ChangeRecord, Via
from assets.models.history import Action
from core.bulk import delete_where_in

__all__ = ["Action", "Actor", "diff", "forget_changes", "record_change", "record_changes", "snapshot"]


@dataclass(frozen=True)
class Actor:
    """Who is acting and through which entry point. `principal` is a User, an ApiToken or None
    for the system itself (management commands run by the operator, which are trusted)."""

    principal: object | None
    via: str
    request_id: uuid.UUID | None = field(default=None)

    @classmethod
    def system(cls, via: str = Via.TASK) -> "Actor":
        return cls(principal=None, via=via)

    @property
    def is_system(self) -> bool:
        return self.principal is None

    @property
    def user(self):
        return self.principal if isinstance(self.principal, get_user_model()) else None

    @property
    def name(self) -> str:
        if self.principal is None:
            return "system"
        if isinstance(self.principal, ApiToken):
            return f"token:{self.principal.name}"
        return self.principal.get_username()


def _jsonable(value):
    if isinstance(value, GEOSGeometry):
        return value.ewkt
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def snapshot(obj: models.Model, prefix: str = "", exclude: tuple[str, ...] = ()) -> dict:
    data = {}
    for f in obj._meta.concrete_fields:
        if f.name in exclude:
            continue
        data[prefix + f.name] = _jsonable(getattr(obj, f.attname))
    return data


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [k for k in after.keys() | before.keys() if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in sorted(keys)}, {k: after.get(k) for k in sorted(keys)}


def record_change(*, actor: Actor, obj: models.Model, action: str, before: dict | None = None,
                  after: dict | None = None, message: str = "") -> ChangeRecord | None:
    if action == Action.UPDATE:
        before, after = diff(before or {}, after or {})
        if not after and not message:
            return None  # nothing changed: no record, as an idempotent re-save should leave no trace
    return ChangeRecord.objects.create(
        user=actor.user,
        actor_name=actor.name,
        via=actor.via,
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        before=before,
        after=after,
        message=message,
        request_id=actor.request_id,
    )


def record_changes(cur, *, actor: Actor, model: type[models.Model], action: str, rows_sql: str,
                   params: dict | None = None, message: str = "") -> int:
    """The set-based variant of `record_change` for bulk writes (ledger imports, the generator): one history
    row per row of `rows_sql`, a SELECT yielding (object_id, object_repr, before, after) with jsonb values,
    written in one INSERT … SELECT on the caller's cursor and transaction. Its named parameters go in
    `params`; the names starting with `_h_` are this helper's. Returns the number of rows written."""
    args = dict(params or {})
    args.update(_h_user=actor.user.pk if actor.user else None, _h_actor=actor.name, _h_via=actor.via,
                _h_action=str(action), _h_ct=ContentType.objects.get_for_model(model, for_concrete_model=True).pk,
                _h_message=message, _h_request=actor.request_id)
    cur.execute(f"""
        INSERT INTO assets_changerecord (time, user_id, actor_name, via, action, content_type_id, object_id,
                                         object_repr, before, after, message, request_id)
        SELECT now(), %(_h_user)s, %(_h_actor)s, %(_h_via)s, %(_h_action)s, %(_h_ct)s, h.object_id::text,
               left(h.object_repr::text, 200), h.before, h.after, %(_h_message)s, %(_h_request)s
        FROM ({rows_sql}) AS h(object_id, object_repr, before, after)
    """, args)
    return cur.rowcount


def forget_changes(objects: models.QuerySet) -> int:
    """Set-based delete of the history of `objects` (a queryset), one statement, for rows purged outright
    (a region's generated data before it is generated again) whose history would otherwise name rows that no
    longer exist. A real record is retired or withdrawn with a history row of its own, never forgotten."""
    ct = ContentType.objects.get_for_model(objects.model, for_concrete_model=True)
    keys = objects.order_by().annotate(_h_key=Cast("pk", models.CharField())).values("_h_key")
    return delete_where_in(ChangeRecord, "pk", ChangeRecord.objects.filter(content_type=ct, object_id__in=keys))
