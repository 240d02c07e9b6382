"""Ledger sync over the API: token upsert (idempotent, dry run, all or nothing), the change feed while writes
happen, optimistic concurrency with ETags, exports that Excel and QGIS read and that import back unchanged."""

import io
import json

import psycopg
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from openpyxl import load_workbook

from assets.models import ApiToken, Asset, ChangeRecord
from ledger.models import LedgerMapping

MANHOLES = [{"マンホール番号": f"M-{k}", "深さ(m)": 2.0 + k / 10, "設置年度": "S50",
             "geometry": {"type": "Point", "coordinates": [139.835 + k * 0.0005, 35.822]}} for k in range(5)]


@pytest.fixture
def token(world):
    _t, key = ApiToken.issue(name="下水道台帳システム", municipality=world.yashio, source="gesuido")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_ACCEPT_LANGUAGE": "en"}


def upsert(client, token, records, **extra):
    body = {"kind": "manhole", "records": records, **extra}
    return client.post("/api/v1/ledger/upsert", json.dumps(body), content_type="application/json", **token)


def test_token_upsert_is_idempotent_and_has_a_dry_run(client, world, token):
    dry = upsert(client, token, MANHOLES, dry_run=True)
    assert dry.status_code == 200 and dry.json()["created"] == 5 and dry.json()["written"] is False
    assert Asset.objects.count() == 0
    first = upsert(client, token, MANHOLES).json()
    assert (first["created"], first["written"]) == (5, True)
    assert set(Asset.objects.values_list("owner_id", "source").distinct()) == {("112348", "gesuido")}
    again = upsert(client, token, MANHOLES).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 5)
    assert again["summary"].startswith("Nothing to change")
    moved = [dict(m) for m in MANHOLES]
    moved[2]["深さ(m)"] = 9.5
    r = upsert(client, token, moved, dry_run=True).json()
    assert r["updated"] == 1 and r["changes"][0]["fields"] == {"detail.depth_m": {"from": 2.2, "to": 9.5}}


def test_one_bad_record_means_422_every_error_and_nothing_written(client, world, token):
    bad = [dict(m) for m in MANHOLES]
    bad[1]["深さ(m)"] = "deep"
    bad[3]["団体コード"] = "112216"  # the token is 八潮市's only
    bad[4]["geometry"] = {"type": "Point", "coordinates": [35.822, 139.839]}  # lat/lon swapped
    r = upsert(client, token, bad)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert any(e.startswith("Record 2 ") and "detail.depth_m: 'deep' is not a number" in e for e in errors)
    assert any(e.startswith("Record 4 ") and "owner: you may not write 112216" in e for e in errors)
    assert any(e.startswith("Record 5 ") and "geometry" in e for e in errors)
    assert Asset.objects.count() == 0


def test_file_upload_through_the_api(client, world, token):
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = "マンホール番号,深さ(m),経度,緯度\nM-9,2.5,139.839,35.822\n".encode("cp932")
    r = client.post("/api/v1/ledger/import", {"file": SimpleUploadedFile("mh.csv", csv), "kind": "manhole",
                                               "dry_run": "false"}, **token)
    assert r.status_code == 200, r.content
    assert r.json()["created"] == 1 and r.json()["encoding"] == "cp932"


def feed_all(client, token, limit=2, cursor=""):
    seen, pages = [], 0
    while True:
        r = client.get(f"/api/v1/changes?limit={limit}&cursor={cursor}", **token).json()
        seen += r["changes"]
        cursor = r["next_cursor"]
        pages += 1
        if not r["has_more"]:
            return seen, cursor, pages


@pytest.mark.django_db(transaction=True)
def test_the_change_feed_pages_without_gap_or_duplicate(client, world, token):
    upsert(client, token, MANHOLES)
    seen, cursor, pages = feed_all(client, token)
    assert [c["external_id"] for c in seen] == [f"M-{k}" for k in range(5)] and pages == 3
    assert len({c["cursor"] for c in seen}) == 5
    # Nothing new: the same cursor comes back with no changes.
    again, cursor2, _pages = feed_all(client, token, cursor=cursor)
    assert again == [] and cursor2 == cursor


