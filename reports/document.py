"""Gather what a plan's PDF says (the ORM edge of the renderer): set-based reads, a few thousand rows at most."""

import datetime
import json
from collections import Counter

from django.contrib.gis.db.models.functions import PointOnSurface
from django.db import connection
from django.db.models import Count, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from assets.models import Municipality
from assets.reference.municipalities import CREDIT
from clusters.models import ACTIONS, AssetScore, Cluster, ReferenceRoad
from core.geo import X, Y, simplified_geojson
from core.wareki import fiscal_year, format_date, format_fiscal_year
from reports.models import Plan, PlanProfile
from reports.pdf.model import (
    Aging,
    Area,
    ClusterPage,
    ClusterRow,
    Facility,
    InspectionRow,
    LotLine,
    LotShare,
    MeasureRate,
    Member,
    PlanDocument,
    Quantity,
)
from reports.pdf.render import ACTION_LABEL, KIND_LABEL, STRATEGY_LABEL, WORK_LABEL

TOP_PAGES = 10
MEMBERS_PER_PAGE = 30
AGE_BANDS = [(None, 1959, "〜1959"), (1960, 1969, "1960年代"), (1970, 1979, "1970年代"), (1980, 1989, "1980年代"),
             (1990, 1999, "1990年代"), (2000, 2009, "2000年代"), (2010, 2019, "2010年代"), (2020, None, "2020〜")]
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


# The lots' names (e.g. 下水道-012（八潮市・草加市）) come with the names work in clusters; until then a lot is
# called by its key. Read only when the field exists, so the query stays one.
LOT_NAME_FIELDS = ("name",) if any(f.name == "name" for f in Cluster._meta.fields) else ()


def lot_name(cluster) -> str:
    return getattr(cluster, "name", "") or cluster.key


# Parameters in the appendix, by their Japanese names and units from clusters.labels.PARAMS (the one place every
# parameter is named); here only which are shown and where a plan states them in other units (%, 百万円).
PARAM_SHOWN = (
    "horizon_years", "lof_action_threshold", "cluster_distance_m", "mobilization_per_contract",
    "cost_pavement_resurface_m2", "cost_bridge_repair_m2", "cost_bridge_renew_m2", "cost_pipe_renew_base_m",
    "cost_pipe_renew_per_mm_m", "cost_pipe_rehab_base_m", "cost_pipe_rehab_per_mm_m", "discount_rate",
    "sewer_life_years", "sewer_treatment_om_per_household_year", "septic_install_per_household", "septic_life_years",
    "septic_replumb_per_household", "septic_removal_per_household", "sewer_abandon_per_m", "septic_subsidy_share",
    "bridge_removal_max_traffic", "detour_cost_per_vehicle_km", "lcc_period_years", "bridge_life_years",
    "cost_bridge_inspection", "cost_bridge_removal_m2", "reference_road_join_m", "pipe_open_cut_max_depth_m",
    "pipe_rehab_max_diameter_mm")
PARAM_UNITS = {"lof_action_threshold": ("%", 100), "discount_rate": ("%", 100), "septic_subsidy_share": ("%", 100),
               "mobilization_per_contract": ("百万円", 1e-6)}
PARAM_CHOICES = ("objective", "annualization")
REPAIR_STATES = {1: "Ⅱ（予防保全）", 2: "Ⅲ", 3: "Ⅳ"}
BUDGET_MODE_LABEL = {"pooled": "地域で一括", "per_municipality": "市町村別（費用負担割合による）"}


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.3g}"


