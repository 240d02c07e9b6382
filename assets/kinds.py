"""The catalogue of asset kinds: what each is called, its id code, its detail model and its geometry."""

from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from assets.models.asset import Kind

LINE = ("LineString", "MultiLineString")
POINT = ("Point",)
AREA = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class KindSpec:
    kind: str
    code: str  # two letters inside global ids: 112348-SP-000123
    detail: str  # "app_label.Model"
    geom_types: tuple[str, ...]

    @property
    def detail_model(self):
        return apps.get_model(self.detail)


KINDS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(Kind.ROAD_SEGMENT, "RD", "assets.RoadSegment", LINE),
        KindSpec(Kind.BRIDGE, "BR", "assets.Bridge", POINT + AREA + LINE),
        KindSpec(Kind.SEWER_PIPE, "SP", "assets.SewerPipe", LINE),
        KindSpec(Kind.MANHOLE, "MH", "assets.Manhole", POINT),
        KindSpec(Kind.SEPTIC_TANK, "ST", "assets.SepticTank", POINT + AREA),
        # 告示426号's other structures share one detail table (assets.RoadStructure) and bridge_kenzen's Ⅰ–Ⅳ.
        KindSpec(Kind.TUNNEL, "TN", "assets.RoadStructure", LINE + POINT),
        KindSpec(Kind.SHED_CULVERT, "SC", "assets.RoadStructure", POINT + LINE + AREA),
        KindSpec(Kind.PED_OVERPASS, "PO", "assets.RoadStructure", POINT + LINE + AREA),
        KindSpec(Kind.GANTRY_SIGN, "GS", "assets.RoadStructure", POINT + LINE),
    )
}
BY_CODE = {spec.code: spec for spec in KINDS.values()}

# Every kind's detail row beside its asset `a`, for set-based SQL over all kinds at once (the engine's read in
# clusters.data, the completeness shares in ledger.completeness): one LEFT JOIN per detail table, each under the
# alias those queries use for its columns.
DETAIL_JOINS = """
LEFT JOIN assets_roadsegment rd ON rd.asset_id = a.id
LEFT JOIN assets_bridge br ON br.asset_id = a.id
LEFT JOIN assets_sewerpipe sp ON sp.asset_id = a.id
LEFT JOIN assets_manhole mh ON mh.asset_id = a.id
LEFT JOIN assets_septictank st ON st.asset_id = a.id
-- Tunnels, sheds/culverts, pedestrian overpasses, gantry signs (告示426号): one table, their own traffic and flags.
LEFT JOIN assets_roadstructure rs ON rs.asset_id = a.id
"""
# Road structures graded by 告示426号 (Ⅰ–Ⅳ, 5-yearly 近接目視) other than bridges.
ROAD_STRUCTURES = (Kind.TUNNEL, Kind.SHED_CULVERT, Kind.PED_OVERPASS, Kind.GANTRY_SIGN)


def spec_for(kind: str) -> KindSpec:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValidationError(
            {"kind": _("Unknown kind %(kind)r; allowed: %(allowed)s")
             % {"kind": kind, "allowed": ", ".join(KINDS)}}
        ) from None


def format_global_id(owner_code: str, kind: str, serial: int) -> str:
    return f"{owner_code}-{spec_for(kind).code}-{serial:06d}"
