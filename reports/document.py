"""Gather what a plan's PDF says (the ORM edge of the renderer): set-based reads, a few thousand rows at most."""

import datetime
import json

from django.contrib.gis.db.models.functions import PointOnSurface
from django.db import connection
from django.db.models import Count, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from assets.models import Municipality
from assets.reference.municipalities import CREDIT
from clusters.models import ACTIONS, AssetScore, Cluster, ReferenceRoad
from core.geo import X, Y, simplified_geojson
from core.wareki import format_date, format_fiscal_year
from reports.models import Plan
from reports.pdf.model import Area, ClusterPage, ClusterRow, MeasureRate, Member, PlanDocument
from reports.pdf.render import ACTION_LABEL, KIND_LABEL, STRATEGY_LABEL

TOP_PAGES = 10
MEMBERS_PER_PAGE = 30
AGE_BANDS = [(None, 1959, "〜1959"), (1960, 1969, "1960年代"), (1970, 1979, "1970年代"), (1980, 1989, "1980年代"),
             (1990, 1999, "1990年代"), (2000, 2009, "2000年代"), (2010, 2019, "2010年代"), (2020, None, "2020〜")]
PARAMS_SHOWN = ("horizon_years", "lof_action_threshold", "weights", "cluster_distance_m", "mobilization_per_contract",
                "cost_pavement_resurface_m2", "cost_bridge_repair_m2", "cost_bridge_renew_m2", "cost_pipe_renew_base_m",
                "cost_pipe_renew_per_mm_m", "annualization", "discount_rate", "sewer_life_years",
                "sewer_treatment_om_per_household_year", "septic_install_per_household", "septic_life_years",
                "septic_replumb_per_household", "septic_removal_per_household", "sewer_abandon_per_m",
                "bridge_removal_max_traffic", "detour_cost_per_vehicle_km", "objective", "lcc_period_years",
                "bridge_life_years", "bridge_repair_state", "cost_bridge_inspection", "cost_bridge_removal_m2",
                "reference_road_join_m", "pipe_open_cut_max_depth_m", "pipe_rehab_max_diameter_mm",
                "cost_pipe_rehab_base_m", "cost_pipe_rehab_per_mm_m")

METHOD = [
    "台帳：構成市町村と県の道路（舗装）・橋梁・下水道管渠・マンホール・浄化槽を、管理者の別なく一つの台帳で扱う。"
    "健全度は各施設の最新の点検結果（橋梁の健全性Ⅰ〜Ⅳ、舗装の診断区分、下水道の緊急度、浄化槽の法定検査）による。",
    "劣化予測：判定区分の推移を多段階指数ハザードモデル（マルコフ連鎖）で表し、同じ施設の連続する点検結果の組から"
    "最尤法で推定した。組が50未満の区分は既定値を用いる。",
    "リスク：計画期間内に最悪の区分に達する確率（起こりやすさ）×影響の大きさ。影響は交通量、緊急輸送道路、処理人口・管径、"
    "土被り、上部道路（管路の破損で道路が陥没する影響）、重要施設、迂回距離を重み付けして合計した。",
    "群：期間内に対策が必要な施設のうち、工種が同じで互いに300m以内のものを、所有者に関わらず一つの発注単位とした。"
    "舗装の打換えとその下の管路の開削による更新は一つの群とし、掘削・復旧を一度で済ませる（掘り返しの削減）。"
    "管更生（台帳の施工方法、記載がなければ土被りと管径による既定：土被りが一定以上なら管更生）は掘削しないため対象外とし、"
    "開削と管更生はそれぞれの単価で積算した。",
    "中長期計画：法定の措置期限（橋梁の健全性Ⅳは直ちに、Ⅲは次回点検まで、下水道の緊急度Ⅰは原則1年以内、Ⅱは5年以内、"
    "舗装の修繕段階、浄化槽の不適正）がある施設を含む群は、その期限の年度までに必ず実施する制約とした（期限を過ぎたものは"
    "初年度）。群全体が予算に収まらないときは、期限のある施設だけを分けて単独で発注する。予算が足りない分は予算不足として"
    "施設ごとに示し、その間の暫定措置（通行規制・通行止め、応急措置など）を挙げる。法定の対策に予算を充てた残りで、"
    "計画期間内のリスク×年の削減量が最大となるよう、各群をどの年度に実施するかを混合整数計画（HiGHS）で求めた。"
    "先送りすると劣化が進み、修繕で済んだものが更新になる分だけ費用が増える。",
    "戦略：予防保全は健全性Ⅱ（下水道は緊急度Ⅲ）の段階、Ⅲに至る前に修繕する。事後保全はⅢ・Ⅳ（緊急度Ⅱ・Ⅰ）に至ってから、"
    "法定の期限内に更新する。50年ライフサイクルコストの差を予防保全による縮減額とした。",
    "集約・再編：下水道の枝線は、群ごとに管路の更新費・維持費と処理場・ポンプ場の維持管理費（戸数に比例）の年価を、"
    "管路沿いの戸数分の合併処理浄化槽の設置・維持（保守点検・清掃・法定検査）、宅内配管の切替え、取付管の撤去、"
    "廃止管の処置の年価と比べた（三省統一の経済比較、都道府県構想の手法。新たな投資のみを計上し、年価は経済比較の際に"
    "参考となる年数で割るか資本回収係数による）。戸数は管路沿いの取付管数により、なければ建物数、人口密度の順に推計した。"
    "橋梁は、道路網（台帳の道路と、台帳にない国道・都道府県道の参照道路）から橋を除いたときの迂回延長を最短経路で求め、"
    "維持の費用（期待劣化パスが健全性Ⅲに達した時点の補修、5年ごとの定期点検、耐用年数に達した時点の更新）と、撤去費＋"
    "迂回による利用者費用を、同じ分析期間の現在価値で比べた（全面更新を今行う前提ではない）。",
]


