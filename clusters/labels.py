"""Names people use: one place for the Japanese (and English) label of every value the engine stores — work
types, actions, recommendations, strategies, job statuses and steps, asset kinds in an action mix, parameters —
and the name of a lot (`lot_name`). Pages, the API, the admin and the PDF read labels from here, never the raw
code (`convert_to_septic`, `road_sewer`, `septic-29.0`).

Labels are English msgids translated in locale/ja (Japanese pages show Japanese, /en/ English). A lot's name is
stored on the Cluster in Japanese (the PDF and every page print the same name); `lot_name` makes it."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

__all__ = ["ACTION_LABELS", "JOB_STEPS", "KIND_COUNTERS", "PARAMS", "RECOMMENDATION_LABELS", "STATUS_LABELS",
           "STRATEGY_LABELS", "TOTAL_LABELS", "WORK_TYPE_JA", "WORK_TYPE_LABELS", "action_mix_text", "label",
           "lot_name", "param_label", "param_value", "progress_text"]

# Japanese work-type names a lot's stored name begins with (fixed: the name is the same on every page and in
# the PDF whatever the reader's language).
WORK_TYPE_JA = {"road": "道路", "sewer": "下水道", "bridge": "橋梁", "septic": "浄化槽",
                "road_sewer": "道路・下水道同時施工"}

WORK_TYPE_LABELS = {"road": _("Road"), "sewer": _("Sewer"), "bridge": _("Bridge"), "septic": _("Septic tank"),
                    "road_sewer": _("Road and sewer together")}

# What the engine decides per asset (clusters.models.ACTIONS) and what the consolidation analyses recommend.
ACTION_LABELS = {"monitor": pgettext_lazy("action", "Monitor"), "repair": pgettext_lazy("action", "Repair"),
                 "renew": pgettext_lazy("action", "Renew")}
RECOMMENDATION_LABELS = {
    "convert_to_septic": _("Convert to combined septic tanks"),
    "renew": pgettext_lazy("recommendation", "Renew"),
    "keep": _("Keep it"),
    "remove": _("Remove"),
    "no_alternative_route": _("No way round: keep it"),
}
STRATEGY_LABELS = {"preventive": _("Preventive maintenance (予防保全)"),
                   "corrective": _("Corrective maintenance (事後保全)")}
STATUS_LABELS = {"queued": _("Queued"), "running": _("Running"), "done": _("Done"), "failed": _("Failed")}

# The steps a job reports while it runs (core.jobs.Job.message): stored as these English msgids, shown
# translated (progress_text). Marked here so they are translated wherever they are set.
# What the engine estimated where the ledger left a field empty (clusters.engine.defaults.FIELDS; issue 16).
DEFAULTED_LABELS = {"built_fiscal_year": _("built year"), "length_m": _("length"), "width_m": _("width"),
                    "diameter_mm": _("diameter"), "capacity_persons": _("capacity (人槽)"),
                    "treatment": _("treatment (合併/単独)")}


def defaulted_text(mask_or_fields) -> str:
    """The fields estimated from defaults, in the reader's language: 建設年度・管径 ("" for none)."""
    from clusters.engine.defaults import fields_of

    names = fields_of(mask_or_fields) if isinstance(mask_or_fields, int) else list(mask_or_fields or [])
    return "・".join(str(DEFAULTED_LABELS.get(n, n)) for n in names)


JOB_STEPS = (gettext_noop("reading"), gettext_noop("estimating deterioration"), gettext_noop("scoring"),
             gettext_noop("clustering"), gettext_noop("planning"), gettext_noop("writing the PDF"),
             gettext_noop("done"))

# How a count of each asset kind is said in Japanese (助数詞) in an action mix: 浄化槽 更新 4基.
KIND_COUNTERS = {"septic_tank": "基", "manhole": "基", "bridge": "橋", "sewer_pipe": "本", "road_segment": "区間"}
KIND_COUNTERS_EN = {"septic_tank": "tanks", "manhole": "manholes", "bridge": "bridges", "sewer_pipe": "pipes",
                    "road_segment": "segments"}

# The run summary's totals (the compare page), by key.
TOTAL_LABELS = {"assets": _("assets"), "acting": _("assets needing action"), "clusters": _("lots"),
                "cross_municipal_clusters": _("cross-municipal lots"), "cost_total": _("cost of all works"),
                "risk_removed": _("risk removed")}

# The consequence components a lot's risk removed is explained by (clusters.engine.scoring.COMPONENTS).
COMPONENT_LABELS = {"traffic": _("Traffic"), "emergency_route": _("Emergency transport route"),
                    "served": _("Population served / pipe size"), "depth": _("Cover depth"),
                    "road_above": _("Road above"), "important_facility": _("Important facility"),
                    "detour": _("Detour length")}

