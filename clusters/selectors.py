"""Reads of engine runs and their results, scoped to the regions the principal may see."""

from django.db.models import QuerySet

from assets import access
from clusters.models import ACTIONS, Cluster, EngineRun

__all__ = ["cluster_list", "run_compare", "run_get", "run_latest_done", "run_list"]


def run_list(*, principal, region: str | None = None) -> QuerySet:
    qs = EngineRun.objects.filter(region__in=access.regions_visible(principal)).select_related("region")
    return qs.filter(region__slug=region) if region else qs


def run_latest_done(runs: QuerySet) -> EngineRun | None:
    """The most recently finished of these runs: what maps and plans use unless told otherwise."""
    return runs.filter(status=EngineRun.Status.DONE).order_by("-finished_at").first()


def run_get(*, principal, pk: int) -> EngineRun:
    """The run as it stands: one that says 'running' but whose process died reads as failed (core.jobs)."""
    return run_list(principal=principal).get(pk=pk).checked()


def cluster_list(*, run: EngineRun, work_type: str | None = None, cross_municipal: bool | None = None,
                 municipality: str | None = None) -> QuerySet:
    qs = Cluster.objects.filter(run=run).order_by("rank")
    if work_type:
        qs = qs.filter(work_type=work_type)
    if cross_municipal is not None:
        qs = qs.filter(municipality_count__gt=1) if cross_municipal else qs.filter(municipality_count=1)
    if municipality:
        qs = qs.filter(cost_shares__has_key=municipality)
    return qs


def run_compare(*, a: EngineRun, b: EngineRun, top: int = 20) -> dict:
    """What moved between two runs and why: parameter changes, totals, actions that changed, biggest risk moves."""
    from django.db import connection

    params = {k: {"a": a.params.get(k), "b": b.params.get(k)} for k in sorted(set(a.params) | set(b.params))
              if a.params.get(k) != b.params.get(k)}
    totals = {k: {"a": a.summary.get(k), "b": b.summary.get(k)}
              for k in ("assets", "acting", "clusters", "cross_municipal_clusters", "cost_total", "risk_removed")}
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT x.action, y.action, count(*) FROM clusters_assetscore x
            JOIN clusters_assetscore y ON y.asset_id = x.asset_id AND y.run_id = %(b)s
            WHERE x.run_id = %(a)s AND x.action <> y.action GROUP BY 1, 2 ORDER BY 3 DESC
            """, {"a": a.pk, "b": b.pk})
        changed = [{"from": ACTIONS[f], "to": ACTIONS[t], "assets": n} for f, t, n in cur.fetchall()]
        cur.execute(
            """
            SELECT a.global_id, x.risk, y.risk, x.lof, y.lof, x.cof, y.cof, x.action, y.action
            FROM clusters_assetscore x
            JOIN clusters_assetscore y ON y.asset_id = x.asset_id AND y.run_id = %(b)s
            JOIN assets_asset a ON a.id = x.asset_id
            WHERE x.run_id = %(a)s AND abs(y.risk - x.risk) > 1e-9
            ORDER BY abs(y.risk - x.risk) DESC LIMIT %(top)s
            """, {"a": a.pk, "b": b.pk, "top": top})
        movers = [{"asset": g, "risk": {"a": ra, "b": rb}, "lof": {"a": la, "b": lb}, "cof": {"a": ca, "b": cb},
                   "action": {"a": ACTIONS[aa], "b": ACTIONS[ab]}}
                  for g, ra, rb, la, lb, ca, cb, aa, ab in cur.fetchall()]
        # Lots are matched across runs by the assets they share (keys and ranks change from run to run): each of
        # b's top lots against a's lot holding most of its members.
        cur.execute(
            """
            SELECT DISTINCT ON (y.cluster_id) cy.rank, cx.rank, cy.work_type, count(*) AS n
            FROM clusters_assetscore y
            JOIN clusters_cluster cy ON cy.id = y.cluster_id
            JOIN clusters_assetscore x ON x.asset_id = y.asset_id AND x.run_id = %(a)s AND x.cluster_id IS NOT NULL
            JOIN clusters_cluster cx ON cx.id = x.cluster_id
            WHERE y.cluster_id IN (SELECT id FROM clusters_cluster WHERE run_id = %(b)s AND rank <= %(top)s)
            GROUP BY y.cluster_id, cy.rank, cx.rank, cy.work_type ORDER BY y.cluster_id, n DESC, cx.rank
            """, {"a": a.pk, "b": b.pk, "top": top})
        matched = {rb: (ra, wt) for rb, ra, wt, _n in cur.fetchall()}
    tops = Cluster.objects.filter(run=b, rank__lte=top).order_by("rank").values_list("rank", "work_type")
    ranks = [{"work_type": wt, "a": matched.get(rb, (None,))[0], "b": rb} for rb, wt in tops]
    return {"a": a.pk, "b": b.pk, "params": params, "totals": totals, "actions_changed": changed,
            "top_risk_moves": movers[:top], "rank_changes": [r for r in ranks if r["a"] != r["b"]]}