def param_rows(run_params: dict, plan: Plan) -> list[tuple[str, str]]:
    """The run's and the plan's parameters as a published plan states its 前提条件: Japanese name, value, unit."""
    from django.utils import translation

    from clusters.labels import COMPONENT_LABELS, PARAMS, label

    rows = []
    with translation.override("ja"):  # the plan is a Japanese document whoever makes it
        for key in PARAM_SHOWN:
            if key in run_params:
                unit, scale = PARAM_UNITS.get(key, (PARAMS[key].unit, 1))
                rows.append((PARAMS[key].ja, f"{_fmt(float(run_params[key]) * scale)} {unit}".strip()))
        for key in PARAM_CHOICES:
            if key in run_params:
                rows.append((PARAMS[key].ja, label("choice", run_params[key])))
        if "bridge_repair_state" in run_params:
            state = run_params["bridge_repair_state"]
            rows.append((PARAMS["bridge_repair_state"].ja, REPAIR_STATES.get(state, str(state))))
        for key, w in (run_params.get("weights") or {}).items():
            rows.append((f"影響度の重み：{COMPONENT_LABELS.get(key, key)}", _fmt(float(w))))
    rows += [("計画期間", f"{plan.horizon_years} 年"), ("保全の戦略", STRATEGY_LABEL.get(plan.strategy, plan.strategy)),
             ("予算の配分", BUDGET_MODE_LABEL.get(plan.budget_mode, plan.budget_mode)),
             ("年間予算", "平準化した必要額" if plan.budget_per_year is None
              else f"{plan.budget_per_year / 1e6:,.1f} 百万円/年"),
             ("比較した予算水準", "・".join(f"{x:.0%}" for x in plan.levels))]
    return rows


# 対象施設: 管径 classes of a sewer inventory (as commonly grouped in 下水道 ストックマネジメント plans; unverified).
DIAMETER_CLASSES = [(0, 250, "φ250mm以下"), (251, 450, "φ300〜450mm"), (451, 900, "φ500〜900mm"),
                    (901, 100000, "φ1000mm以上")]
KIND_ORDER = ["bridge", "road_segment", "sewer_pipe", "manhole", "septic_tank"]


def _quantities(codes: list[str]) -> list[Quantity]:
    """対象施設 in the units each kind's plans use: 橋数・橋長・橋面積; 延長 and 面積; 延長 by 管径; 基数・人槽."""
    out = []
    with connection.cursor() as cur:
        cur.execute("""
            SELECT count(*), coalesce(sum(b.length_m), 0),
                   coalesce(sum(coalesce(b.deck_area_m2, b.length_m * b.width_m)), 0),
                   count(*) FILTER (WHERE b.length_m >= 15)
            FROM assets_asset a JOIN assets_bridge b ON b.asset_id = a.id
            WHERE a.owner_id = ANY(%s) AND a.status <> 'removed'""", [codes])
        n, length, area, long_ = cur.fetchone()
        if n:
            out.append(Quantity("橋梁", n, "橋", [("橋数", f"{n:,} 橋（うち橋長15m以上 {long_:,} 橋）"),
                                                  ("総橋長", f"{length:,.0f} m"), ("橋面積", f"{area:,.0f} m²")]))
        cur.execute("""
            SELECT count(*), coalesce(sum(r.length_m), 0), coalesce(sum(r.length_m * r.width_m), 0),
                   count(*) FILTER (WHERE r.width_m IS NULL)
            FROM assets_asset a JOIN assets_roadsegment r ON r.asset_id = a.id
            WHERE a.owner_id = ANY(%s) AND a.status <> 'removed'""", [codes])
        n, length, area, no_width = cur.fetchone()
        if n:
            out.append(Quantity("道路(舗装)", n, "区間", [
                ("延長", f"{length / 1000:,.2f} km"),
                ("舗装面積", f"{area:,.0f} m²" + (f"（幅員不明の{no_width:,}区間を除く）" if no_width else ""))]))
        cur.execute("""
            SELECT p.diameter_mm, p.length_m FROM assets_asset a JOIN assets_sewerpipe p ON p.asset_id = a.id
            WHERE a.owner_id = ANY(%s) AND a.status <> 'removed'""", [codes])
        pipes = cur.fetchall()
        if pipes:
            by_class = [sum(m for d, m in pipes if lo <= d <= hi) for lo, hi, _ in DIAMETER_CLASSES]
            out.append(Quantity("下水道管渠", len(pipes), "本", [("延長", f"{sum(m for _, m in pipes) / 1000:,.2f} km")]
                                + [(f"　{label}", f"{km / 1000:,.2f} km")
                                   for (_, _, label), km in zip(DIAMETER_CLASSES, by_class, strict=True) if km]))
        cur.execute("SELECT count(*) FROM assets_asset WHERE owner_id = ANY(%s) AND status <> 'removed' "
                    "AND kind = 'manhole'", [codes])
        (n,) = cur.fetchone()
        if n:
            out.append(Quantity("マンホール", n, "基", [("基数", f"{n:,} 基")]))
        cur.execute("""
            SELECT count(*), coalesce(sum(t.capacity_persons), 0), count(*) FILTER (WHERE t.treatment = 'single')
            FROM assets_asset a JOIN assets_septictank t ON t.asset_id = a.id
            WHERE a.owner_id = ANY(%s) AND a.status <> 'removed'""", [codes])
        n, persons, single = cur.fetchone()
        if n:
            out.append(Quantity("浄化槽", n, "基", [("基数", f"{n:,} 基（うち単独処理 {single:,} 基）"),
                                                  ("処理対象人員", f"{persons:,} 人槽")]))
    return out


