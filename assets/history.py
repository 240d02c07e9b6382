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

from assets.models import ApiToken, ChangeRecord, Via
from assets.models.history import Action

__all__ = ["Action", "Actor", "diff", "record_change", "snapshot"]


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
