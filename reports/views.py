import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from assets import access
from assets.access import get_or_404, principal_of
from assets.history import Actor
from assets.models import Via
from core.export import escape_formula
from core.wareki import format_fiscal_year
from reports import pins as pin_services
from reports import selectors, services, svg
from reports.pdf.render import STRATEGY_LABEL

# Japanese labels of the engine's work types and the plan's parts of a lot. Kept minimal here until the lot-names
# branch's clusters/labels.py (every enum and parameter labelled) is merged; then use that.
WORK_TYPE_LABELS = {"road": "道路（舗装）", "sewer": "下水道", "bridge": "橋梁", "septic": "浄化槽",
                    "road_sewer": "道路・下水道（同時施工）"}
PART_LABELS = {"lot": "工区一括", "mandatory": "法定期限分のみ", "rest": "残り"}
SET_BY_HAND_LABELS = {"pinned": "年度を固定", "excluded": "計画から除外"}
PIN_STATUS_LABELS = {"applied": "反映済み", "not_found": "該当する工区なし", "not_in_plan": "この計画の対象外",
                     "conflict": "同じ工区に新しい設定あり", "refused_legal": "法定期限のため不採用",
                     "outside_years": "計画期間外"}


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
                     "work_type_label": WORK_TYPE_LABELS.get(a.get("work_type"), a.get("work_type", "")),
                     "part_label": PART_LABELS.get(a["part"], a["part"]),
                     "hand_label": SET_BY_HAND_LABELS.get(a.get("set_by_hand") or "", "")})
    rows.sort(key=lambda a: (a["fiscal_year"], a.get("rank") or 0))
    codes = sorted({c for a in actions for c in a.get("by_municipality", {})})
    if f.get("municipality"):
        codes = [c for c in codes if c == f["municipality"]]
    cols = [(c, names.get(c, c)) for c in codes]
    for a in rows:
        a["muni_costs"] = [a.get("by_municipality", {}).get(c, 0) for c, _n in cols]
        a["cost_m"] = f"{a['cost'] / 1e6:,.1f}"
        a["muni_costs_m"] = [f"{x / 1e6:,.1f}" for x in a["muni_costs"]]
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
    kind = {"road_segment": "道路(舗装)", "bridge": "橋梁", "sewer_pipe": "下水道管渠", "manhole": "マンホール",
            "septic_tank": "浄化槽", "tunnel": "トンネル", "shed_culvert": "シェッド・大型カルバート",
            "ped_overpass": "横断歩道橋", "gantry_sign": "門型標識等"}
    shortfall = [{**a, "kind_label": kind.get(a["kind"], a["kind"])}
                 for a in legal.get("shortfall_assets", [])[:SHORTFALL_SHOWN]]
    f = _filters(request)
    works, cols = works_of(plan, f)
    can_steer = access.regions_coordinated(principal_of(request)).filter(pk=plan.run.region_id).exists()
    applied = {p["pin_id"]: p for p in r.get("pins", [])}
    active = [{"pin": p, "label": WORK_TYPE_LABELS.get(p.work_type, p.work_type),
               "status": PIN_STATUS_LABELS.get(applied.get(p.pk, {}).get("status", ""), "次の計画から反映"),
               "rank": applied.get(p.pk, {}).get("rank")}
              for p in pin_services.pins_active(plan.run.region_id)]
    first = pin_services.plan_first_fy()
    return render(request, "reports/plan.html", {
        "plan": plan, "main": main, "rows": rows, "charts": charts, "legal": legal, "per_year": per_year,
        "shortfall": shortfall, "reduction": r.get("reduction"),
        "years": list(zip(r.get("fiscal_years", []), years, strict=True)),
        "works": works, "muni_cols": cols, "filters": f, "query": request.GET.urlencode(),
        "work_types": list(WORK_TYPE_LABELS.items()), "munis": plan.run.region.members.order_by("code"),
        "can_steer": can_steer, "active_pins": active, "errors": errors or {}, "post": post or {},
        "pin_years": [(fy, format_fiscal_year(fy)) for fy in range(first, first + plan.horizon_years)]},
        status=status)


WORKS_HEADER = ["年度", "年度（和暦）", "順位", "工種", "区分", "法定期限あり", "手動設定", "事業費（円）"]


@login_required
def plan_works_download(request, pk: int):
    """The plan's works as the page lists them (same filters), as xlsx."""
    from openpyxl import Workbook

    plan = get_or_404(selectors.plan_get, principal=principal_of(request), pk=pk)
    works, cols = works_of(plan, _filters(request))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("実施計画")
    ws.append(WORKS_HEADER + [f"{name}（円）" for _c, name in cols])
    for a in works:
        ws.append([a["fiscal_year"], a["fy_label"], a.get("rank"), escape_formula(a["work_type_label"]),
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
            pin_id = int(post["pin"]) if post["pin"].isdigit() else 0
            pin_services.pin_end(actor=actor, pin_id=pin_id, region=plan.run.region)
        else:
            cluster = plan.run.clusters.filter(rank=int(post["rank"])).first() if post["rank"].isdigit() else None
            if cluster is None:
                raise ValidationError({"rank": _("No lot ranked %(rank)s in run #%(run)s") % {
                    "rank": post["rank"] or "—", "run": plan.run_id}})
            pin_services.pin_set(actor=actor, cluster=cluster, mode=post["action"], reason=post["reason"],
                                 fiscal_year=post["fiscal_year"] or None)
        new = services.plan_replan(principal=principal, plan=plan)
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return _plan_page(request, plan, errors, post, status=422)
    accepted(new)
    return redirect("plan-detail", pk=new.pk)


SHORTFALL_SHOWN = 500
