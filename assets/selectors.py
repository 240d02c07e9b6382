"""Reads from the registry, always through the principal's scope."""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from assets import access
from assets.models import Asset, ChangeRecord
from core.queries import narrowed

__all__ = ["asset_get", "asset_history", "asset_list", "municipality_choices"]


def municipality_choices(*, principal, writable: bool = False) -> QuerySet:
    """Municipalities to offer in filters (or forms that write): the visible (writable) ones that pool assets
    in a region. Cheap at any registry size, unlike a DISTINCT over the owners of a million assets."""
    qs = access.municipalities_writable(principal) if writable else access.municipalities_visible(principal)
    return qs.filter(regions__isnull=False).distinct().order_by("code")


def asset_list(*, principal, municipality: str | None = None, kind: str | None = None,
               status: str | None = None, q: str | None = None, bbox=None,
               updated_since: datetime.datetime | None = None) -> QuerySet:
    """`bbox`: a polygon (assets.geometry.parse_bbox) the assets' bounding boxes overlap."""
    qs = narrowed(access.assets_visible(principal).select_related("owner", "operator"), owner_id=municipality,
                  kind=kind, status=status, geom__bboverlaps=bbox, updated_at__gte=updated_since)
    if q:
        qs = qs.filter(global_id__istartswith=q) | qs.filter(name__icontains=q) | qs.filter(external_id=q)
    return qs


def asset_get(*, principal, global_id: str) -> Asset:
    """Raises Asset.DoesNotExist for assets outside the scope, so outsiders cannot tell they exist."""
    return access.assets_visible(principal).select_related("owner", "operator").get(global_id=global_id)


def asset_history(*, principal, asset: Asset) -> QuerySet:
    if not access.assets_visible(principal).filter(pk=asset.pk).exists():
        return ChangeRecord.objects.none()
    return ChangeRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(Asset), object_id=str(asset.pk)
    ).order_by("-time", "-id")
