"""The region's parameters page: which engine parameters a coordinator edits there, with their Japanese label,
unit and allowed range. Kept minimal on purpose: the lot-names branch adds clusters/labels.py with a label for
every Params field; once merged, take the labels from there and keep only the ranges here."""

from dataclasses import dataclass

from clusters.engine.params import Params


@dataclass(frozen=True)
class Field:
    key: str  # a Params field, "weights.<component>" or "budget.<municipality code>"
    label: str
    unit: str
    lo: float
    hi: float
    integer: bool = False
    group: str = ""


YEN_UNIT = 1_000_000_000_000  # a trillion yen: no municipal unit cost or budget reaches it

FIELDS = [
    Field("horizon_years", "評価期間", "年", 1, 30, integer=True, group="評価"),
    Field("lof_action_threshold", "対策を行う劣化確率のしきい値", "（0〜1）", 0.01, 1.0, group="評価"),
    Field("cluster_distance_m", "工区にまとめる距離", "m", 10, 5000, group="工区"),
    Field("max_lot_members", "1工区の最大施設数", "件", 2, 5000, integer=True, group="工区"),
    Field("mobilization_per_contract", "1契約あたりの共通費（準備・仮設）", "円", 0, YEN_UNIT, group="工区"),
    Field("cost_pavement_resurface_m2", "舗装 切削オーバーレイ単価", "円/m²", 0, 1_000_000, group="単価"),
    Field("cost_pavement_rebuild_m2", "舗装 打換え単価", "円/m²", 0, 1_000_000, group="単価"),
    Field("cost_bridge_repair_m2", "橋梁 補修単価", "円/m²", 0, 10_000_000, group="単価"),
    Field("cost_bridge_renew_m2", "橋梁 架替え単価", "円/m²", 0, 10_000_000, group="単価"),
    Field("cost_pipe_renew_base_m", "管渠 布設替え 基本単価", "円/m", 0, 10_000_000, group="単価"),
    Field("cost_pipe_rehab_base_m", "管渠 更生 基本単価", "円/m", 0, 10_000_000, group="単価"),
    Field("cost_manhole_rehab", "マンホール 改築単価", "円/箇所", 0, 100_000_000, group="単価"),
    Field("cost_septic_repair", "浄化槽 補修単価", "円/基", 0, 100_000_000, group="単価"),
]
WEIGHT_LABELS = {"traffic": "交通量", "emergency_route": "緊急輸送道路", "served": "処理人口・管径", "depth": "土被り",
                 "road_above": "上部道路", "important_facility": "重要施設", "detour": "迂回距離"}
WEIGHT_RANGE = (0.0, 10.0)
BUDGET_RANGE = (0.0, float(YEN_UNIT))


def fields_for(members: list[tuple[str, str]]) -> list[Field]:
    """Every field of the page for a region with these members (code, name)."""
    out = list(FIELDS)
    out += [Field(f"weights.{k}", f"重み：{label}", "（0〜10）", *WEIGHT_RANGE, group="重み")
            for k, label in WEIGHT_LABELS.items()]
    out += [Field(f"budget.{code}", f"年度予算：{name}", "円/年度", *BUDGET_RANGE, group="予算")
            for code, name in members]
    return out


def value_of(params: Params, key: str):
    if key.startswith("weights."):
        return params.weights.get(key.split(".", 1)[1])
    if key.startswith("budget."):
        return params.budget_by_municipality.get(key.split(".", 1)[1])
    return getattr(params, key)


def label_of(key: str) -> str:
    """The Japanese label of a Params key (for the compare page); the key itself when the page has none."""
    for f in FIELDS:
        if f.key == key:
            return f.label
    return {"weights": "重み", "budget_by_municipality": "年度予算（市町村別）"}.get(key, key)
