import datetime

from django.contrib.gis.gdal import GDALException
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from clusters.models import ReferenceRoad
from clusters.reference_roads import read_roads, replace_reference_roads


def _class_map(text: str | None) -> dict[str, str] | None:
    """"1=national,2=national,3=prefectural" → {"1": "national", …}."""
    if not text:
        return None
    out = {}
    for item in text.split(","):
        code, sep, cls = item.partition("=")
        if not sep or cls.strip() not in ReferenceRoad.RoadClass.values:
            raise CommandError(f"--class-map item {item!r}: write code=class, class one of "
                               f"{', '.join(ReferenceRoad.RoadClass.values)}")
        out[code.strip()] = cls.strip()
    return out


class Command(BaseCommand):
    help = ("Load reference roads (国道・都道府県道 the registry does not hold) for the engine's detour search from a "
            "GeoJSON, GeoPackage or Shapefile, e.g. 国土数値情報 道路データ. Replaces the earlier roads of the same "
            "--source.")

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--source", required=True, help='where the data come from, e.g. "国土数値情報 道路データ '
                                                            '(国土交通省)"; shown with the detours and in the credits')
        parser.add_argument("--source-date", help="date of the data (YYYY-MM-DD)")
        parser.add_argument("--layer", default="0", help="layer name or index (default: the first)")
        parser.add_argument("--encoding", default="utf-8", help="text encoding of the attributes (cp932 for "
                                                                "Shift_JIS Shapefiles)")
        parser.add_argument("--srid", type=int, help="EPSG code of a file that states no coordinate system")
        parser.add_argument("--class-field", help="attribute holding the road class (a code or a name)")
        parser.add_argument("--class-map", help='codes of --class-field, e.g. "1=national,2=national,3=prefectural"; '
                                                "without it, names are read by their words (国道, 県道 …)")
        parser.add_argument("--road-class", choices=ReferenceRoad.RoadClass.values,
                            help="one class for every road in the file")
        parser.add_argument("--name-field", help="attribute holding the route name")
        parser.add_argument("--append", action="store_true", help="keep the source's earlier roads")

    def handle(self, *args, path, source, source_date, layer, encoding, srid, class_field, class_map, road_class,
               name_field, append, **opts):
        try:
            when = datetime.date.fromisoformat(source_date) if source_date else None
        except ValueError:
            raise CommandError(f"--source-date {source_date!r} is not YYYY-MM-DD") from None
        try:
            roads, stats = read_roads(path, layer=int(layer) if layer.isdigit() else layer, encoding=encoding,
                                        srid=srid, class_field=class_field, class_map=_class_map(class_map),
                                        road_class=road_class, name_field=name_field)
            created, deleted = replace_reference_roads(roads, source=source, source_date=when, replace=not append)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        except (GDALException, IndexError) as exc:  # an unreadable file, an unknown layer
            raise CommandError(f"{path}: {exc}") from None
        classes = ", ".join(f"{ReferenceRoad.RoadClass(k).label} {v}" for k, v in sorted(stats.by_class.items()))
        skipped = stats.skipped
        self.stdout.write(f"{source}: {created} reference roads ({classes})"
                          f"{f', {skipped} features without a line skipped' if skipped else ''}"
                          f"{f', {deleted} earlier ones replaced' if deleted else ''}")