# Values of the parameters that are a choice (Params.objective, Params.annualization).
CHOICE_LABELS = {"risk_per_yen": _("Risk removed per yen"), "risk_removed": _("Risk removed"),
                 "saving": _("Saving from bundling"), "years": _("Divided by the comparison years"),
                 "crf": _("Capital recovery factor")}

_GROUPS = {"work_type": WORK_TYPE_LABELS, "action": ACTION_LABELS, "recommendation": RECOMMENDATION_LABELS,
           "strategy": STRATEGY_LABELS, "status": STATUS_LABELS, "total": TOTAL_LABELS, "component": COMPONENT_LABELS,
           "choice": CHOICE_LABELS}


def label(group: str, value) -> str:
    """The label of `value` in `group` (work_type, action, recommendation, strategy, status, kind, param, total);
    an unknown value is shown as it is, so a new code is visible rather than hidden."""
    if value is None or value == "":
        return "—"
    if group == "kind":
        from assets.models import Kind

        return str(Kind(value).label) if value in Kind.values else str(value)
    if group == "param":
        return param_label(str(value))
    found = _GROUPS[group].get(value)
    return str(found) if found is not None else str(value)


def lot_name(work_type: str, seq: int, municipality_names: list[str]) -> str:
    """A lot's name: its work type in Japanese, its number in the run (per work type, by rank) and the
    municipalities it serves, largest share first — 下水道-012（八潮市・草加市）. Pure: the PDF uses it too."""
    head = f"{WORK_TYPE_JA.get(work_type, work_type)}-{int(seq):03d}"
    names = [n for n in municipality_names if n]
    if not names:
        return head
    shown = names if len(names) <= 3 else [*names[:3], f"ほか{len(names) - 3}"]
    return f"{head}（{'・'.join(shown)}）"


def action_mix_text(mix: dict, *, english: bool | None = None) -> list[str]:
    """An action mix ({"septic_tank:renew": 4}) as people say it: 浄化槽 更新 4基 (English: Septic tank renew
    4 tanks). Largest count first."""
    if english is None:
        from django.utils.translation import get_language

        english = (get_language() or "ja").startswith("en")
    out = []
    for key, n in sorted((mix or {}).items(), key=lambda kv: (-kv[1], kv[0])):
        kind, _sep, action = key.partition(":") if ":" in key else ("", "", key)
        counter = (KIND_COUNTERS_EN if english else KIND_COUNTERS).get(kind, "" if english else "件")
        kind_text = f"{label('kind', kind)} " if kind else ""
        sep = " " if english else ""
        out.append(f"{kind_text}{label('action', action)} {n:,}{sep}{counter}".strip())
    return out


def progress_text(status: str, progress: int, message: str) -> str:
    """A job's state as people read it (core.jobs.progress_text): 実行中 20%（劣化の推計）, 完了."""
    from core.jobs import progress_text as text

    return text(status, progress, message)


@dataclass(frozen=True)
class ParamLabel:
    """One engine parameter as a person sets it: its name in both languages, unit, and allowed range."""

    ja: str
    en: str
    unit: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple = ()

    def text(self) -> str:
        from django.utils.translation import get_language

        return self.en if (get_language() or "ja").startswith("en") else self.ja