def _short(label: str) -> str:
    """「Ⅲ-1 修繕段階（表層等修繕）」→「Ⅲ-1」, 「緊急度Ⅱ（中度）」→「緊急度Ⅱ」: what fits a table cell."""
    return label.split(" ")[0].split("（")[0]


def _rings(geojson: str | None) -> list:
    if not geojson:
        return []
    g = json.loads(geojson)
    polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
    return [[tuple(p) for p in poly[0]] for poly in polys]


def _stats(codes: list[str]) -> tuple[list, list, list]:
    with connection.cursor() as cur:
        cur.execute("SELECT kind, count(*) FROM assets_asset WHERE owner_id = ANY(%s) AND status <> 'removed' "
                    "GROUP BY kind ORDER BY kind", [codes])
        counts = [(KIND_LABEL.get(k, k), n) for k, n in cur.fetchall()]
        cur.execute(
            """
            SELECT a.kind, g.rank, g.code, g.label, count(*)
            FROM assets_asset a
            LEFT JOIN inspections_assetcondition c ON c.asset_id = a.id
            LEFT JOIN inspections_grade g ON g.id = c.grade_id
            WHERE a.owner_id = ANY(%s) AND a.status <> 'removed'
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2 NULLS LAST
            """, [codes])
        conditions: dict[str, list] = {}
        for kind, _rank, _code, label, n in cur.fetchall():
            conditions.setdefault(KIND_LABEL.get(kind, kind), []).append((_short(label) if label else "未点検", n))
        cur.execute("SELECT kind, built_fiscal_year / 10 * 10, count(*) FROM assets_asset "
                    "WHERE owner_id = ANY(%s) AND status <> 'removed' AND built_fiscal_year IS NOT NULL "
                    "GROUP BY 1, 2", [codes])
        ages: dict[str, list[int]] = {}
        for kind, decade, n in cur.fetchall():
            row = ages.setdefault(KIND_LABEL.get(kind, kind), [0] * len(AGE_BANDS))
            band = next(i for i, (lo, hi, _) in enumerate(AGE_BANDS) if (lo is None or decade >= lo)
                        and (hi is None or decade <= hi))
            row[band] += n
    return counts, list(conditions.items()), sorted(ages.items())


def _areas(codes: list[str], focus: str | None) -> list[Area]:
    rows = (Municipality.objects.filter(code__in=codes, boundary__isnull=False).exclude(kind="prefecture")
            .order_by("code").values_list("code", "name", simplified_geojson("boundary", tolerance=0.0003, precision=6)))
    return [Area(name, _rings(g), highlighted=(code == focus)) for code, name, g in rows]


def _members(cluster_ids: list[int]) -> dict[int, tuple[list[Member], int]]:
    """The riskiest MEMBERS_PER_PAGE members of each lot, with a point on each for the lot's map, and how
    many members each lot has."""
    on_surface = PointOnSurface("asset__geom")
    rows = (AssetScore.objects.filter(cluster_id__in=cluster_ids)
            .annotate(k=Window(RowNumber(), partition_by="cluster_id", order_by=["-risk", "asset_id"]),
                      total=Window(Count("*"), partition_by="cluster_id"), lon=X(on_surface), lat=Y(on_surface))
            .filter(k__lte=MEMBERS_PER_PAGE).order_by("cluster_id", "k")
            .values_list("cluster_id", "asset__global_id", "asset__kind", "asset__name", "asset__owner__name",
                         "action", "cost", "asset__condition__grade__label", "risk", "lon", "lat", "total"))
    out: dict[int, tuple[list[Member], int]] = {}
    for cid, gid, kind, name, owner, action, cost, label, risk, lon, lat, total in rows:
        members, _ = out.get(cid, ([], total))
        grade = _short(label) if label else ""
        members.append(Member(gid, kind, name, owner, ACTIONS[action], cost, grade, risk, lon, lat))
        out[cid] = (members, total)
    return out


