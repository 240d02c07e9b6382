"""Engine parameters with documented defaults. A run freezes a copy; a region may override any value.

Unit costs are planning-level defaults in yen (order of magnitude from published municipal plans), meant to
be replaced by each region's own figures; hazards are fallbacks for kinds with fewer than 50 inspection pairs."""

from dataclasses import asdict, dataclass, field, fields

ANNUALIZATIONS = ("years", "crf")  # see Params.annualization


@dataclass
class Params:
    horizon_years: int = 10
    lof_action_threshold: float = 0.3  # act when P(worst state within the horizon) reaches this
    # Fallback hazards per scheme (per year, best state first); replaced by estimates where data allow.
    default_hazards: dict = field(default_factory=lambda: {
        "bridge_kenzen": [1 / 20, 1 / 60, 1 / 30],
        "pavement_shindan": [1 / 10, 1 / 12, 1 / 15],
        "sewer_kinkyu": [1 / 35, 1 / 40, 1 / 30],
        "manhole_kinkyu": [1 / 40, 1 / 45, 1 / 35],
        "septic_hantei": [1 / 15, 1 / 10],
    })
    # Consequence: weighted components, each scored 0–5.
    weights: dict = field(default_factory=lambda: {
        "traffic": 1.0, "emergency_route": 1.5, "served": 1.0, "depth": 0.5, "road_above": 1.0,
        "important_facility": 1.5, "detour": 1.0,
    })
    # Unit costs (yen).
    cost_pavement_resurface_m2: float = 6_000
    cost_pavement_rebuild_m2: float = 15_000
    cost_bridge_repair_m2: float = 250_000
    cost_bridge_renew_m2: float = 700_000
    cost_pipe_renew_base_m: float = 100_000  # open cut (開削・布設替え) incl. reinstating the trench
    cost_pipe_renew_per_mm_m: float = 150
    cost_pipe_rehab_base_m: float = 60_000  # 管更生 (lining from the manholes, no trench)
    cost_pipe_rehab_per_mm_m: float = 180
    cost_pipe_repair_share: float = 0.3
    cost_manhole_rehab: float = 1_500_000
    cost_septic_replace_per_person: float = 200_000
    cost_septic_repair: float = 200_000
    # Who pays for a septic tank (domain.md §7): a 個人設置型 (ownership private) tank is its owner's; the municipality
    # pays only its 補助 share of the repair or conversion, this share of the cost, and the owner the rest (carried
    # as owner_cost, 設置者負担（参考）, never in the plan's totals). A 市町村設置型 tank is the municipality's in full.
    # 0.4 is a planning-level figure (unverified: 補助 schemes differ by municipality and by measure); a
    # municipality's own share goes in septic_subsidy_share_by_municipality (団体コード → share).
    septic_subsidy_share: float = 0.4
    septic_subsidy_share_by_municipality: dict = field(default_factory=dict)
    septic_single_renew_age: float = 30.0  # 単独処理 tanks this old are to be converted to 合併処理
    # Bundling: one mobilization per contract; digging once saves the road reinstatement over the trench.
    mobilization_per_contract: float = 3_000_000
    trench_width_m: float = 2.0
    # A pipe's renewal method, where its ledger (施工方法) does not say: 管更生 when the pipe lies at least
    # pipe_open_cut_max_depth_m deep (a deeper trench needs heavy shoring and a long road closure) and is no wider
    # than pipe_rehab_max_diameter_mm (the 更生工法 — 反転・形成・製管 — reach pipes several metres across);
    # open cut otherwise, or when the depth is unknown. Planning-level defaults: a region sets its own practice.
    # Only an open-cut pipe digs a trench, so only it earns the dig-once saving.
    pipe_open_cut_max_depth_m: float = 3.0
    pipe_rehab_max_diameter_mm: float = 5000
    # Clustering: assets of one work type within this distance form a lot, whoever owns them.
    cluster_distance_m: float = 300.0
    max_lot_members: int = 300  # a chain of works larger than this is cut into square lots …
    lot_cell_m: float = 1000.0  # … of this size
    # A lot of one work alone (nothing else of its type within cluster_distance_m) may still be let together with
    # another such lot this close: one contractor's crew and plant reach both (planning figure, unverified).
    contractor_reach_m: float = 2000.0
    metric_srid: int = 6677  # JGD2011 plane zone used for distances (IX covers Saitama)
    objective: str = "risk_per_yen"
    # Sewer → septic comparison per branch (domain.md §3.6; the three ministries' method as the 都道府県構想策定
    # マニュアル (2014) applies it): only new investment counts. Planning-level defaults, to be replaced by the
    # prefecture's own figures (the 三省 notice lets each body set its own, env.go.jp/hourei/11/000036.html).
    # How one-time costs become yearly ones: "years" divides by the 経済比較の際に参考となる年数 below (the manual's
    # way; whether it discounts is unverified), "crf" applies a capital recovery factor at `discount_rate`.
    annualization: str = "years"
    discount_rate: float = 0.04
    sewer_life_years: float = 50  # 管渠: 地方公営企業法施行規則 別表 (50年); the 使用実績 years are longer (unverified)
    sewer_om_per_m_year: float = 1_000  # pipe upkeep: cleaning, TV surveys, small repairs
    # Treatment plant and pumping stations, per household served and year: about 100 円/m³ of 汚水処理原価 (its
    # 維持管理費 part; Noto's whole 原価 is 150–465 円/m³, domain.md §3.6) × about 200 m³ a household a year.
    sewer_treatment_om_per_household_year: float = 20_000
    # When set (> 0), yen per m³ treated replaces the per-household figure above, with this daily flow a person.
    sewer_treatment_om_per_m3: float = 0.0
    sewage_m3_per_person_day: float = 0.25  # 生活汚水量原単位, 日平均 (unverified planning figure)
    septic_install_per_household: float = 1_000_000  # 合併処理浄化槽 5–7人槽, installed
    septic_life_years: float = 30  # 浄化槽本体: 使用実績 "30年～" (生活排水処理施設整備計画策定マニュアル 2002; unverified)
    septic_om_per_household_year: float = 60_000  # 保守点検・清掃・法定検査 and the blower's power
    septic_replumb_per_household: float = 250_000  # 宅内配管 re-routed from the 公共ます to the tank (unverified)
    septic_removal_per_household: float = 100_000  # the old 取付管・公共ます closed off, or an old tank taken out
    sewer_abandon_per_m: float = 15_000  # the abandoned branch filled (廃止管の充填) so it cannot become a cavity
    # Fallback when a pipe's 取付管数 is unknown (and no buildings are registered): the owner's population density
    # over a strip this wide, in households of this size.
    catchment_width_m: float = 60  # houses on both sides of a branch
    persons_per_household: float = 2.3
    # Bridge removal (役割を終えた橋): screened when in poor condition on a quiet, non-emergency road, then the detour
    # is found on the road network without it and the life-cycle costs are compared.
    bridge_removal_min_state: float = 1.5  # expected state index (Ⅰ=0 … Ⅳ=3): Ⅲ or worse, or close to it
    bridge_removal_max_traffic: float = 500  # vehicles/day on the road it carries
    bridge_removal_max_detour_m: float = 3000  # a longer way round is not looked for
    cost_bridge_removal_m2: float = 150_000  # demolition and abutment works, once, now
    # Keeping it (domain.md §3.5, §7): the repair-based life cycle over lcc_period_years, as present values at
    # discount_rate — a repair (cost_bridge_repair_m2) when the expected deterioration path (§3.1, the Markov
    # hazards) reaches bridge_repair_state, 定期点検 every bridge_inspection_interval_years, and renewal
    # (cost_bridge_renew_m2) only when its age reaches bridge_life_years. Not a full replacement now.
    bridge_life_years: float = 60  # 総務省 耐用年数 for 橋梁 (domain.md §3.3)
    bridge_repair_state: int = 2  # repair on reaching Ⅲ (Ⅰ=0 … Ⅳ=3); 1 for a 予防保全 plan acting at Ⅱ
    bridge_inspection_interval_years: float = 5  # 定期点検 once every five years (道路法施行規則)
    cost_bridge_inspection: float = 500_000  # yen per bridge per 定期点検 (近接目視; planning-level)
    bridge_om_per_m2_year: float = 0  # other upkeep (清掃・排水) per m² a year; the inspections are counted above
    detour_cost_per_vehicle_km: float = 80  # time and running cost (費用便益分析マニュアル order of magnitude)
    lcc_period_years: float = 50  # analysis period of both sides; equivalent annual costs over the same period
    network_snap_m: float = 0.5  # road segment ends this close are one junction
    # Reference roads (国道・都道府県道 the registry does not hold, clusters.ReferenceRoad) join the network where a
    # road end lies within this distance of them: they are digitised at 1:25,000, not from the ledger's survey.
    reference_road_join_m: float = 10.0
    # Groups of old 単独処理 / 不適正 tanks: this close, at least this many, are conversion candidates together.
    septic_group_distance_m: float = 100.0
    septic_group_min_tanks: int = 5

    # Road structures graded by 告示426号 beside bridges: repair / renewal cost as a fixed part plus a rate per m² of
    # footprint (延長 × 幅員). Planning-level figures (unverified), to be replaced by a region's own unit prices.
    structure_costs: dict = field(default_factory=lambda: {
        "tunnel": {"repair_m2": 40_000, "renew_m2": 1_200_000},
        "shed_culvert": {"repair_m2": 150_000, "renew_m2": 600_000},
        "ped_overpass": {"repair_each": 2_000_000, "repair_m2": 250_000, "renew_m2": 800_000},
        "gantry_sign": {"repair_each": 3_000_000, "renew_each": 15_000_000},
    })
    # Plan budgets (yen per 年度) per member municipality (code → yen), the coordinators' figures from the region's
    # parameters page; a plan made from the run uses them unless it names its own budget. Empty: the levelled need.
    budget_by_municipality: dict = field(default_factory=dict)

    # What the engine assumes where a ledger leaves an attribute empty (issue 16; clusters.engine.defaults applies
    # them and flags each asset, shown as 既定値で推計). A built year or size is first the median of the same kind in
    # the same municipality, then in the region; only where neither knows any is the figure below used.
    unknown_built_age_years: float = 30.0  # 年度 before the current one (the engine's old fixed assumption)
    unknown_diameter_mm: float = 250.0  # a typical branch sewer (汚水枝線 200–250 mm; planning figure, unverified)
    unknown_septic_capacity: float = 5.0  # 5人槽, the smallest and commonest household tank
    # Length and width (m) by kind where no asset of the kind in the region has them. A line's length is first
    # its geometry's. Bridges: most municipal bridges are shorter than 15 m (domain.md §1.5); widths are
    # planning figures (unverified).
    unknown_sizes: dict = field(default_factory=lambda: {
        "road_segment": {"length_m": 100.0, "width_m": 5.0},
        "bridge": {"length_m": 15.0, "width_m": 6.0},
        "sewer_pipe": {"length_m": 40.0},
        "tunnel": {"length_m": 100.0, "width_m": 7.0},
        "shed_culvert": {"length_m": 20.0, "width_m": 7.0},
        "ped_overpass": {"length_m": 25.0, "width_m": 2.5},
        "gantry_sign": {"length_m": 15.0, "width_m": 1.0},
    })

    # What a municipality does meanwhile when a legally due measure cannot be funded in time (by asset kind).
    interim_measures: dict = field(default_factory=lambda: {
        "bridge": "通行規制・通行止め（重量制限・監視を含む）",
        "sewer_pipe": "応急措置（部分補修・閉塞防止）と路面の監視",
        "manhole": "応急措置（蓋・躯体の部分補修）",
        "road_segment": "応急措置（パッチング・段差すり付け）と通行注意の表示",
        "septic_tank": "設置者への改善指導と保健所への報告",
        "tunnel": "通行規制・通行止め（うき・はく離の叩き落とし等の応急措置を含む）",
        "shed_culvert": "通行規制・通行止め（応急措置を含む）",
        "ped_overpass": "通行止め（歩行者の迂回誘導）と第三者被害の防止措置",
        "gantry_sign": "落下防止の応急措置と通行規制",
    })

    def subsidy_share(self, municipality: str) -> float:
        """The municipality's 補助 share of a 個人設置型 tank's cost: its own figure, else the default."""
        return float(self.septic_subsidy_share_by_municipality.get(str(municipality), self.septic_subsidy_share))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "Params":
        known = {f.name for f in fields(cls)}
        unknown = set(data or {}) - known
        if unknown:
            raise ValueError(f"unknown parameters: {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(known))}")
        base = cls()
        for key, value in (data or {}).items():
            current = getattr(base, key)
            setattr(base, key, {**current, **value} if isinstance(current, dict) else type(current)(value))
        _check_shares(base)
        if base.annualization not in ANNUALIZATIONS:
            raise ValueError(f"annualization must be one of {', '.join(ANNUALIZATIONS)}, not {base.annualization!r}")
        return base


def _check_shares(p: Params) -> None:
    """補助 shares are fractions of the cost: 0 (the owner pays all) to 1 (the municipality pays all)."""
    def bad(v) -> bool:
        return isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1

    if bad(p.septic_subsidy_share):
        raise ValueError(f"septic_subsidy_share must be a number from 0 to 1, not {p.septic_subsidy_share!r}")
    for code, share in p.septic_subsidy_share_by_municipality.items():
        if bad(share):
            raise ValueError(f"septic_subsidy_share_by_municipality[{code!r}] must be a number from 0 to 1, "
                             f"not {share!r}")