def _aging(codes: list[str], fy: int) -> list[Aging]:
    """老朽化率 as 行動計画 state it: the share of assets 50 years old or more, now and in 10 and 20 years (built
    年度 known; the unknown ones are counted apart)."""
    with connection.cursor() as cur:
        cur.execute("""
            SELECT kind, count(built_fiscal_year), count(*) - count(built_fiscal_year),
                   count(*) FILTER (WHERE built_fiscal_year <= %s), count(*) FILTER (WHERE built_fiscal_year <= %s),
                   count(*) FILTER (WHERE built_fiscal_year <= %s)
            FROM assets_asset WHERE owner_id = ANY(%s) AND status <> 'removed' GROUP BY kind""",
                    [fy - 50, fy + 10 - 50, fy + 20 - 50, codes])
        rows = {r[0]: r[1:] for r in cur.fetchall()}
    return [Aging(KIND_LABEL.get(k, k), known, unknown, *(x / known if known else 0.0 for x in (a, b, c)))
            for k in KIND_ORDER if k in rows for known, unknown, a, b, c in [rows[k]]]


def _inspections(codes: list[str], fys: list[int]) -> list[InspectionRow]:
    """点検計画: each kind's legal inspection (from the catalogue) and how many assets fall due each 年度."""
    from inspections.models import GradingScheme

    basis = {}
    for kinds, cycle, params, source in (GradingScheme.objects.filter(is_current=True, record_type="inspection")
                                         .values_list("kinds", "cycle_months", "params", "source")):
        text = ((params or {}).get("legal", {}).get("inspection") or [source])[0]
        for k in kinds:
            basis.setdefault(k, (cycle, text))
    if not fys:
        return []
    with connection.cursor() as cur:
        cur.execute("""
            SELECT a.kind, CASE WHEN c.next_due_on IS NULL OR c.next_due_on < %s THEN -1
                                ELSE extract(year FROM c.next_due_on - interval '3 months')::int END, count(*)
            FROM assets_asset a LEFT JOIN inspections_assetcondition c ON c.asset_id = a.id
            WHERE a.owner_id = ANY(%s) AND a.status <> 'removed' GROUP BY 1, 2""",
                    [datetime.date(fys[0], 4, 1), codes])
        due: dict = {}
        for kind, fy, n in cur.fetchall():
            due.setdefault(kind, {})[fy] = n
    out = []
    for k in KIND_ORDER:
        if k not in due:
            continue
        cycle, text = basis.get(k, (None, "ストックマネジメント計画による"))
        method = INSPECTION_METHOD.get(k, "") + (f"（{cycle // 12}年に1回）" if cycle and cycle >= 12 else "")
        out.append(InspectionRow(KIND_LABEL.get(k, k), method, text, [due[k].get(fy, 0) for fy in fys],
                                 due[k].get(-1, 0)))
    return out


INSPECTION_METHOD = {"bridge": "近接目視による定期点検", "road_segment": "目視・路面性状調査",
                     "sewer_pipe": "TVカメラ調査・目視", "manhole": "蓋・躯体の目視",
                     "septic_tank": "法定検査（水質・外観）"}
ACTION_MEASURE = {"monitor": "経過観察（定期点検）", "repair": "修繕", "renew": "更新"}


def _year_of_assets(plan: Plan) -> tuple[dict, dict]:
    """The 年度 each lot is acted on (whole, or its rest when split) and each legally due asset's 年度."""
    lot_year = {}
    for a in plan.result.get("actions", []):
        if a["part"] in ("lot", "rest"):
            lot_year[a["cluster_id"]] = a["fiscal_year"]
        else:
            lot_year.setdefault(a["cluster_id"], a["fiscal_year"])
    urgent_year = {u["asset_id"]: u["scheduled_fy"] for u in plan.result.get("urgent", [])}
    return lot_year, urgent_year


