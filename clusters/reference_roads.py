"""The reference road layer (clusters.ReferenceRoad): reading a road file through GDAL/OGR (GeoJSON, GeoPackage,
Shapefile … as GeoDjango's DataSource reads them) and replacing one source's roads in one transaction.

国土数値情報 road lines carry their class as a code or a name (e.g. N01_001 道路種別コード, or the 道路種別 text of
re-packaged versions); a code list is passed as a mapping, a name is read by its words (国道, 県道 …)."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.gis.gdal import DataSource, OGRGeometry, SpatialReference
from django.contrib.gis.geos import LineString
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clusters.models import ReferenceRoad

__all__ = ["Road", "classify", "read_roads", "replace_reference_roads"]

RoadClass = ReferenceRoad.RoadClass
# Words of a class name, in the order they are tried: 高速自動車国道 and 一般国道 are national; 主要地方道 is a
# prefectural road in most places (a 指定市's 主要地方道 市道 reads as municipal only when mapped so).
CLASS_WORDS = ((RoadClass.NATIONAL, ("国道", "national")),
               (RoadClass.PREFECTURAL, ("都道府県道", "県道", "府道", "都道", "道道", "主要地方道", "prefectural")),
               (RoadClass.MUNICIPAL, ("市町村道", "市道", "町道", "村道", "区道", "municipal")))
BATCH = 2000


@dataclass(frozen=True)
class Road:
    geom: LineString  # EPSG:6668
    road_class: str
    name: str = ""


def classify(value, mapping: dict[str, str] | None = None) -> str:
    """A road class from a file's value: the mapping first (code → class), then the words of a class name."""
    text = "" if value is None else str(value).strip()
    if mapping and text in mapping:
        return mapping[text]
    for road_class, words in CLASS_WORDS:
        if any(w in text for w in words):
            return road_class
    return RoadClass.OTHER


def _lines(geom: OGRGeometry) -> list[LineString]:
    """The 2-D line parts of a feature's geometry, in EPSG:6668; nothing for points or polygons."""
    geom.transform(6668)
    g = geom.geos
    parts = [g] if g.geom_type == "LineString" else list(g) if g.geom_type == "MultiLineString" else []
    return [LineString([c[:2] for c in p.coords], srid=6668) for p in parts if p.num_points >= 2]


def read_roads(path: str, *, layer=0, encoding: str = "utf-8", srid: int | None = None,
               class_field: str | None = None, class_map: dict[str, str] | None = None,
               road_class: str | None = None, name_field: str | None = None) -> tuple[list[Road], int]:
    """The road lines of one layer and how many features were skipped (no line geometry). `srid` gives the
    coordinate system of a file that states none; `road_class` one class for the whole file."""
    ds = DataSource(path, encoding=encoding)
    lyr = ds[layer]
    srs = lyr.srs or (SpatialReference(srid) if srid else None)
    if srs is None:
        raise ValidationError(_("The file states no coordinate system: give its EPSG code (--srid)."))
    fields = set(lyr.fields)
    for f in (class_field, name_field):
        if f and f not in fields:
            raise ValidationError(_("No field %(field)s in the layer; it has: %(fields)s")
                                  % {"field": f, "fields": ", ".join(lyr.fields)})
    roads, skipped = [], 0
    for feat in lyr:
        geom = feat.geom
        if geom is None:
            skipped += 1
            continue
        geom.srs = srs
        lines = _lines(geom)
        if not lines:
            skipped += 1
            continue
        cls = road_class or (classify(feat.get(class_field), class_map) if class_field else RoadClass.OTHER)
        name = str(feat.get(name_field) or "").strip()[:200] if name_field else ""
        roads += [Road(line, cls, name) for line in lines]
    return roads, skipped


@transaction.atomic
def replace_reference_roads(roads: Iterable[Road], *, source: str, source_date: datetime.date | None = None,
                            replace: bool = True) -> tuple[int, int]:
    """Store these roads under `source` (with `replace`, the source's earlier roads go first, so loading the
    same file twice keeps one copy). Returns (created, deleted)."""
    if not source.strip():
        raise ValidationError(_("A reference road needs its source (e.g. 国土数値情報 道路データ)."))
    deleted = ReferenceRoad.objects.filter(source=source).delete()[0] if replace else 0
    allowed = set(RoadClass.values)
    objs = []
    for r in roads:
        if r.road_class not in allowed:
            raise ValidationError(_("Unknown road class %(value)r; allowed: %(allowed)s")
                                  % {"value": r.road_class, "allowed": ", ".join(sorted(allowed))})
        objs.append(ReferenceRoad(geom=r.geom, road_class=r.road_class, name=r.name, source=source,
                                  source_date=source_date))
    ReferenceRoad.objects.bulk_create(objs, batch_size=BATCH)
    return len(objs), deleted