P = ParamLabel
# Every clusters.engine.params.Params field (tests/clusters/test_labels.py checks none is missing). Ranges are
# what the engine accepts sensibly, not legal limits; the region's parameters page and PUT /regions/{slug}/params
# both refuse a value outside them (clusters.param_form.check), a table's values by its parameter's range.
PARAMS: dict[str, ParamLabel] = {
    "horizon_years": P("計画期間", "Planning horizon", "年", 1, 30),
    "lof_action_threshold": P("対策を要する劣化確率", "Failure likelihood that triggers action", "", 0.01, 1),
    "default_hazards": P("既定の劣化ハザード（点検データ不足時）", "Default hazards (too few inspections)", "/年", 0, 1),
    "weights": P("影響度の重み", "Consequence weights", "", 0, 10),
    "cost_pavement_resurface_m2": P("舗装 表層打換え単価", "Pavement resurfacing unit cost", "円/m²", 0, 1e6),
    "cost_pavement_rebuild_m2": P("舗装 打換え単価", "Pavement rebuilding unit cost", "円/m²", 0, 1e6),
    "cost_bridge_repair_m2": P("橋梁 補修単価", "Bridge repair unit cost", "円/m²", 0, 1e7),
    "cost_bridge_renew_m2": P("橋梁 架替え単価", "Bridge renewal unit cost", "円/m²", 0, 1e7),
    "cost_pipe_renew_base_m": P("管渠 布設替え 基本単価", "Pipe open-cut renewal base cost", "円/m", 0, 1e7),
    "cost_pipe_renew_per_mm_m": P("管渠 布設替え 口径加算", "Pipe open-cut renewal cost per mm", "円/(m·mm)", 0, 1e5),
    "cost_pipe_rehab_base_m": P("管更生 基本単価", "Pipe rehabilitation base cost", "円/m", 0, 1e7),
    "cost_pipe_rehab_per_mm_m": P("管更生 口径加算", "Pipe rehabilitation cost per mm", "円/(m·mm)", 0, 1e5),
    "cost_pipe_repair_share": P("管渠 補修費の更新費に対する割合", "Pipe repair cost as share of renewal", "", 0, 1),
    "cost_manhole_rehab": P("マンホール 改築単価", "Manhole rehabilitation cost", "円/基", 0, 1e8),
    "cost_septic_replace_per_person": P("浄化槽 入替え単価（人槽当たり）", "Septic tank replacement per person", "円/人",
                                        0, 1e7),
    "cost_septic_repair": P("浄化槽 補修単価", "Septic tank repair cost", "円/基", 0, 1e8),
    "septic_single_renew_age": P("単独処理浄化槽の転換年数", "Age of single tanks to convert", "年", 0, 100),
    "mobilization_per_contract": P("1契約当たりの共通仮設・諸経費", "Mobilization per contract", "円", 0, 1e12),
    "trench_width_m": P("掘削幅", "Trench width", "m", 0, 10),
    "pipe_open_cut_max_depth_m": P("開削とする最大土被り", "Deepest pipe renewed by open cut", "m", 0, 20),
    "pipe_rehab_max_diameter_mm": P("管更生の最大口径", "Largest pipe rehabilitated", "mm", 0, 10000),
    "cluster_distance_m": P("工区にまとめる距離", "Distance that joins works into one lot", "m", 10, 5000),
    "max_lot_members": P("1工区の最大施設数", "Most works in one lot", "件", 2, 5000),
    "lot_cell_m": P("大きな工区を分ける区画", "Cell size that splits large lots", "m", 10, 100000),
    "metric_srid": P("距離計算の平面直角座標系（EPSG）", "Plane coordinate system for distances (EPSG)", "", 2443,
                     6693),
    "objective": P("順位付けの基準", "Ranking objective", "", choices=("risk_per_yen", "risk_removed", "saving")),
    "annualization": P("年換算の方法", "How one-time costs become yearly", "", choices=("years", "crf")),
    "discount_rate": P("割引率", "Discount rate", "/年", 0, 0.2),
    "sewer_life_years": P("管渠の耐用年数", "Sewer pipe life", "年", 1, 150),
    "sewer_om_per_m_year": P("管渠の維持管理費", "Sewer pipe upkeep", "円/(m·年)", 0, 1e6),
    "sewer_treatment_om_per_household_year": P("処理場・ポンプ場の維持管理費（世帯当たり）",
                                               "Treatment upkeep per household", "円/(世帯·年)", 0, 1e7),
    "sewer_treatment_om_per_m3": P("処理場の維持管理費（m³当たり、0で世帯当たりを使用）",
                                   "Treatment upkeep per m³ (0: per household)", "円/m³", 0, 1e4),
    "sewage_m3_per_person_day": P("生活汚水量原単位", "Sewage per person and day", "m³/(人·日)", 0, 2),
    "septic_install_per_household": P("合併処理浄化槽 設置費（世帯当たり）", "Combined septic tank installed, per household",
                                      "円/世帯", 0, 1e8),
    "septic_life_years": P("浄化槽の耐用年数", "Septic tank life", "年", 1, 100),
    "septic_om_per_household_year": P("浄化槽の維持管理費", "Septic tank upkeep", "円/(世帯·年)", 0, 1e7),
    "septic_replumb_per_household": P("宅内配管の切替え費", "Re-plumbing per household", "円/世帯", 0, 1e8),
    "septic_removal_per_household": P("取付管・ますの撤去費", "Closing the old connection, per household", "円/世帯",
                                      0, 1e8),
    "sewer_abandon_per_m": P("廃止管の充填費", "Filling an abandoned pipe", "円/m", 0, 1e7),
    "catchment_width_m": P("管路沿いの集水幅", "Catchment width along a branch", "m", 0, 1000),
    "persons_per_household": P("1世帯当たり人員", "Persons per household", "人", 0.5, 10),
    "bridge_removal_min_state": P("撤去を検討する健全度（Ⅰ=0…Ⅳ=3）", "Bridge state that screens for removal (Ⅰ=0…Ⅳ=3)",
                                  "", 0, 3),
    "bridge_removal_max_traffic": P("撤去を検討する最大交通量", "Most traffic on a bridge screened for removal",
                                    "台/日", 0, 1e6),
    "bridge_removal_max_detour_m": P("探索する迂回路の最大延長", "Longest detour looked for", "m", 0, 1e5),
    "cost_bridge_removal_m2": P("橋梁 撤去単価", "Bridge removal unit cost", "円/m²", 0, 1e7),
    "bridge_life_years": P("橋梁の耐用年数", "Bridge life", "年", 1, 200),
    "bridge_repair_state": P("補修を行う健全度（Ⅰ=0…Ⅳ=3）", "State at which a bridge is repaired (Ⅰ=0…Ⅳ=3)", "", 1, 3),
    "bridge_inspection_interval_years": P("定期点検の間隔", "Inspection interval", "年", 1, 20),
    "cost_bridge_inspection": P("定期点検費（1橋当たり）", "Inspection cost per bridge", "円", 0, 1e8),
    "bridge_om_per_m2_year": P("橋梁のその他維持費", "Other bridge upkeep", "円/(m²·年)", 0, 1e6),
    "detour_cost_per_vehicle_km": P("迂回の走行・時間費用", "Detour cost per vehicle-km", "円/(台·km)", 0, 10000),
    "lcc_period_years": P("LCC 比較期間", "Life-cycle cost period", "年", 1, 200),
    "network_snap_m": P("道路端点を同一交差点とみなす距離", "Road ends this close meet", "m", 0, 100),
    "reference_road_join_m": P("参照道路に接続する距離", "Distance that joins reference roads", "m", 0, 1000),
    "septic_group_distance_m": P("古い浄化槽をまとめる距離", "Distance that groups old septic tanks", "m", 1, 10000),
    "septic_group_min_tanks": P("まとめる浄化槽の最少基数", "Fewest tanks in a group", "基", 1, 1000),
    "contractor_reach_m": P("1業者がまとめて施工できる距離", "Contractor's reach for joining single works", "m", 0, 50000),
    "structure_costs": P("トンネル・シェッド・横断歩道橋・門型標識の補修・更新単価",
                         "Road structure repair and renewal costs",
                         "円/m²・円/基", 0, 1e8),
    "septic_subsidy_share": P("個人設置型浄化槽の市町村補助率", "Municipal subsidy share for private septic tanks", "",
                              0, 1),
    "septic_subsidy_share_by_municipality": P("個人設置型浄化槽の市町村補助率（市町村別）",
                                              "Municipal subsidy share by municipality", "", 0, 1),
    "budget_by_municipality": P("年度予算（市町村別）", "Yearly budget by municipality", "円/年度", 0, 1e12),
    "interim_measures": P("予算が間に合わない間の応急措置", "Interim measures while unfunded", ""),
    "unknown_built_age_years": P("建設年度が不明な施設の経過年数（同種の中央値もない場合）",
                                 "Age assumed when no built year is known", "年", 0, 150),
    "unknown_diameter_mm": P("管径が不明な管渠の管径", "Diameter assumed for a pipe without one", "mm", 50, 12000),
    "unknown_septic_capacity": P("人槽が不明な浄化槽の人槽", "Capacity assumed for a septic tank without one", "人",
                                 1, 1000),
    "unknown_sizes": P("延長・幅員が不明な施設の既定値（同種の中央値もない場合）",
                       "Length and width assumed when none is known", "m", 0.1, 100000),
}
del P