# 告示426号's other structures are as urgent at Ⅳ/Ⅲ as bridges are.
URGENT_GRADES = {("bridge", "IV"): 0, ("bridge", "III"): 1, ("sewer_pipe", "I"): 2, ("manhole", "I"): 3,
                 **{(k, "IV"): 0 for k in ("tunnel", "shed_culvert", "ped_overpass", "gantry_sign")},
                 **{(k, "III"): 1 for k in ("tunnel", "shed_culvert", "ped_overpass", "gantry_sign")}}
SHORTFALL_ROWS = 300


def _legal(plan: Plan) -> tuple[list[dict], list[dict], dict, list[dict]]:
    """The urgent list (bridges at Ⅳ/Ⅲ and 緊急度Ⅰ, what 告示426号 and the 下水道 guidance make most urgent), a
    count of every legally due asset by kind and grade, the chosen scenario's legal figures and shortfall."""
    r = plan.result or {}
    scen = r.get("scenarios") or []
    legal = scen[r["main"]]["legal"] if scen and r.get("main") is not None else {}
    short = {a["asset_id"] for a in legal.get("shortfall_assets", [])}
    urgent, summary = [], {}
    for u in r.get("urgent", []):
        grade = _short(u["grade_label"]) if u["grade_label"] else "—"
        key = (KIND_LABEL.get(u["kind"], "その他"), grade)
        row = summary.setdefault(key, {"kind": key[0], "grade": grade, "count": 0, "in_time": 0, "short": 0,
                                       "first": u["deadline_fy"]})
        row["count"] += 1
        missed = u["asset_id"] in short
        row["short"] += missed
        row["in_time"] += (not missed) and u["scheduled_fy"] is not None and u["scheduled_fy"] <= u["deadline_fy"]
        if (u["kind"], u["grade"]) in URGENT_GRADES:
            urgent.append({"order": (URGENT_GRADES[(u["kind"], u["grade"])], u["due"]), "global_id": u["global_id"],
                           "name": u["name"] or "—", "kind": key[0], "owner": u["owner_name"], "grade": grade,
                           "due": format_date(datetime.date.fromisoformat(u["due"])),
                           "deadline": format_fiscal_year(u["deadline_fy"]) + ("（期限超過）" if u["overdue"] else ""),
                           "plan": (format_fiscal_year(u["scheduled_fy"]) if not missed and u["scheduled_fy"] else
                                    f"予算不足：{u['interim_measure']}")})
    urgent.sort(key=lambda u: u.pop("order"))
    shortfall = [{"global_id": a["global_id"], "name": a["name"] or "—", "kind": KIND_LABEL.get(a["kind"], "その他"),
                  "owner": a["owner_name"], "grade": _short(a["grade_label"]) if a["grade_label"] else "—",
                  "deadline": format_fiscal_year(a["fiscal_year"]), "cost": a["cost"], "interim": a["interim_measure"]}
                 for a in legal.get("shortfall_assets", [])[:SHORTFALL_ROWS]]
    return urgent, sorted(summary.values(), key=lambda x: (x["kind"], x["grade"])), legal, shortfall


