"""Reads of inspections and conditions, scoped by assets.access like every other read."""

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from assets import access
from inspections.models import AssetCondition, Inspection, InspectionPhoto

__all__ = ["inspection_get", "inspection_list", "overdue_list", "photo_get"]


def inspection_list(*, principal, asset: str | None = None, municipality: str | None = None,
                    date_from: datetime.date | None = None, date_to: datetime.date | None = None,
                    grade: str | None = None, scheme: str | None = None, kind: str | None = None) -> QuerySet:
    qs = Inspection.objects.filter(asset__in=access.assets_visible(principal)).select_related(
        "asset", "scheme", "grade")
    if asset:
        qs = qs.filter(asset__global_id=asset)
    if municipality:
        qs = qs.filter(asset__owner_id=municipality)
    if kind:
        qs = qs.filter(asset__kind=kind)
    if date_from:
        qs = qs.filter(inspected_on__gte=date_from)
    if date_to:
        qs = qs.filter(inspected_on__lte=date_to)
    if scheme:
        qs = qs.filter(scheme__code=scheme)
    if grade:
        qs = qs.filter(grade__code=grade)
    return qs.order_by("-inspected_on", "-id")


def inspection_get(*, principal, pk: int) -> Inspection:
    return inspection_list(principal=principal).prefetch_related("photos").get(pk=pk)


def photo_get(*, principal, pk: int) -> InspectionPhoto:
    """A photo is visible exactly when its inspection's asset is."""
    return InspectionPhoto.objects.filter(inspection__asset__in=access.assets_visible(principal)).get(pk=pk)


def overdue_list(*, principal, municipality: str | None = None, kind: str | None = None,
                 on: datetime.date | None = None) -> QuerySet:
    """Assets whose legal inspection or whose measures are past due, most overdue first."""
    from django.db.models import Q
    from django.db.models.functions import Least

    day = on or timezone.localdate()
    qs = AssetCondition.objects.filter(asset__in=access.assets_visible(principal)).filter(
        Q(next_due_on__lt=day) | Q(action_due_on__lt=day)).select_related("asset", "asset__owner", "grade")
    if municipality:
        qs = qs.filter(asset__owner_id=municipality)
    if kind:
        qs = qs.filter(asset__kind=kind)
    return qs.annotate(first_due=Least("next_due_on", "action_due_on")).order_by("first_due", "asset_id")
