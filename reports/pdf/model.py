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
    # データの充足状況 (issue 16): the run's completeness rows for the plan's municipalities (ledger.completeness).
    completeness: list[dict] = field(default_factory=list)
