"""Reads of measures, scoped by assets.access like every other read, and the 措置着手率 / 措置完了率."""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from assets import access
from assets.models import Asset, Municipality
from core.queries import narrowed
from inspections.models import Measure, MeasureKind

__all__ = ["RateRow", "lot_get", "measure_get", "measure_kinds", "measure_list", "measure_rates"]


def measure_list(*, principal, asset: str | None = None, municipality: str | None = None, kind: str | None = None,
                 asset_kind: str | None = None, completed: bool | None = None, cluster: int | None = None) -> QuerySet:
    qs = access.of_visible_assets(principal, Measure.objects.select_related("asset", "kind"))
    return narrowed(qs, asset__global_id=asset, asset__owner_id=municipality, kind__code=kind, asset__kind=asset_kind,
                    completed_on__isnull=None if completed is None else not completed,
                    cluster_id=cluster).order_by("-started_on", "-id")


def measure_get(*, principal, pk: int) -> Measure:
    return measure_list(principal=principal).get(pk=pk)


def lot_get(*, principal, pk: int):
    """The engine lot (Measure.cluster) a measure may be linked to: one of a run of a region the principal may
    see. Reached through the relation: the engine's app sits above this one and is not imported here."""
    lot = Measure._meta.get_field("cluster").related_model
    return lot.objects.filter(run__region__in=access.regions_visible(principal)).get(pk=pk)


def measure_kinds() -> QuerySet:
    return MeasureKind.objects.order_by("order", "code")


# 道路メンテナンス年報: of the assets judged Ⅲ/Ⅳ (here: every grade whose scheme sets a measures deadline — 健全性
# Ⅲ/Ⅳ, 緊急度Ⅰ/Ⅱ, 診断区分Ⅲ, 不適正) in the current inspection cycle, the share whose measure has started (着手)
# and the share whose measure is complete (完了). Interim measures (通行規制, 応急措置) are neither; a completed
# 撤去 is a completed measure, so retired assets stay in the count. The judgement is the cycle's first such
# inspection; a measure counts if it had not been completed before that judgement.
RATES = """
WITH judged AS (
    SELECT DISTINCT ON (i.asset_id) i.asset_id, i.inspected_on AS judged_on
    FROM inspections_inspection i
    JOIN inspections_grade g ON g.id = i.grade_id AND g.action_months IS NOT NULL
    JOIN inspections_gradingscheme s ON s.id = i.scheme_id AND s.record_type = 'inspection'
    WHERE i.asset_id IN ({visible}) AND i.inspected_on <= %(on)s AND i.withdrawn_at IS NULL
      AND i.inspected_on > %(on)s - make_interval(months => coalesce(s.cycle_months, 60))
    ORDER BY i.asset_id, i.inspected_on, i.id
),
per_asset AS (
    SELECT a.owner_id AS owner, a.kind,
           bool_or(k.effect <> 'interim' AND m.started_on <= %(on)s) AS started,
           bool_or(k.effect <> 'interim' AND m.completed_on <= %(on)s) AS completed,
           bool_or(k.effect = 'interim' AND m.started_on <= %(on)s) AS interim
    FROM judged j
    JOIN assets_asset a ON a.id = j.asset_id
    LEFT JOIN inspections_measure m ON m.asset_id = j.asset_id
         AND (m.completed_on IS NULL OR m.completed_on >= j.judged_on)
    LEFT JOIN inspections_measurekind k ON k.id = m.kind_id
    WHERE a.owner_id = ANY(%(codes)s)
    GROUP BY j.asset_id, a.owner_id, a.kind
)
SELECT owner, kind, grouping(owner) AS all_owners, grouping(kind) AS all_kinds, count(*) AS judged,
       count(*) FILTER (WHERE started) AS started, count(*) FILTER (WHERE completed) AS completed,
       count(*) FILTER (WHERE interim AND NOT coalesce(started, false)) AS interim_only
FROM per_asset
GROUP BY GROUPING SETS ((owner, kind), (owner), (kind), ())
ORDER BY grouping(owner) DESC, owner NULLS FIRST, grouping(kind) DESC, kind NULLS FIRST
"""


@dataclass
class RateRow:
    municipality: str | None  # None = every municipality asked for
    municipality_name: str
    kind: str | None  # None = every kind
    kind_label: str
    judged: int
    started: int
    completed: int
    interim_only: int  # only 通行規制 / 応急措置 so far

    @property
    def started_rate(self) -> float | None:
        return self.started / self.judged if self.judged else None

    @property
    def completed_rate(self) -> float | None:
        return self.completed / self.judged if self.judged else None


def measure_rates(*, principal, codes: list[str] | None = None, on: datetime.date | None = None,
                  total_label: str = "", system: bool = False) -> list[RateRow]:
    """措置着手率 and 措置完了率 per municipality × asset kind, per municipality, per kind and in total, in one
    set-based query over what the principal may see. `codes` narrows to municipalities (a region's members)."""
    if system:  # the plan PDF, built by a task for the region it was asked for
        codes, visible = sorted(codes or []), Asset.objects.all()
    else:
        visible_codes = set(access.municipalities_visible(principal).values_list("code", flat=True))
        codes = sorted(visible_codes if codes is None else set(codes) & visible_codes)
        visible = access.assets_visible(principal)
    if not codes:
        return []
    visible_sql, visible_params = visible.values("id").query.sql_with_params()
    sql = RATES.format(visible=visible_sql)
    # Named and positional parameters cannot mix in one psycopg statement: the scope's go in by position.
    sql = sql.replace("%(on)s", "%s").replace("%(codes)s", "%s")
    on = on or timezone.localdate()
    params = [*visible_params, on, on, on, on, on, codes]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    names = dict(Municipality.objects.filter(code__in=codes).values_list("code", "name"))
    labels = {k: str(v) for k, v in Asset._meta.get_field("kind").flatchoices}
    return [RateRow(None if all_owners else owner, total_label if all_owners else names.get(owner, owner),
                    None if all_kinds else kind, total_label if all_kinds else labels.get(kind, kind),
                    judged, started, completed, interim)
            for owner, kind, all_owners, all_kinds, judged, started, completed, interim in rows]