def _when(fy: int | None, has_action: bool) -> str:
    if not has_action:
        return "—"
    return format_fiscal_year(fy) if fy else "次期計画以降"


def _fy_text(day) -> str:
    return format_fiscal_year(fiscal_year(day)) if day else "—"


def _facilities(plan: Plan, codes: list[str], removals: set[str]) -> list[Facility]:
    """Every bridge of the scope, one row each (個別施設計画: bridges one by one with state, inspection, measure,
    年度 and cost; domain.md §7)."""
    lot_year, urgent_year = _year_of_assets(plan)
    with connection.cursor() as cur:
        cur.execute("""
            SELECT a.id, a.global_id, a.name, b.route_name, o.name, a.built_fiscal_year, a.built_year_text,
                   b.length_m, coalesce(b.deck_area_m2, b.length_m * b.width_m), g.label, c.inspected_on,
                   c.next_due_on, s.action, s.cost, s.cluster_id
            FROM assets_asset a JOIN assets_bridge b ON b.asset_id = a.id
            JOIN assets_municipality o ON o.code = a.owner_id
            LEFT JOIN inspections_assetcondition c ON c.asset_id = a.id
            LEFT JOIN inspections_grade g ON g.id = c.grade_id
            LEFT JOIN clusters_assetscore s ON s.asset_id = a.id AND s.run_id = %s
            WHERE a.owner_id = ANY(%s) AND a.status <> 'removed'
            ORDER BY a.owner_id, b.route_name, a.global_id""", [plan.run_id, codes])
        rows = cur.fetchall()
    out = []
    for (aid, gid, name, route, owner, built, built_text, length, area, grade, inspected, next_due, action, cost,
         cid) in rows:
        acting = action is not None and action > 0
        measure = ACTION_MEASURE[ACTIONS[action]] if action is not None else "—"
        if gid in removals:
            measure += "（集約・撤去を検討）"
        fy = urgent_year.get(aid) if aid in urgent_year else lot_year.get(cid)
        out.append(Facility(gid, name or "—", route or "—", owner,
                            format_fiscal_year(built) if built else (built_text or "不明"), length, area,
                            _short(grade) if grade else "未点検", _fy_text(inspected), _fy_text(next_due), measure,
                            _when(fy, acting), float(cost or 0) if acting else 0.0))
    return out


# Routes named per lot line: a lot of a million-asset region can lie under hundreds of streets, which no table cell
# holds (a PDF cell taller than the page cannot be laid out); the most frequent are named, the rest counted.
ROUTES_SHOWN = 5


def routes_text(routes: list[str] | None) -> str:
    """The routes of a lot line, most assets first (then by name): at most ROUTES_SHOWN named, then ほかN路線."""
    counts = Counter(routes or ())
    if not counts:
        return "—"
    ranked = sorted(counts, key=lambda r: (-counts[r], r))
    more = len(ranked) - ROUTES_SHOWN
    return "・".join(ranked[:ROUTES_SHOWN]) + (f" ほか{more:,}路線" if more > 0 else "")


