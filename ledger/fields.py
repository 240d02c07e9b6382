"""What a ledger column can mean: the registry field, how its cells are read, and the headers municipal
ledgers use for it (道路台帳, 下水道台帳, 浄化槽台帳, 橋梁台帳). A saved mapping overrides these per owner,
kind and source."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from assets.kinds import KINDS
from core.text import HeaderNames, bare_key, header_key


@dataclass(frozen=True)
class LedgerField:
    name: str  # "external_id", "built_fiscal_year", "detail.diameter_mm", "lon", …
    parse: str  # text | year | number | positive | integer | flag | choice | code
    headers: tuple[str, ...] = ()
    max_length: int | None = None  # text: the column's length
    lo: float | None = None  # numbers: the allowed range (the column's type and what makes sense)
    hi: float | None = None


# What makes sense for an attribute, narrower than its column: a 管径 of 99,999,999,999 mm or a 人槽 of 40,000
# is a typing slip, not a pipe or a tank. Generous: the largest real ones fit with room to spare.
DOMAIN_RANGE = {
    "length_m": (None, 100_000.0),  # 100 km: longer than any road section, bridge, tunnel or pipe run
    "height_m": (None, 100.0),
    "width_m": (None, 500.0),
    "deck_area_m2": (None, 1_000_000.0),
    "detour_length_m": (None, 1_000_000.0),
    "traffic_volume": (0, 1_000_000),
    "span_count": (1, 1_000),
    "diameter_mm": (1, 12_000),  # shield-driven trunk sewers reach about 11 m
    "cover_depth_m": (None, 200.0),
    "depth_m": (None, 200.0),
    "cover_installed_fy": (1868, 2100),
    "capacity_persons": (1, 30_000),
    "households_served": (0, 30_000),
    "house_connections": (0, 5_000),  # 取付管 on one pipe span: a long street of flats stays far below
}


def bounds(model_field) -> tuple[float | None, float | None]:
    """The allowed range of a numeric model field: its validators (for integer fields Django adds the range of
    the database column to them), narrowed by DOMAIN_RANGE."""
    lo = hi = None
    for v in model_field.validators:
        limit = getattr(v, "limit_value", None)
        limit = limit() if callable(limit) else limit
        if isinstance(limit, int | float) and v.code == "min_value":
            lo = limit if lo is None else max(lo, limit)
        elif isinstance(limit, int | float) and v.code == "max_value":
            hi = limit if hi is None else min(hi, limit)
    d_lo, d_hi = DOMAIN_RANGE.get(model_field.name, (None, None))
    if d_lo is not None:
        lo = d_lo if lo is None else max(lo, d_lo)
    if d_hi is not None:
        hi = d_hi if hi is None else min(hi, d_hi)
    return lo, hi


CORE = (
    LedgerField("external_id", "text", ("external_id", "台帳番号", "管理番号", "施設番号", "施設id", "管渠番号",
                                        "管路番号", "橋梁id", "橋梁番号", "路線番号", "区間番号", "マンホール番号",
                                        "人孔番号", "mh番号", "浄化槽番号", "設置番号", "id")),
    LedgerField("name", "text", ("name", "名称", "施設名", "施設名称", "橋梁名", "橋梁名称", "橋名", "路線名称", "区間名",
                                 "トンネル名", "トンネル名称")),
    # A code (5 or 6 digits) or the municipality's name (八潮市, 埼玉県八潮市): names are looked up, in scope.
    LedgerField("owner", "code", ("owner", "団体コード", "管理者コード", "市町村コード", "自治体コード", "市町村",
                                  "市町村名", "団体名", "自治体名", "自治体")),
    # Inspection results a ledger carries beside the assets (issue 16): recorded as inspections, once.
    LedgerField("inspected_on", "text", ("inspected_on", "点検年月日", "点検日", "点検実施日")),
    LedgerField("inspection_fy", "year", ("inspection_fy", "点検年度", "点検実施年度")),
    LedgerField("grade", "text", ("grade", "判定区分", "健全性", "緊急度", "判定", "診断区分", "判定結果")),
    LedgerField("built_fiscal_year", "year", ("built_fiscal_year", "布設年度", "敷設年度", "架設年度", "設置年度",
                                              "建設年度", "供用開始年度", "竣工年度", "整備年度", "年度", "架設年",
                                              "設置年月日", "竣工年", "建設年")),
    LedgerField("built_year_text", "text", ("built_year_text", "建設年度(原表記)", "年度(原表記)")),
    LedgerField("serves_important_facility", "flag", ("serves_important_facility", "重要施設", "重要施設接続")),
    LedgerField("lon", "number", ("lon", "longitude", "経度", "x(経度)")),
    LedgerField("lat", "number", ("lat", "latitude", "緯度", "y(緯度)")),
    # Plane rectangular coordinates: X is northing, Y easting (domain.md).
    LedgerField("plane_x", "number", ("plane_x", "x座標", "x座標(m)", "x")),
    LedgerField("plane_y", "number", ("plane_y", "y座標", "y座標(m)", "y")),
    LedgerField("wkt", "text", ("wkt", "geometry", "geom", "形状", "形状(wkt)")),
    # Pipes and road links: start and end points (manholes, nodes), lon/lat or plane X (north) / Y (east).
    LedgerField("lon0", "number", ("lon0", "始点経度", "上流経度")),
    LedgerField("lat0", "number", ("lat0", "始点緯度", "上流緯度")),
    LedgerField("lon1", "number", ("lon1", "終点経度", "下流経度")),
    LedgerField("lat1", "number", ("lat1", "終点緯度", "下流緯度")),
    LedgerField("plane_x0", "number", ("plane_x0", "始点x", "始点x座標", "上流x座標")),
    LedgerField("plane_y0", "number", ("plane_y0", "始点y", "始点y座標", "上流y座標")),
    LedgerField("plane_x1", "number", ("plane_x1", "終点x", "終点x座標", "下流x座標")),
    LedgerField("plane_y1", "number", ("plane_y1", "終点y", "終点y座標", "下流y座標")),
)

DETAIL_HEADERS = {
    "road_class": ("road_class", "道路種別", "道路区分", "路線種別", "路線区分"),
    "route_name": ("route_name", "路線名"),
    "is_emergency_route": ("is_emergency_route", "緊急輸送道路"),
    "length_m": ("length_m", "延長", "延長(m)", "管路延長", "管渠延長", "橋長", "橋長(m)", "区間延長", "トンネル延長",
                 "トンネル延長(m)", "施設延長"),
    "width_m": ("width_m", "幅員", "幅員(m)", "全幅員", "道路幅員"),
    "pavement_type": ("pavement_type", "舗装種別", "舗装", "舗装種類", "路面種別"),
    "traffic_volume": ("traffic_volume", "交通量", "交通量(台/日)", "日交通量"),
    "deck_area_m2": ("deck_area_m2", "橋面積", "橋面積(m2)"),
    "structure_type": ("structure_type", "構造形式", "上部構造形式", "橋梁形式", "橋種", "上部工形式", "形式"),
    "span_count": ("span_count", "径間数"),
    "crosses": ("crosses", "交差物", "交差物件", "交差物件種別", "交差条件", "跨越物"),
    "crosses_name": ("crosses_name", "交差物件名", "河川名"),
    "detour_length_m": ("detour_length_m", "迂回路延長", "迂回延長"),
    # Tunnels, sheds/culverts, overpasses, gantry signs (assets.RoadStructure; the bridge's 構造形式 is structure_type).
    "height_m": ("height_m", "建築限界高", "建築限界高(m)", "有効高", "有効高(m)", "内空高", "内空高(m)"),
    "structure_form": ("structure_form", "構造形式", "工法", "形式"),
    "drainage_system": ("drainage_system", "排除方式"),
    "material": ("material", "管種", "管材", "管材質", "管きょ材質"),
    "diameter_mm": ("diameter_mm", "管径", "管径(mm)", "口径"),
    "cover_depth_m": ("cover_depth_m", "土被り", "土被り(m)"),
    "is_trunk": ("is_trunk", "幹線"),
    "is_regional": ("is_regional", "流域下水道"),
    "is_corrosion_prone": ("is_corrosion_prone", "腐食環境", "腐食のおそれ"),
    "house_connections": ("house_connections", "取付管数", "取付管本数", "取付け管数", "取付け管本数", "取付管",
                          "取付管数(本)", "取付管(本)", "取付管(箇所)", "取付管箇所数"),
    "renewal_method": ("renewal_method", "施工方法", "更生工法", "改築工法", "改築方法"),
    "manhole_type": ("manhole_type", "人孔種別", "マンホール種別"),
    "depth_m": ("depth_m", "深さ", "人孔深", "深さ(m)"),
    "cover_type": ("cover_type", "蓋種別", "鉄蓋種別"),
    "treatment": ("treatment", "処理方式区分", "合併単独", "単独/合併", "合併/単独", "合併・単独", "処理区分",
                  "浄化槽区分"),
    "capacity_persons": ("capacity_persons", "人槽", "処理対象人員"),
    "households_served": ("households_served", "世帯数", "戸数"),
    "ownership": ("ownership", "設置主体", "所有区分"),
    "in_sewer_planning_area": ("in_sewer_planning_area", "下水道計画区域内"),
    "treatment_method": ("treatment_method", "処理方式", "処理方法", "型式"),
}

# A header that only equals one of these names means that field; inside a decorated header they say too little
# (「点検年度」 is no 年度 of construction, 「河川名称」 no asset name).
EXACT_ONLY = {"年度", "名称", "形式", "番号", "id", "x", "y", "舗装", "深さ", "幹線", "取付管", "戸数", "型式"}
# A decoration holding one of these names another thing than the field: the upstream manhole's number is not
# the pipe's, the last inspection's year is not the year built.
QUALIFIERS = ("上流", "下流", "始点", "終点", "起点", "点検", "補修", "修繕", "前回", "次回", "更新", "迂回", "旧", "予定",
              "開始", "廃止", "下部", "基礎", "取付", "カナ", "かな", "フリガナ", "ふりがな", "よみ", "読み")


def __getattr__(name):
    if name == "CHOICE_WORDS":  # the spellings now live in fixtures/ledger/vocabularies.json
        from ledger.vocabularies import choice_words

        return choice_words()
    raise AttributeError(name)


def _core() -> dict[str, LedgerField]:
    """The core fields with the limits of their Asset columns."""
    from dataclasses import replace

    from assets.models import Asset

    out = {}
    for f in CORE:
        try:
            mf = Asset._meta.get_field(f.name)
        except Exception:  # lon, lat, wkt, …: read into a geometry, not stored as they are
            out[f.name] = f
            continue
        out[f.name] = replace(f, max_length=getattr(mf, "max_length", None), **(
            dict(zip(("lo", "hi"), bounds(mf), strict=True)) if f.parse == "integer" else {}))
    return out


def fields_for(kind: str) -> dict[str, LedgerField]:
    """Every importable field of a kind, by name, with the parser its model field calls for and its limits."""
    model = KINDS[kind].detail_model
    out = _core()
    for f in model._meta.concrete_fields:
        if f.name in ("asset",) or f.is_relation:
            continue
        internal = f.get_internal_type()
        if f.choices:
            parse = "choice"
        elif internal == "BooleanField":
            parse = "flag"
        elif internal in ("PositiveSmallIntegerField", "IntegerField", "PositiveIntegerField"):
            parse = "integer"
        elif internal == "FloatField":
            parse = "positive" if f.validators else "number"
        else:
            parse = "text"
        lo, hi = bounds(f) if parse in ("integer", "number", "positive") else (None, None)
        if parse == "positive" and lo == 0:
            lo = None  # "positive" already means more than 0
        out[f"detail.{f.name}"] = LedgerField(f"detail.{f.name}", parse, DETAIL_HEADERS.get(f.name, (f.name,)),
                                              max_length=getattr(f, "max_length", None), lo=lo, hi=hi)
    return out


def header_lookup(kind: str, saved: dict[str, str] | None = None) -> dict[str, str]:
    """{header key: field} for `core.text.find_header`: the known headers of the kind's fields, overridden by a
    saved mapping ({ledger header: field}; "" to ignore a column)."""
    known = {header_key(alias): name for name, fld in fields_for(kind).items() for alias in fld.headers}
    return known | {header_key(h): f for h, f in (saved or {}).items()}


def header_names(kind: str, saved: dict[str, str] | None = None) -> HeaderNames:
    """The known headers, exact and inside decorated headers (`core.text.HeaderNames`), and a saved mapping.
    Ids are matched exactly only: a decorated id column is more often another thing's id."""
    exact = header_lookup(kind, saved)
    exact |= {bare_key(h): f for h, f in (saved or {}).items()}
    loose = {bare_key(alias): name for name, fld in fields_for(kind).items() for alias in fld.headers
             if name != "external_id" and not alias.isascii() and len(bare_key(alias)) >= 2
             and alias not in EXACT_ONLY}
    return HeaderNames(exact, loose, QUALIFIERS)


def known_keys(kind: str) -> dict[str, str]:
    """{bare key: field} of every known header of the kind, for suggestions."""
    return {bare_key(alias): name for name, fld in fields_for(kind).items() for alias in fld.headers}


def field_label(kind: str, name: str) -> str:
    """A field as the upload page names it: the model field's verbose name (Japanese under ja)."""
    from assets.models import Asset

    short = name.removeprefix("detail.")
    model = KINDS[kind].detail_model if name.startswith("detail.") else Asset
    try:
        return str(model._meta.get_field(short).verbose_name)
    except Exception:
        return str(CORE_LABELS.get(name, name))


CORE_LABELS = {
    "external_id": _("ledger id"), "owner": _("municipality"), "lon": _("longitude"), "lat": _("latitude"),
    "plane_x": _("plane X (northing)"), "plane_y": _("plane Y (easting)"), "wkt": _("geometry (WKT)"),
    "lon0": _("start longitude"), "lat0": _("start latitude"), "lon1": _("end longitude"), "lat1": _("end latitude"),
    "plane_x0": _("start plane X"), "plane_y0": _("start plane Y"), "plane_x1": _("end plane X"),
    "plane_y1": _("end plane Y"), "built_year_text": _("year as written"),
}
