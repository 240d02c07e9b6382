from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.safestring import mark_safe

from assets.access import get_or_404, principal_of
from core.wareki import format_fiscal_year
from reports import selectors, svg
from reports.pdf.render import STRATEGY_LABEL


@login_required
def plan_detail(request, pk: int):
    plan = get_or_404(selectors.plan_get, principal=principal_of(request), pk=pk)
    r = plan.result or {}
    years = [format_fiscal_year(fy, letters=True) for fy in r.get("fiscal_years", [])]
    scen = r.get("scenarios", [])
    main = scen[r["main"]] if scen and r.get("main") is not None else None
    name = lambda s: f"{STRATEGY_LABEL.get(s['strategy'], s['strategy'])} {s['level']:.0%}"  # noqa: E731
    charts = {}
    if main:
        charts["spend"] = mark_safe(svg.bars([("予算", [x / 1e6 for x in main["budget"]]),
                                              ("執行", [x / 1e6 for x in main["spend"]])], years, "百万円"))
        charts["risk"] = mark_safe(svg.lines([(name(s), s["risk"]) for s in scen]
                                             + [("対策なし", main["risk_untreated"])], years, "リスク"))
        charts["lcc"] = mark_safe(svg.bars([("50年LCC", [s["lcc50"] / 1e8 for s in scen])], [name(s) for s in scen],
                                           "億円"))
    rows = [{**s, "name": name(s), "total_spend": sum(s["spend"]), "gain": (
        100 * (s["objective"] - s["greedy_objective"]) / s["greedy_objective"] if s["greedy_objective"] else 0),
             "shortfall": s.get("legal", {}).get("shortfall_total", {"count": 0, "cost": 0})}
            for s in scen]
    legal = (main or {}).get("legal", {})
    per_year = [{"fy": fy, "label": label, **{k: legal.get(k, [0] * len(years))[i] for k in (
        "due", "scheduled", "scheduled_cost", "shortfall_count", "shortfall_cost")}}
        for i, (fy, label) in enumerate(zip(r.get("fiscal_years", []), years, strict=True))]
    kind = {"road_segment": "道路(舗装)", "bridge": "橋梁", "sewer_pipe": "下水道管渠", "manhole": "マンホール",
            "septic_tank": "浄化槽", "tunnel": "トンネル", "shed_culvert": "シェッド・大型カルバート",
            "ped_overpass": "横断歩道橋", "gantry_sign": "門型標識等"}
    shortfall = [{**a, "kind_label": kind.get(a["kind"], a["kind"])}
                 for a in legal.get("shortfall_assets", [])[:SHORTFALL_SHOWN]]
    return render(request, "reports/plan.html", {
        "plan": plan, "main": main, "rows": rows, "charts": charts, "legal": legal, "per_year": per_year,
        "shortfall": shortfall, "reduction": r.get("reduction"),
        "years": list(zip(r.get("fiscal_years", []), years, strict=True))})


SHORTFALL_SHOWN = 500
