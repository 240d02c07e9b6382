"""The reference road layer (clusters.ReferenceRoad): reading a road file through GDAL/OGR (GeoJSON, GeoPackage,
Shapefile … as GeoDjango's DataSource reads them) and replacing one source's roads in one transaction.

国土数値情報 road lines carry their class as a code or a name (e.g. N01_001 道路種別コード, or the 道路種別 text of
re-packaged versions); a code list is passed as a mapping, a name is read by its words (国道, 県道 …)."""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.contrib.gis.gdal import DataSource, GDALException, OGRGeometry, SpatialReference
from django.contrib.gis.geos import LineString
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clusters.models import ReferenceRoad

__all__ = ["ReadStats", "Road", "classify", "read_roads", "replace_reference_roads"]

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


# Where a road of a Japanese registry can lie (EPSG:6668 degrees, 与那国島 to 南鳥島, 沖ノ鳥島 to 択捉島): a line
# outside it was read in the wrong coordinate system (a plane-zone file declared as degrees, X and Y swapped).
JAPAN_EXTENT = (122.0, 20.0, 154.0, 46.0)
MAX_SOURCE_LENGTH = ReferenceRoad._meta.get_field("source").max_length


@dataclass
class ReadStats:
    """What reading a file skipped, filled while its roads are streamed."""

    skipped: int = 0  # features without a readable line geometry (null, point, polygon, broken)
    by_class: dict = field(default_factory=dict)


def _lines(geom: OGRGeometry, number: int) -> list[LineString]:
    """The 2-D line parts of a feature's geometry, in EPSG:6668; nothing for points or polygons."""
    geom.transform(6668)
    g = geom.geos
    parts = [g] if g.geom_type == "LineString" else list(g) if g.geom_type == "MultiLineString" else []
    lines = [LineString([c[:2] for c in p.coords], srid=6668) for p in parts if p.num_points >= 2]
    west, south, east, north = JAPAN_EXTENT
    for line in lines:
        x0, y0, x1, y1 = line.extent
        if not (west <= x0 and x1 <= east and south <= y0 and y1 <= north):
            raise ValidationError(
                _("Feature %(number)d lies outside Japan (extent %(extent)s in EPSG:6668): the file's coordinate "
                  "system is wrong or missing; give its EPSG code (--srid).")
                % {"number": number, "extent": f"{x0:.4f}, {y0:.4f} – {x1:.4f}, {y1:.4f}"})
    return lines


def read_roads(path: str, *, layer=0, encoding: str = "utf-8", srid: int | None = None,
               class_field: str | None = None, class_map: dict[str, str] | None = None,
               road_class: str | None = None, name_field: str | None = None) -> tuple[Iterator[Road], ReadStats]:
    """The road lines of one layer, streamed (a prefecture's 国土数値情報 file need not fit in memory), and the
    stats the stream fills. `srid` gives the coordinate system of a file that states none; `road_class` one class
    for the whole file. The layer and its fields are checked before the first road is read."""
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
    stats = ReadStats()

    def roads() -> Iterator[Road]:
        for number, feat in enumerate(lyr, start=1):
            try:
                geom = feat.geom
                geom.srs = srs
                lines = _lines(geom, number)
            except GDALException:  # a null or broken geometry: GDAL has no line to give
                lines = []
            if not lines:
                stats.skipped += 1
                continue
            cls = road_class or (classify(feat.get(class_field), class_map) if class_field else RoadClass.OTHER)
            name = str(feat.get(name_field) or "").strip()[:200] if name_field else ""
            stats.by_class[cls] = stats.by_class.get(cls, 0) + len(lines)
            for line in lines:
                yield Road(line, cls, name)

    return roads(), stats


@transaction.atomic
def replace_reference_roads(roads: Iterable[Road], *, source: str, source_date: datetime.date | None = None,
                            replace: bool = True) -> tuple[int, int]:
    """Store these roads under `source` (with `replace`, the source's earlier roads go first, so loading the
    same file twice keeps one copy). Returns (created, deleted)."""
    if not source.strip():
        raise ValidationError(_("A reference road needs its source (e.g. 国土数値情報 道路データ)."))
    if len(source) > MAX_SOURCE_LENGTH:
        raise ValidationError(_("The source may be at most %(max)d characters; it has %(length)d.")
                              % {"max": MAX_SOURCE_LENGTH, "length": len(source)})
    deleted = ReferenceRoad.objects.filter(source=source).delete()[0] if replace else 0
    allowed = set(RoadClass.values)
    created = 0
    # Written in batches as they are read, inside the one transaction: a refusal halfway leaves the earlier roads.
    stream = iter(roads)
    while batch := list(islice(stream, BATCH)):
        objs = []
        for r in batch:
            if r.road_class not in allowed:
                raise ValidationError(_("Unknown road class %(value)r; allowed: %(allowed)s")
                                      % {"value": r.road_class, "allowed": ", ".join(sorted(allowed))})
            objs.append(ReferenceRoad(geom=r.geom, road_class=r.road_class, name=r.name, source=source,
                                      source_date=source_date))
        ReferenceRoad.objects.bulk_create(objs)
        created += len(objs)
    if created == 0:
        # An empty or unreadable file must not wipe a source's roads out of the detour network.
        raise ValidationError(_("The file holds no road lines; the reference roads of %(source)s are kept as "
                                "they were.") % {"source": source})
    return created, deleted
