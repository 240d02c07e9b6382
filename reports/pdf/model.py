"""What a maintenance-plan PDF says, as plain data: the renderer takes this and nothing else."""

from dataclasses import dataclass, field

Ring = list[tuple[float, float]]  # (lon, lat)


@dataclass
class Area:
    name: str
    rings: list[Ring]
    highlighted: bool = False


@dataclass
class ClusterRow:
    id: int
    rank: int
    key: str
    work_type: str
    members: int
    municipalities: list[str]
    cost: float  # yen
    saving: float
    risk_removed: float
    per_myen: float
    action_mix: dict
    drivers: dict
    rings: list[Ring]
    fiscal_year: int | None = None
    consolidation: dict = field(default_factory=dict)
    owner_cost: float = 0.0  # 設置者負担（参考）: owners of 個人設置型 tanks; not in `cost`
    name: str = ""  # the lot's name (e.g. 下水道-012（八潮市・草加市）); empty: its key


@dataclass
class Member:
    global_id: str
    kind: str
    name: str
    owner: str
    action: str
    cost: float
    grade: str
    risk: float
    lon: float
    lat: float


@dataclass
class ClusterPage:
    row: ClusterRow
    shares: list[tuple[str, float]]  # (municipality name, yen)
    members: list[Member]
    member_total: int


@dataclass
class MeasureRate:
    """措置着手率 / 措置完了率 of one asset kind (道路メンテナンス年報 style), for the section on measures."""

    kind: str  # kind label, or 計
    judged: int
    started: int
    completed: int
    interim_only: int


@dataclass
class Quantity:
    """対象施設: one kind's stock in the units its plans use (橋数・橋面積, 延長・面積, 延長 by 管径, 基数・人槽)."""

    kind: str
    count: int
    unit: str  # 橋, 区間, 本, 基
    measures: list[tuple[str, str]] = field(default_factory=list)  # (label, value with unit)


@dataclass
class Aging:
    """老朽化率: the share of a kind's assets (known 年度 only) 50 years old or more, now and 10 and 20 years on."""

    kind: str
    known: int
    unknown: int
    now: float
    in10: float
    in20: float


@dataclass
class InspectionRow:
    """点検計画: how and how often a kind is inspected, and how many fall due each 年度 of the plan."""

    kind: str
    method: str
    basis: str
    per_year: list[int]
    overdue: int


@dataclass
class Facility:
    """One row of the per-facility table (個別施設の対策計画), as municipalities publish it for bridges."""

    global_id: str
    name: str
    route: str
    owner: str
    built: str  # 和暦 年度, or 不明
    length_m: float | None
    area_m2: float | None
    grade: str
    inspected: str  # 年度 of the last inspection
    next_inspection: str  # 年度 of the next
    measure: str
    measure_year: str
    cost: float  # yen, the owner's


@dataclass
class LotLine:
    """Pipes, roads and septic tanks are planned per lot (群) and route: one line per lot and kind."""

    lot: str
    kind: str
    route: str
    quantity: str  # 延長 1.23 km, 12 基・84 人槽
    measure: str
    measure_year: str
    cost: float  # yen, this scope's share


@dataclass
class LotShare:
    """A lot shared by municipalities, with each one's share of its cost (yen)."""

    lot: str
    work: str
    members: int
    measure_year: str
    total: float
    shares: list[tuple[str, float]]


@dataclass
class PlanDocument:
    title: str
    scope: str  # the region, or the municipality within it
    region: str
    lead: str
    generated_on: str  # 和暦 date
    period: str  # e.g. 令和9年度〜令和18年度
    run_id: int
    data_timestamp: str
    counts: list[tuple[str, int]]  # kind label, assets
    conditions: list[tuple[str, list[tuple[str, int]]]]  # kind label → [(grade label, assets)]
    ages: list[tuple[str, list[int]]]  # kind label → assets per age band
    age_bands: list[str]
    areas: list[Area]
    clusters: list[ClusterRow]
    pages: list[ClusterPage]
    fiscal_years: list[int]
    strategy: str  # label of the chosen strategy
    scenarios: list[dict]
    main: int | None
    sewer_septic: list[dict]
    bridges: list[dict]
    septic_groups: list[dict]
    hazards: dict
    params: list[tuple[str, str]]
    method: list[str]
    credit: str
    plan_id: int = 0
    # Legal deadlines: the urgent list (Ⅳ/Ⅲ bridges, 緊急度Ⅰ), the counts behind it, the chosen scenario's
    # shortfall, and the 縮減額 of 予防保全 against 事後保全. Text is already Japanese; no codes.
    urgent: list[dict] = field(default_factory=list)  # kind, name, owner, grade, due, deadline, scheduled/interim
    urgent_summary: list[dict] = field(default_factory=list)  # kind, grade, count, scheduled in time, short
    legal: dict = field(default_factory=dict)
    shortfall: list[dict] = field(default_factory=list)
    reduction: dict | None = None
    measure_rates: list[MeasureRate] = field(default_factory=list)
    # Septic tanks: owners' part (設置者負担（参考）), 接続指導 cases (下水道法10条), lapsed 保守点検/清掃 (浄化槽法10条)
    # and the 不適正 improvement guidance (浄化槽法12条, not a legal deadline): the run's summary as it stands.
    septic: dict = field(default_factory=dict)
    # The 個別施設計画 itself (行動計画 → 個別施設計画): who writes it, its own text, what it covers, how old and in
    # what state, when it is inspected, each facility's measure and 年度, shares of shared lots, 体制 and review.
    author: str = ""  # the municipality for its own plan, the lead body for the region's; empty: `lead`
    municipal: bool = False
    department: str = ""
    purpose: list[str] = field(default_factory=list)
    review_year: str = ""
    new_technology: str = ""
    new_technology_target: str = ""
    consolidation_target: str = ""
    quantities: list[Quantity] = field(default_factory=list)
    aging: list[Aging] = field(default_factory=list)
    inspections: list[InspectionRow] = field(default_factory=list)
    facilities: list[Facility] = field(default_factory=list)
    lot_lines: list[LotLine] = field(default_factory=list)
    lot_shares: list[LotShare] = field(default_factory=list)
    # データの充足状況 (issue 16): the run's completeness rows for the plan's municipalities (ledger.completeness).
    completeness: list[dict] = field(default_factory=list)