def build_document(plan: Plan, top: int = TOP_PAGES) -> PlanDocument:
    run = plan.run
    region = run.region
    focus = plan.municipality_id
    members = list(region.members.values_list("code", flat=True))
    codes = [focus] if focus else members
    names = dict(Municipality.objects.filter(code__in=members).values_list("code", "name"))
    counts, conditions, ages = _stats(codes)
    year_of = {a["cluster_id"]: a["fiscal_year"] for a in plan.result.get("actions", [])}
    qs = Cluster.objects.filter(run=run).order_by("rank")
    if focus:
        qs = qs.filter(cost_shares__has_key=focus)
    clusters = list(qs.only("id", "rank", "key", "work_type", "member_count", "cost_shares", "total_cost",
                            "bundling_saving", "risk_removed", "risk_per_myen", "action_mix", "drivers",
                            "consolidation").annotate(
        outline=simplified_geojson("geom", tolerance=0.00005, precision=6)))
    shares_of = {c.id: c.cost_shares for c in clusters}
    rows = [ClusterRow(c.id, c.rank, c.key, c.work_type, c.member_count,
                       [names.get(k, k) for k in sorted(c.cost_shares)], c.total_cost, c.bundling_saving,
                       c.risk_removed, c.risk_per_myen, c.action_mix, c.drivers, _rings(c.outline),
                       year_of.get(c.id), c.consolidation)
            for c in clusters]
    top_rows = rows[:top]
    mem = _members([r.id for r in top_rows])
    pages = []
    for r in top_rows:
        cs = shares_of[r.id]
        ms, total = mem.get(r.id, ([], 0))
        pages.append(ClusterPage(r, [(names.get(k, k), float(v)) for k, v in sorted(cs.items(), key=lambda kv: -kv[1])],
                                 ms, total))
    summary = run.summary
    # Copies: the run's summary stays as stored, so a second document from the same run still filters by code.
    bridges = [dict(b, owner=names.get(b["owner"], b["owner"])) for b in summary.get("bridge_removals", [])
               if not focus or b["owner"] == focus]
    groups = [dict(g, owners=[names.get(o, o) for o in g["owners"]]) for g in summary.get("septic_groups", [])
              if not focus or focus in g["owners"]][:40]
    sewer = [{"key": r.key, **r.consolidation} for r in rows if "sewer_vs_septic" in r.consolidation]
    sewer.sort(key=lambda r: (r["sewer_vs_septic"]["recommendation"] != "convert_to_septic",
                              -r["sewer_vs_septic"]["saving_per_year"]))
    fys = plan.result.get("fiscal_years", [])
    scope = f"{region.name}　{names.get(focus, focus)}" if focus else region.name
    params = [(k, json.dumps(run.params[k], ensure_ascii=False) if isinstance(run.params.get(k), dict)
               else str(run.params.get(k))) for k in PARAMS_SHOWN if k in run.params]
    params += [("plan: horizon_years", str(plan.horizon_years)), ("plan: strategy", plan.strategy),
               ("plan: budget_mode", plan.budget_mode),
               ("plan: budget_per_year",
                "levelled need" if plan.budget_per_year is None else f"{plan.budget_per_year:,.0f}"),
               ("plan: levels", ", ".join(f"{x:g}" for x in plan.levels))]
    ts = run.data_timestamp
    urgent, urgent_summary, legal, shortfall = _legal(plan)
    return PlanDocument(
        title="地域インフラ群 維持管理計画", scope=scope, region=region.name,
        lead=region.lead.name if region.lead_id else region.name,
        generated_on=format_date(timezone.localdate()),
        period=f"{format_fiscal_year(fys[0])}〜{format_fiscal_year(fys[-1])}" if fys else "",
        run_id=run.pk, data_timestamp=timezone.localtime(ts).strftime("%Y-%m-%d %H:%M") if ts else "—",
        counts=counts, conditions=conditions, ages=ages, age_bands=[b[2] for b in AGE_BANDS],
        areas=_areas(members, focus), clusters=rows, pages=pages, fiscal_years=fys,
        strategy=STRATEGY_LABEL.get(plan.strategy, plan.strategy), scenarios=plan.result.get("scenarios", []),
        main=plan.result.get("main"), sewer_septic=sewer[:40], bridges=bridges[:40], septic_groups=groups,
        hazards=summary.get("hazards", {}), params=params, method=METHOD, credit=_credit(bridges), plan_id=plan.pk,
        urgent=urgent, urgent_summary=urgent_summary, legal=legal, shortfall=shortfall,
        reduction=plan.result.get("reduction"), measure_rates=_measure_rates(codes),
        completeness=[r for r in summary.get("completeness", []) if r.get("owner") in codes])


def _credit(bridges: list[dict]) -> str:
    """The boundaries' credit, and the reference roads' sources when the plan shows detours found on them."""
    sources = sorted(ReferenceRoad.objects.values_list("source", flat=True).distinct()) if bridges else []
    return CREDIT + ("\n参照道路（迂回路の探索）の出典：" + "、".join(sources) if sources else "")


def _measure_rates(codes: list[str]) -> list[MeasureRate]:
    from inspections.measure_selectors import measure_rates

    return [MeasureRate(KIND_LABEL.get(r.kind, r.kind) if r.kind else "計", r.judged, r.started, r.completed, r.interim_only)
            for r in measure_rates(principal=None, system=True, codes=codes, total_label="計")
            if r.municipality is None]


__all__ = ["ACTION_LABEL", "build_document"]