@pytest.mark.django_db(transaction=True)
def test_a_late_commit_is_never_skipped(client, world, token):
    upsert(client, token, MANHOLES[:1])
    _seen, cursor, _pages = feed_all(client, token)
    asset = Asset.objects.get()
    ct = ContentType.objects.get_for_model(Asset).pk
    # A slow writer takes its transaction (and its change id) first and commits last.
    params = connection.get_connection_params()
    slow = psycopg.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")})
    try:
        slow.execute("INSERT INTO assets_changerecord (time, actor_name, via, action, content_type_id, object_id, "
                     "object_repr, message) VALUES (now(), 'slow', 'api', 'update', %s, %s, %s, 'late')",
                     [ct, str(asset.pk), asset.global_id])
        upsert(client, token, MANHOLES[1:3])  # two quick writers commit meanwhile
        during, cursor_during, _ = feed_all(client, token, cursor=cursor)
        assert during == []  # held back while an older transaction is still open
        slow.commit()
    finally:
        # A failed assertion must not leave the transaction open: the flush after the test would wait on its lock
        # for ever.
        slow.close()
    after, _c, _p = feed_all(client, token, cursor=cursor_during)
    # The slow writer's change comes first (its transaction is the oldest), then the two quick ones.
    assert [(c["actor"], c["external_id"]) for c in after] == [("slow", "M-0"), ("token:下水道台帳システム", "M-1"),
                                                               ("token:下水道台帳システム", "M-2")]
    assert ChangeRecord.objects.count() == 4