def _lot_lines(plan: Plan, codes: list[str], lots: dict) -> list[LotLine]:
    """Pipes, roads and septic tanks per lot (群) and kind, with their 延長 or 基数・人槽 and the 路線 above."""
    lot_year, _ = _year_of_assets(plan)
    with connection.cursor() as cur:
        cur.execute("""
            SELECT s.cluster_id, a.kind, count(*), coalesce(sum(coalesce(p.length_m, r.length_m)), 0),
                   coalesce(sum(t.capacity_persons), 0),
                   array_agg(coalesce(r.route_name, ra.route_name))
                       FILTER (WHERE coalesce(r.route_name, ra.route_name) <> ''),
                   count(*) FILTER (WHERE s.action = 1), count(*) FILTER (WHERE s.action = 2), sum(s.cost)
            FROM clusters_assetscore s JOIN assets_asset a ON a.id = s.asset_id
            LEFT JOIN assets_sewerpipe p ON p.asset_id = a.id
            LEFT JOIN assets_roadsegment ra ON ra.asset_id = p.road_segment_id
            LEFT JOIN assets_roadsegment r ON r.asset_id = a.id
            LEFT JOIN assets_septictank t ON t.asset_id = a.id
            WHERE s.run_id = %s AND s.cluster_id IS NOT NULL AND s.action > 0 AND a.owner_id = ANY(%s)
              AND a.kind IN ('road_segment', 'sewer_pipe', 'manhole', 'septic_tank')
            GROUP BY 1, 2""", [plan.run_id, codes])
        rows = cur.fetchall()
    out = []
    for cid, kind, n, length, persons, routes, repair, renew, cost in rows:
        if cid not in lots:
            continue
        if kind == "septic_tank":
            qty = f"{n:,} 基・{persons:,} 人槽"
        elif kind == "manhole":
            qty = f"{n:,} 基"
        else:
            qty = f"{length / 1000:,.2f} km（{n:,}{'本' if kind == 'sewer_pipe' else '区間'}）"
        measure = "・".join(x for x in (f"修繕 {repair:,}" if repair else "", f"更新 {renew:,}" if renew else "") if x)
        out.append(LotLine(lot_name(lots[cid]), KIND_LABEL.get(kind, kind), routes_text(routes), qty, measure,
                           _when(lot_year.get(cid), True), float(cost or 0)))
    order = {KIND_LABEL[k]: i for i, k in enumerate(KIND_ORDER)}
    out.sort(key=lambda r: (order.get(r.kind, 9), r.measure_year == "次期計画以降", r.measure_year, r.lot))
    return out


def _profile(plan: Plan) -> dict:
    """The region's row, overlaid by the municipality's own for its plan (what the municipality leaves empty)."""
    rows = {p.municipality_id: p for p in PlanProfile.objects.filter(region=plan.run.region_id).filter(
        Q(municipality__isnull=True) | Q(municipality=plan.municipality_id))}
    out = {}
    for p in (rows.get(None), rows.get(plan.municipality_id) if plan.municipality_id else None):
        if p is None:
            continue
        for f in ("department", "purpose", "review_fiscal_year", "new_technology", "new_technology_target",
                  "consolidation_target"):
            if getattr(p, f):
                out[f] = getattr(p, f)
    if plan.municipality_id and (own := rows.get(plan.municipality_id)) is not None:
        out["department"] = own.department  # a municipality's 体制 is its own, never the lead's
    elif plan.municipality_id:
        out.pop("department", None)
    return out


