"""Outlooks and budgets from a run's stored clusters: the ORM edge of the planner (thousands of rows, never
the million assets behind them)."""

import datetime

import numpy as np

from clusters.engine.outlook import regrowth
from clusters.models import Cluster, EngineRun
from core.wareki import fiscal_year
from reports.planning.scenarios import Outlooks


def outlooks_for(run: EngineRun, *, municipality: str | None = None, per_municipality: bool = False,
                 first_fy: int | None = None) -> Outlooks:
    """The run's clusters (those with a share for `municipality`, if given). Budget holders: the municipality;
    or every owner (per_municipality); or one pooled budget. With `first_fy` (the plan's first 年度), each lot's
    legal deadline becomes a plan year: the 年度 of its earliest measures deadline, overdue ones in the first;
    a municipality's own plan is bound by its own assets' deadlines."""
    qs = Cluster.objects.filter(run=run).exclude(outlook={}).order_by("rank")
    if municipality:
        qs = qs.filter(cost_shares__has_key=municipality)
    rows = list(qs.values_list("id", "outlook", "cost_shares", "total_cost", "cost_members", "mobilization"))
    hazards = run.summary.get("hazards", {})
    schemes = sorted(hazards)
    years = len(rows[0][1]["risk"]) - 1 if rows else 30
    regrow = {s: regrowth(hazards[s]["theta"], years) for s in schemes}
    c = len(rows)
    if municipality:
        holders = [municipality]
    elif per_municipality:
        holders = sorted({k for r in rows for k in r[2]})
    else:
        holders = ["pooled"]
    shares = np.zeros((c, len(holders)))
    fields = {k: np.zeros((c, years + 1)) for k in ("risk", "p_worst", "cost_preventive", "regrow")}
    corr, overhead, ann_p, ann_c = (np.zeros(c) for _ in range(4))
    m_fields = {k: np.zeros((c, years + 1)) for k in ("risk", "p_worst", "cost_preventive", "regrow")}
    m_corr, m_overhead, weight = np.zeros(c), np.zeros(c), np.zeros(c)
    m_shares = np.zeros((c, len(holders)))
    deadline = np.full(c, -1)
    assets: dict[int, list] = {}
    for i, (_id, o, cost_shares, total, members, mobilization) in enumerate(rows):
        m = o.get("mandatory")
        if m and first_fy is not None:
            own = [a for a in m["assets"] if municipality is None or a["owner"] == municipality]
            if own:
                due = min(fiscal_year(datetime.date.fromisoformat(a["due"])) for a in own)
                deadline[i] = max(due - first_fy, 0)
                weight[i] = len(own)
                assets[i] = m["assets"]
                for k in ("risk", "p_worst", "cost_preventive"):
                    m_fields[k][i] = m[k]
                for scheme, cof in m.get("cof_by_scheme", {}).items():
                    m_fields["regrow"][i] += cof * regrow[scheme]
                m_corr[i] = m["cost_corrective"]
                m_overhead[i] = mobilization  # split out, it is a contract of its own
                m_paid = sum(m["cost_shares"].values()) or 1.0
                for j, h in enumerate(holders):
                    m_shares[i, j] = 1.0 if h == "pooled" else m["cost_shares"].get(h, 0.0) / m_paid
        for k in ("risk", "p_worst", "cost_preventive"):
            fields[k][i] = o[k]
        for scheme, cof in o.get("cof_by_scheme", {}).items():
            fields["regrow"][i] += cof * regrow[scheme]
        corr[i], overhead[i] = o["cost_corrective"], total - members
        ann_p[i], ann_c[i] = o["annual_preventive"], o["annual_corrective"]
        paid = sum(cost_shares.values()) or 1.0
        if holders == ["pooled"]:
            shares[i, 0] = 1.0
        else:
            for j, h in enumerate(holders):
                shares[i, j] = cost_shares.get(h, 0.0) / paid
    return Outlooks(np.array([r[0] for r in rows], dtype=np.int64), fields["risk"], fields["p_worst"],
                    fields["cost_preventive"], corr, overhead, fields["regrow"], ann_p, ann_c, shares, holders,
                    deadline, weight, m_fields["risk"], m_fields["p_worst"], m_fields["cost_preventive"], m_corr,
                    m_overhead, m_fields["regrow"], m_shares, assets)
