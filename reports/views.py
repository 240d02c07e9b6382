import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from assets import access
from assets.access import get_or_404, principal_of
from assets.history import Actor
from assets.models import Via
from clusters.labels import WORK_TYPE_LABELS, label
from core.export import xlsx_row, xlsx_text
from core.formatting import allocate
from core.text import whole_number
from core.wareki import format_fiscal_year
from reports import pins as pin_services
from reports import selectors, services, svg
from reports.pdf.render import STRATEGY_LABEL

# The plan's own values (parts of a lot, pins), labelled here; the engine's are clusters.labels.
PART_LABELS = {"lot": gettext_lazy("whole lot"), "mandatory": gettext_lazy("legally due part only"),
               "rest": gettext_lazy("remainder")}
SET_BY_HAND_LABELS = {"pinned": gettext_lazy("year fixed by hand"), "excluded": gettext_lazy("excluded by hand")}
PIN_STATUS_LABELS = {"applied": gettext_lazy("applied"), "not_found": gettext_lazy("no matching lot"),
                     "not_in_plan": gettext_lazy("not in this plan"),
                     "conflict": gettext_lazy("a newer setting for the same lot"),
                     "refused_legal": gettext_lazy("not applied: legal deadline"),
                     "outside_years": gettext_lazy("outside the plan's years")}


def _filters(request) -> dict:
    return {k: (request.GET.get(k) or "").strip() for k in ("municipality", "work_type", "fiscal_year")}


def works_of(plan, f: dict) -> tuple[list[dict], list[tuple[str, str]]]:
    """The plan's works (which lot in which 年度, its cost per municipality), filtered; and the municipality
    columns (code, name)."""
    actions = (plan.result or {}).get("actions", [])
    names = dict(plan.run.region.members.values_list("code", "name"))
    rows = []
    for a in actions:
        if f.get("municipality") and f["municipality"] not in a.get("by_municipality", {}):
            continue
        if f.get("work_type") and a.get("work_type") != f["work_type"]:
            continue
        if f.get("fiscal_year") and str(a["fiscal_year"]) != f["fiscal_year"]:
            continue
        rows.append({**a, "fy_label": format_fiscal_year(a["fiscal_year"]),
                     "work_type_label": label("work_type", a.get("work_type")),
                     "part_label": str(PART_LABELS.get(a["part"], a["part"])),
                     "hand_label": str(SET_BY_HAND_LABELS.get(a.get("set_by_hand") or "", ""))})
    rows.sort(key=lambda a: (a["fiscal_year"], a.get("rank") or 0))
    codes = sorted({c for a in actions for c in a.get("by_municipality", {})})
    if f.get("municipality"):
        codes = [c for c in codes if c == f["municipality"]]
    cols = [(c, names.get(c, c)) for c in codes]
    for a in rows:
        a["muni_costs"] = [a.get("by_municipality", {}).get(c, 0) for c, _n in cols]
        a["cost_m"] = f"{a['cost'] / 1e6:,.1f}"
        # In 百万円 to one decimal, split so the columns add up to the row's total as shown.
        shown = allocate(a["cost"] / 1e6, a["muni_costs"], digits=1) if any(a["muni_costs"]) else a["muni_costs"]
        a["muni_costs_m"] = [f"{x:,.1f}" for x in shown]
    return rows, cols


@login_required
def plan_detail(request, pk: int):
    plan = get_or_404(selectors.plan_get, principal=principal_of(request), pk=pk)
    return _plan_page(request, plan)


def _plan_page(request, plan, errors: dict | None = None, post: dict | None = None, status: int = 200):
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
    shortfall = [{**a, "kind_label": label("kind", a["kind"])}
                 for a in legal.get("shortfall_assets", [])[:SHORTFALL_SHOWN]]
    f = _filters(request)
    works, cols = works_of(plan, f)
    can_steer = access.regions_coordinated(principal_of(request)).filter(pk=plan.run.region_id).exists()
    applied = {p["pin_id"]: p for p in r.get("pins", [])}
    active = [{"pin": p, "label": label("work_type", p.work_type),
               "status": PIN_STATUS_LABELS.get(applied.get(p.pk, {}).get("status", ""),
                                               gettext_lazy("applies from the next plan")),
               "rank": applied.get(p.pk, {}).get("rank")}
              for p in selectors.pin_list(principal=principal_of(request), region=plan.run.region.slug)]
    first = pin_services.plan_first_fy()
    return render(request, "reports/plan.html", {
        "plan": plan, "main": main, "rows": rows, "charts": charts, "legal": legal, "per_year": per_year,
        "shortfall": shortfall, "reduction": r.get("reduction"),
        "years": list(zip(r.get("fiscal_years", []), years, strict=True)),
        "works": works, "muni_cols": cols, "filters": f, "query": request.GET.urlencode(),
        "work_types": [(k, label("work_type", k)) for k in WORK_TYPE_LABELS],
        "munis": plan.run.region.members.order_by("code"),
        "can_steer": can_steer, "active_pins": active, "errors": errors or {}, "post": post or {},
        "pin_years": [(fy, format_fiscal_year(fy)) for fy in range(first, first + plan.horizon_years)]},
        status=status)


WORKS_HEADER = ["年度", "年度（和暦）", "順位", "工区", "工種", "区分", "法定期限あり", "手動設定", "事業費（円）"]


@login_required
def plan_works_download(request, pk: int):
    """The plan's works as the page lists them (same filters), as xlsx."""
    from openpyxl import Workbook

    plan = get_or_404(selectors.plan_get, principal=principal_of(request), pk=pk)
    works, cols = works_of(plan, _filters(request))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("実施計画")
    ws.append(xlsx_row(WORKS_HEADER + [f"{name}（円）" for _c, name in cols]))
    for a in works:
        ws.append([a["fiscal_year"], a["fy_label"], a.get("rank"), xlsx_text(a.get("name") or ""),
                   xlsx_text(a["work_type_label"]),
                   a["part_label"], "○" if a["mandatory"] else "", a["hand_label"], a["cost"], *a["muni_costs"]])
    buf = io.BytesIO()
    wb.save(buf)
    resp = HttpResponse(buf.getvalue(),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = content_disposition_header(True, f"plan-{plan.pk}-works.xlsx")
    return resp




@login_required
@require_POST
def plan_pins(request, pk: int):
    """Pin a lot (by its rank in the plan's run) to a 年度 or exclude it, or take a pin off; then plan again
    around the pins (a new plan, queued) and show it."""
    from core.jobs import accepted

    plan = get_or_404(selectors.plan_get, principal=principal_of(request), pk=pk)
    principal = principal_of(request)
    actor = Actor(principal, Via.UI)
    post = {k: request.POST.get(k, "").strip() for k in ("action", "rank", "fiscal_year", "reason", "pin")}
    try:
        if post["action"] == "end":
            pin_id = whole_number(post["pin"]) or 0
            pin_services.pin_end(actor=actor, pin_id=pin_id, region=plan.run.region)
        else:
            cluster = pin_services.lot_of(plan.run, post["rank"])
            pin_services.pin_set(actor=actor, cluster=cluster, mode=post["action"], reason=post["reason"],
                                 fiscal_year=post["fiscal_year"] or None)
        new = services.plan_replan(principal=principal, plan=plan)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return _plan_page(request, plan, errors, post, status=422)
    accepted(new)
    return redirect("plan-detail", pk=new.pk)


SHORTFALL_SHOWN = 500