def test_stale_updates_are_refused_and_change_nothing(client, world):
    from tests.conftest import make_asset

    mh = make_asset(world.yashio, "manhole", depth_m=2.0)
    client.force_login(world.alice)
    got = client.get(f"/api/v1/assets/{mh.global_id}")
    etag = got["ETag"]
    ok = client.patch(f"/api/v1/assets/{mh.global_id}", json.dumps({"detail": {"depth_m": 3.0}}),
                      content_type="application/json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok["ETag"] != etag and ok.json()["version"] == 2
    stale = client.patch(f"/api/v1/assets/{mh.global_id}", json.dumps({"detail": {"depth_m": 4.0}}),
                         content_type="application/json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    old_version = client.patch(f"/api/v1/assets/{mh.global_id}", json.dumps({"version": 1, "detail": {"depth_m": 5}}),
                               content_type="application/json")
    assert old_version.status_code == 409
    blind = client.patch(f"/api/v1/assets/{mh.global_id}", json.dumps({"detail": {"depth_m": 6}}),
                         content_type="application/json")
    assert blind.status_code == 428
    broken = client.patch(f"/api/v1/assets/{mh.global_id}", json.dumps({"version": 2, "data": {"geometry": {"x": 1}}}),
                          content_type="application/json")
    assert broken.status_code == 422 and "geometry" in broken.json()["errors"]
    mh.refresh_from_db()
    assert (mh.version, mh.manhole.depth_m) == (2, 3.0)


def test_exports_for_excel_and_gis_and_the_round_trip(client, world, token):
    upsert(client, token, MANHOLES)
    Asset.objects.filter(external_id="M-0").update(name="=HYPERLINK(\"http://x\")")
    r = client.get("/api/v1/ledger/export?kind=manhole&format=csv-cp932", **token)
    text = r.content.decode("cp932")
    assert text.splitlines()[0].startswith("共通ID,団体コード,台帳,台帳番号,名称")
    assert "'=HYPERLINK" in text  # neutralised
    wb = load_workbook(io.BytesIO(client.get("/api/v1/ledger/export?kind=manhole&format=xlsx", **token).content))
    assert wb.active.max_row == 6
    gj = client.get("/api/v1/ledger/export?kind=manhole&format=geojson", **token).json()
    assert len(gj["features"]) == 5
    bad = client.get("/api/v1/ledger/export?kind=tunnel&format=pdf", **token)
    assert bad.status_code == 422 and "allowed" in json.dumps(bad.json())
    gpkg = client.get("/api/v1/ledger/export?kind=manhole&format=gpkg", **token)
    assert gpkg.content[:16] == b"SQLite format 3\x00"
    # What was exported imports back as it is: the apostrophe added before the formula is taken off again.
    text = client.get("/api/v1/ledger/export?kind=manhole&format=csv-cp932", **token).content
    from django.core.files.uploadedfile import SimpleUploadedFile

    back = client.post("/api/v1/ledger/import", {"file": SimpleUploadedFile("out.csv", text), "kind": "manhole"},
                       **token).json()
    assert (back["created"], back["updated"], back["unchanged"]) == (0, 0, 5), back


def test_geojson_listing_with_filters_for_qgis(client, world, token):
    upsert(client, token, MANHOLES)
    r = client.get("/api/v1/assets.geojson?bbox=139.8349,35.8,139.8361,35.9&kind=manhole", **token).json()
    assert [f["properties"]["external_id"] for f in r["features"]] == ["M-0", "M-1", "M-2"]
    assert client.get("/api/v1/assets.geojson?bbox=nonsense", **token).status_code == 422


def test_column_mappings_are_saved_per_municipality_and_checked(client, world, token):
    r = client.put("/api/v1/ledger/mappings/112348/manhole?source=gesuido",
                   json.dumps({"columns": {"施設コード": "external_id", "東経": "lon", "北緯": "lat", "色": "colour"}}),
                   content_type="application/json", **token)
    assert r.status_code == 422 and "'色' → 'colour': not a field of manhole" in r.json()["errors"]["columns"][0]
    ok = client.put("/api/v1/ledger/mappings/112348/manhole?source=gesuido",
                    json.dumps({"columns": {"施設コード": "external_id", "東経": "lon", "北緯": "lat"}}),
                    content_type="application/json", **token)
    assert ok.status_code == 200
    assert client.put("/api/v1/ledger/mappings/112216/manhole?source=gesuido", json.dumps({"columns": {}}),
                      content_type="application/json", **token).status_code == 403
    r = upsert(client, token, [{"施設コード": "Z-1", "東経": 139.839, "北緯": 35.822}])
    assert r.json()["created"] == 1, r.json()
    # A header or a word holding a control character is named as U+XXXX; the saved mapping stays as it was.
    bad = client.put("/api/v1/ledger/mappings/112348/manhole?source=gesuido",
                     json.dumps({"columns": {"施設\u0007コード": "external_id"}}), content_type="application/json",
                     **token)
    assert bad.status_code == 422 and "U+0007" in json.dumps(bad.json()["errors"])
    assert LedgerMapping.objects.get(owner_id="112348", kind="manhole", source="gesuido").columns["施設コード"] == \
        "external_id"


def test_the_upload_page_checks_then_loads(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.alice)
    csv = "マンホール番号,深さ(m),経度,緯度\nM-1,2.5,139.839,35.822\nM-2,x,139.839,35.823\n".encode("cp932")
    page = client.post("/en/ledger/import/", {"file": SimpleUploadedFile("mh.csv", csv), "kind": "manhole",
                                              "municipality": "112348", "action": "check"})
    assert page.status_code == 200
    assert "Record 2 (line 3) detail.depth_m: &#x27;x&#x27; is not a number" in page.content.decode()
    good = csv.decode("cp932").replace(",x,", ",3.0,").encode("cp932")
    page = client.post("/en/ledger/import/", {"file": SimpleUploadedFile("mh.csv", good), "kind": "manhole",
                                              "municipality": "112348", "action": "load"})
    assert "2 created" in page.content.decode() and Asset.objects.count() == 2


@pytest.mark.parametrize("cursor", ["99999999999999999999999.1", "1.99999999999999999999", "-5.0", "abc"])
def test_a_cursor_out_of_range_is_named_not_a_server_error(client, world, token, cursor):
    # Both parts are bigint in the database; a larger number used to reach PostgreSQL and answer 500.
    r = client.get(f"/api/v1/changes?cursor={cursor}", **token)
    assert r.status_code == 422, r.content
    assert "cursor" in r.json()["errors"]


@pytest.mark.parametrize("coords", [[1e308, 0], [139.8, float("inf")], [[139.8, 35.8]], ["139.8", "35.8"]])
def test_an_upsert_geometry_is_checked_before_geos_sees_it(client, world, token, coords):
    body = json.dumps({"kind": "manhole", "records": [
        {"マンホール番号": "M-9", "geometry": {"type": "Point", "coordinates": coords}}]}).replace("Infinity", "1e999")
    r = client.post("/api/v1/ledger/upsert", body, content_type="application/json", **token)
    assert r.status_code == 422, r.content
    assert "Record 1 geometry" in json.dumps(r.json(), ensure_ascii=False)
    assert Asset.objects.count() == 0
