"""Builds municipality rows from the shipped reference files (pure: files in, dataclasses out)."""

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point

from assets.codes import check_digit
from assets.models import MunicipalityKind

CREDIT = "出典：国土数値情報（行政区域データ）（国土交通省）を加工して作成"


@dataclass
class MunicipalityRow:
    code: str
    kind: str
    name: str
    name_kana: str
    prefecture: str
    hall: Point | None
    boundary: MultiPolygon | None = None
    population: int | None = None
    population_year: int | None = None


def classify(code5: str, name: str) -> str:
    local = int(code5[2:])
    if local == 0:
        return MunicipalityKind.PREFECTURE
    if 100 <= local < 200:
        return MunicipalityKind.WARD if name.endswith("区") else MunicipalityKind.DESIGNATED_CITY
    if name.endswith("村"):
        return MunicipalityKind.VILLAGE
    if name.endswith("町"):
        return MunicipalityKind.TOWN
    return MunicipalityKind.CITY


def read_municipalities(csv_path: Path) -> list[MunicipalityRow]:
    rows: list[MunicipalityRow] = []
    prefectures: dict[str, str] = {}
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        for rec in csv.DictReader(fh):
            code = rec["lgcode"].strip().zfill(6)
            # "さいたま市 西区": the ward is stored under its own name, as N03 does.
            name = rec["city"].split(" ")[-1]
            kana = rec["citykana"].split(" ")[-1]
            hall = Point(float(rec["lng"]), float(rec["lat"]), srid=6668) if rec["lat"] else None
            rows.append(MunicipalityRow(code, classify(code[:5], name), name, kana, rec["pref"], hall))
            prefectures.setdefault(code[:2], rec["pref"])
    for pp, pref in prefectures.items():
        code5 = pp + "000"
        rows.append(MunicipalityRow(code5 + check_digit(code5), MunicipalityKind.PREFECTURE, pref, "", pref, None))
    return rows


def read_boundaries(paths: list[Path], designated: dict[tuple[str, str], str]) -> dict[str, MultiPolygon]:
    """Union the N03 features per 5-digit code, and build designated cities and prefectures from parts."""
    parts: dict[str, list] = {}
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        for feat in data["features"]:
            props = feat["properties"]
            code5 = props.get("N03_007")
            if not code5:
                continue
            # N03 (2021) is JGD2011 lon/lat; GeoJSON readers label it 4326, which would force a transform.
            geom = GEOSGeometry(json.dumps(feat["geometry"]))
            geom.srid = 6668
            parts.setdefault(code5, []).append(geom)
            city = designated.get((props.get("N03_001"), props.get("N03_003")))
            if city and city[:5] != code5:
                parts.setdefault(city[:5], []).append(geom)
            parts.setdefault(code5[:2] + "000", []).append(geom)
    result = {}
    for code5, geoms in parts.items():
        merged = geoms[0]
        for g in geoms[1:]:
            merged = merged.union(g)
        if merged.geom_type == "Polygon":
            merged = MultiPolygon(merged, srid=6668)
        merged.srid = 6668
        result[code5 + check_digit(code5)] = merged
    return result
