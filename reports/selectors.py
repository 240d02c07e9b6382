"""Reads of plans, scoped to the regions the principal may see (and, for a municipality's plan, to those who
may see that municipality)."""

from django.db.models import Q, QuerySet

from assets import access
from reports.models import Plan, PlanPin

__all__ = ["pin_list", "plan_get", "plan_list"]


def plan_list(*, principal, region: str | None = None) -> QuerySet:
    visible = access.municipalities_visible(principal).values("code")
    coordinated = access.regions_coordinated(principal).values("pk")
    qs = Plan.objects.filter(run__region__in=access.regions_visible(principal)).filter(
        Q(municipality__isnull=True) | Q(municipality__in=visible) | Q(run__region__in=coordinated))
    qs = qs.select_related("run__region", "municipality")
    return qs.filter(run__region__slug=region) if region else qs


def plan_get(*, principal, pk: int) -> Plan:
    """The plan as it stands: one that says 'running' but whose process died reads as failed (core.jobs)."""
    return plan_list(principal=principal).get(pk=pk).checked()


def pin_list(*, principal, region: str | None = None, ended: bool = False) -> QuerySet:
    """Coordinators' pins in the regions the principal may see (whoever reads a region's plans reads the pins that
    steer them), newest first; `ended`: also the pins since replaced or taken off (the history)."""
    qs = PlanPin.objects.filter(region__in=access.regions_visible(principal)).select_related(
        "region", "created_by", "ended_by")
    if not ended:
        qs = qs.filter(ended_at__isnull=True)
    return qs.filter(region__slug=region) if region else qs
