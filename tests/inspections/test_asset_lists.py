"""The asset lists written by PostgreSQL (issue 17: a 1,000-feature page in ≤ 150 ms at 20 clients): /api/v1/assets
and /api/v1/assets.geojson give what their Python serializers gave — AssetOut items; features with the current
grade and severity (inspections.selectors.severity) — page by keyset without gap or repeat, count only up to a
cap, and cost one query per page whatever its size."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assets.api import AssetOut
from assets.history import Actor
from assets.models import ApiToken, Asset, Via
from inspections import asset_api, selectors
from inspections.services import inspection_record
from tests.conftest import make_asset
from tests.ogc.helpers import bulk_pipes


@pytest.fixture
def reg(world):
    br = make_asset(world.yashio, "bridge", external_id="BR-1", lon=139.84, lat=35.83)
    inspection_record(actor=Actor.system(Via.API), asset=br, inspected_on="2023-05-01", grade="III")
    pipe = make_asset(world.yashio, "sewer_pipe", external_id="P-1", lon=139.841, lat=35.821)
    Asset.objects.filter(pk=pipe.pk).update(operator=world.soka, name='管渠 "本線"\\1')
    make_asset(world.soka, "manhole", external_id="M-S", lon=139.805, lat=35.825)
    make_asset(world.wajima, "manhole", external_id="M-W", lon=136.899, lat=37.391)  # another region
    return br


def _token(muni) -> Client:
    _t, key = ApiToken.issue(name="台帳", municipality=muni, source="daicho", can_write=False)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _coords(geom):
    return list(geom.coords) if geom.geom_type == "Point" else [list(p) for p in geom.coords]


def test_list_items_are_asset_out_in_record_order(world, reg):
    c = Client()
    c.force_login(world.alice)
    body = c.get("/api/v1/assets").json()
    visible = Asset.objects.filter(owner__in=[world.yashio, world.soka]).order_by("pk")
    assert body["count"] == 3 and [i["global_id"] for i in body["items"]] == [a.global_id for a in visible]
    for item, a in zip(body["items"], visible, strict=True):
        expected = AssetOut.from_orm(a).model_dump()
        assert list(item) == list(expected)
        assert item.pop("geometry")["coordinates"] == _coords(a.geom)
        expected.pop("geometry")
        assert item == expected
    assert c.get("/api/v1/assets?kind=manhole").json()["items"][0]["owner"] == world.soka.code
    assert c.get("/api/v1/assets?grade=III").json()["count"] == 1


def test_list_pages_by_keyset_link_and_counts_up_to_the_cap(world, monkeypatch):
    bulk_pipes(world.yashio, 45)
    c = _token(world.yashio)
    url, seen = "/api/v1/assets?limit=20&kind=sewer_pipe", []
    while url:
        r = c.get(url)
        assert r.status_code == 200, r.content
        assert r.json()["count"] == 45
        seen += [i["global_id"] for i in r.json()["items"]]
        link = r.get("Link", "")
        url = link[1:link.index(">")] if 'rel="next"' in link else None
        assert url is None or ("after=" in url and "kind=sewer_pipe" in url and "offset" not in url)
    assert len(seen) == len(set(seen)) == 45
    assert [i["global_id"] for i in c.get("/api/v1/assets?limit=20&offset=40").json()["items"]] == seen[40:]
    monkeypatch.setattr(asset_api, "COUNT_CAP", 30)
    assert c.get("/api/v1/assets?limit=20").json()["count"] is None  # 45 > 30: not counted
    assert c.get("/api/v1/assets?limit=20&bbox=139.79,35.79,139.81,35.8005").json()["count"] == 11


def test_geojson_features_carry_grade_and_severity_as_before(world, reg):
    c = Client()
    c.force_login(world.carol)
    fc = c.get("/api/v1/assets.geojson").json()
    visible = list(Asset.objects.filter(owner__in=[world.yashio, world.soka]).order_by("pk")
                   .select_related("condition__grade"))
    severity = selectors.severity(visible)
    assert fc["numberMatched"] == fc["numberReturned"] == 3 and fc["next_offset"] is None
    assert [f["id"] for f in fc["features"]] == [a.global_id for a in visible]
    for f, a in zip(fc["features"], visible, strict=True):
        grade = a.condition.grade if hasattr(a, "condition") else None
        assert f["type"] == "Feature" and f["geometry"]["coordinates"] == _coords(a.geom)
        assert f["properties"] == {
            "global_id": a.global_id, "kind": a.kind, "owner": a.owner_id, "source": a.source,
            "external_id": a.external_id, "name": a.name, "status": a.status,
            "built_fiscal_year": a.built_fiscal_year, "version": a.version,
            "grade": grade.code if grade else None, "grade_label": grade.label if grade else None,
            "severity": severity.get(a.pk)}
    bridge = next(f for f in fc["features"] if f["id"] == reg.global_id)["properties"]
    assert bridge["grade"] == "III" and 0 < bridge["severity"] <= 1


def test_a_page_costs_the_same_queries_whatever_its_size(world):
    """Set-based: the token (with its scope) and one query per page; the GeoJSON also reads the grading schemes'
    worst ranks (severity)."""
    bulk_pipes(world.yashio, 120)
    c = _token(world.yashio)
    c.get("/api/v1/assets?limit=1")  # the token's first use is recorded (once a minute)
    for url, queries in (("/api/v1/assets?limit={}", 2), ("/api/v1/assets.geojson?limit={}", 3)):
        for limit in (5, 120):
            with CaptureQueriesContext(connection) as ctx:
                r = c.get(url.format(limit))
            body = json.loads(r.content)
            assert len(body.get("items", body.get("features", []))) == limit
            assert len(ctx.captured_queries) == queries, "\n".join(q["sql"] for q in ctx.captured_queries)
