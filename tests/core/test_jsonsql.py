"""core.jsonsql: pages of JSON written by PostgreSQL (issue 17) hold what a Python serializer would write — text
with every character JSON must escape, nulls, numbers, dates, raw GeoJSON — and keyset paging visits every
record exactly once."""

import datetime
import json

import pytest
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import F, Value
from django.db.models.functions import Concat

from assets.models import Asset
from core.jsonsql import Raw, UtcTimestamp, json_object, json_page
from tests.conftest import make_asset

# Quotes, backslashes, control characters, line separators, Japanese and an emoji: all must survive as JSON text.
HOSTILE = 'a"b\\c\nd\te\x01f\u2028g 八潮 😀 </script>'


@pytest.fixture
def assets(world):
    made = [make_asset(world.yashio, "manhole", external_id=f"M-{i}", lon=139.83 + 0.001 * i) for i in range(7)]
    Asset.objects.filter(pk=made[0].pk).update(name=HOSTILE, external_id=None, built_fiscal_year=None)
    return [a.pk for a in made]


COLUMNS = {"global_id": "global_id", "name": "name", "external_id": "external_id", "year": "built_fiscal_year",
           "important": "serves_important_facility", "retired_on": "retired_on", "updated": UtcTimestamp("updated_at"),
           "label": Concat(F("name"), Value("／"), F("kind")), "geometry": Raw(AsGeoJSON("geom", precision=15))}


def _expected(a: Asset) -> dict:
    return {"global_id": a.global_id, "name": a.name, "external_id": a.external_id, "year": a.built_fiscal_year,
            "important": a.serves_important_facility, "retired_on": a.retired_on,
            "updated": a.updated_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{a.updated_at.microsecond // 1000:03d}Z",
            "label": f"{a.name}／{a.kind}",
            # The stored doubles exactly (PostGIS writes the shortest text that reads back as each; GDAL, which
            # a Python GeoJSON goes through, rounds to 15 significant digits).
            "geometry": {"type": "Point", "coordinates": list(a.geom.coords)}}


def test_objects_hold_what_python_would_write(assets):
    page = json_page(Asset.objects.all(), COLUMNS, limit=100)
    got = json.loads(page.array)
    assert page.returned == len(got) == 7 and page.last is None and page.matched is None
    assert got == [_expected(a) for a in Asset.objects.order_by("pk")]
    assert got[0]["name"] == HOSTILE and got[0]["external_id"] is None and got[0]["year"] is None
    assert list(got[0]) == list(COLUMNS)  # keys in the given order


def test_keyset_pages_visit_every_record_once_and_count_up_to_the_cap(assets):
    seen, after, pages = [], None, 0
    while True:
        page = json_page(Asset.objects.all(), {"id": "pk"}, limit=3, after=after, count_cap=5)
        pages += 1
        seen += [o["id"] for o in json.loads(page.array)]
        # 7 records match (more than the cap of 5) whatever the page: not counted.
        assert page.matched is None
        if page.last is None:
            break
        assert page.last == seen[-1]
        after = page.last
    assert seen == sorted(assets) and pages == 3
    assert json_page(Asset.objects.all(), {"id": "pk"}, limit=3, count_cap=7).matched == 7
    assert json.loads(json_page(Asset.objects.all(), {"id": "pk"}, limit=2, offset=5).array) == [
        {"id": pk} for pk in sorted(assets)[5:]]


def test_features_and_empty_scopes(assets):
    page = json_page(Asset.objects.filter(pk=assets[0]), {"name": "name"}, limit=10, feature_id="global_id",
                     geometry=AsGeoJSON("geom", precision=15), count_cap=10)
    a = Asset.objects.get(pk=assets[0])
    assert json.loads(page.array) == [{"type": "Feature", "id": a.global_id,
                                       "geometry": {"type": "Point", "coordinates": list(a.geom.coords)},
                                       "properties": {"name": HOSTILE}}]
    assert page.matched == 1
    none = json_page(Asset.objects.none(), {"id": "pk"}, limit=10, count_cap=10)
    assert (none.array, none.returned, none.last, none.matched) == ("[]", 0, None, 0)
    assert json_object(Asset.objects.none(), {"id": "pk"}) is None
    body, (version,) = json_object(Asset.objects.filter(pk=assets[0]), {"name": "name"}, also=("version",))
    assert json.loads(body) == {"name": HOSTILE} and version == a.version