def _purpose(author: str, region: str, municipal: bool) -> list[str]:
    """背景・目的 and where the plan sits: インフラ長寿命化基本計画 (国, 平成25年) → 行動計画 (for a municipality its
    公共施設等総合管理計画) → 個別施設計画 (this plan). The hierarchy as the issue and 総務省's 2014 request state
    it (unverified against the texts)."""
    own = (f"{author}が管理する道路、橋梁、下水道、浄化槽は、その多くが高度経済成長期以降に整備され、"
           "今後、建設後50年以上を経過する施設の割合が急速に高まる。限られた予算と技術職員で安全を確保するため、"
           "点検・診断の結果に基づき、対策の優先順位、内容、時期と概算費用を施設ごとに定め、損傷が軽微なうちに"
           "対策する予防保全へ転換して、ライフサイクルコストの縮減と予算の平準化を図る。")
    group = (f"あわせて、{region}の構成市町村は、管理者の別なく施設を「群」として捉え、工種が同じで互いに近い施設の"
             "工事を一括して発注し、点検や技術職員を共同化する（地域インフラ群再生戦略マネジメント）。"
             + ("本計画の群には他の市町村の施設を含むものがあり、その費用は施設の管理者ごとに負担する。"
                if municipal else "本計画は構成市町村の個別施設計画を束ね、群ごとの費用負担を示す。"))
    where = ("本計画は、国のインフラ長寿命化基本計画（平成25年11月）に基づき"
             + (f"{author}が策定した行動計画（公共施設等総合管理計画）の下に位置付ける個別施設計画"
                if municipal else f"構成市町村が策定した行動計画（公共施設等総合管理計画）の下で、{region}として策定する"
                                  "群の個別施設計画")
             + "であり、道路橋の長寿命化修繕計画、下水道のストックマネジメント計画、浄化槽の管理を含む。")
    return [own, group, where]


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
    clusters = list(qs.only("id", "rank", "key", "work_type", "member_count", "cost_shares", "total_cost", "owner_cost",
                            "bundling_saving", "risk_removed", "risk_per_myen", "action_mix", "drivers",
                            "consolidation", *LOT_NAME_FIELDS).annotate(
        outline=simplified_geojson("geom", tolerance=0.00005, precision=6)))
    shares_of = {c.id: c.cost_shares for c in clusters}
    rows = [ClusterRow(c.id, c.rank, c.key, c.work_type, c.member_count,
                       [names.get(k, k) for k in sorted(c.cost_shares)], c.total_cost, c.bundling_saving,
                       c.risk_removed, c.risk_per_myen, c.action_mix, c.drivers, _rings(c.outline),
                       year_of.get(c.id), c.consolidation, c.owner_cost or 0.0, name=lot_name(c))
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
    sewer = [{"key": r.key, "name": r.name, **r.consolidation} for r in rows if "sewer_vs_septic" in r.consolidation]
    sewer.sort(key=lambda r: (r["sewer_vs_septic"]["recommendation"] != "convert_to_septic",
                              -r["sewer_vs_septic"]["saving_per_year"]))
    fys = plan.result.get("fiscal_years", [])
    scope = f"{region.name}　{names.get(focus, focus)}" if focus else region.name
    params = param_rows(run.params, plan)
    ts = run.data_timestamp
    urgent, urgent_summary, legal, shortfall = _legal(plan)
    lead = region.lead.name if region.lead_id else region.name
    author = names.get(focus, focus) if focus else lead
    profile = _profile(plan)
    fy0 = fys[0] if fys else fiscal_year(timezone.localdate()) + 1
    removals = {b["global_id"] for b in summary.get("bridge_removals", []) if b.get("recommendation") == "remove"}
    lots = {c.id: c for c in clusters}
    lot_year, _ = _year_of_assets(plan)
    shared = [LotShare(lot_name(c), WORK_LABEL.get(c.work_type, c.work_type), c.member_count,
                       _when(lot_year.get(c.id), True), float(c.total_cost),
                       [(names.get(k, k), float(v)) for k, v in sorted(c.cost_shares.items(), key=lambda kv: -kv[1])])
              for c in clusters if len(c.cost_shares) > 1]
    review = profile.get("review_fiscal_year") or fy0 + 4
    return PlanDocument(
        title="個別施設計画（長寿命化修繕計画）", scope=scope, region=region.name, lead=author,
        author=author, municipal=bool(focus), department=profile.get("department", ""),
        purpose=[p for p in profile.get("purpose", "").split("\n") if p.strip()] or _purpose(
            author, region.name, bool(focus)),
        review_year=format_fiscal_year(review), new_technology=profile.get("new_technology", ""),
        new_technology_target=profile.get("new_technology_target", ""),
        consolidation_target=profile.get("consolidation_target", ""),
        quantities=_quantities(codes), aging=_aging(codes, fy0), inspections=_inspections(codes, fys),
        facilities=_facilities(plan, codes, removals), lot_lines=_lot_lines(plan, codes, lots), lot_shares=shared,
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
        septic=_septic(summary, focus, sum(r.owner_cost for r in rows)),
        completeness=[r for r in summary.get("completeness", []) if r.get("owner") in codes])


def _septic(summary: dict, focus: str | None, owner_cost: float) -> dict:
    """The run's septic figures for the document, narrowed to the municipality a plan is for; the owners' part
    (設置者負担（参考）) summed over the document's lots."""
    if "septic_connection" not in summary:
        return {}
    conn, upkeep = summary["septic_connection"], summary.get("septic_upkeep") or {}
    if focus:
        conn = {**conn, **(conn.get("by_owner", {}).get(focus) or {"tanks": 0, "candidates": 0})}
        upkeep = {k: ({**v, "count": v.get("by_owner", {}).get(focus, 0)} if isinstance(v, dict) and "by_owner" in v
                      else v) for k, v in upkeep.items()}
    return {"owner_cost_total": owner_cost, "connection": conn, "upkeep": upkeep}


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