def param_value(name: str, value) -> str:
    """A parameter's value as people read it: a choice by its label, a number with separators and its unit."""
    from django.utils.translation import get_language

    from core.formatting import grouped

    p = PARAMS.get(name)
    if isinstance(value, str):
        return label("choice", value)
    if name == "unknown_sizes" and isinstance(value, dict):  # by kind: 延長 and 幅員
        words = {"length_m": "延長", "width_m": "幅員"} if not (get_language() or "ja").startswith("en") else {
            "length_m": "length", "width_m": "width"}
        return "・".join(f"{label('kind', k)} " + " ".join(f"{words.get(f, f)} {grouped(x, 1)} m" for f, x in v.items())
                        for k, v in value.items())
    if isinstance(value, dict):  # weights by component; hazards by grading scheme; interim measures by kind
        group = {"weights": "component", "interim_measures": "kind"}.get(name)
        return "・".join(f"{label(group, k) if group else k} {v}" for k, v in value.items())
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—" if value is None else str(value)
    digits = 0 if float(value).is_integer() else min(len(repr(float(value)).split(".")[1]), 4)
    return f"{grouped(value, digits)}{(' ' + p.unit) if p and p.unit else ''}"


def param_label(name: str) -> str:
    """A parameter's name in the reader's language, with its unit: 工区にまとめる距離（m）."""
    p = PARAMS.get(name)
    if p is None:
        return name
    return f"{p.text()}（{p.unit}）" if p.unit else p.text()
