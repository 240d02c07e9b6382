"""Every API route (from the OpenAPI document) and every page (from the URLconf) × every role × our objects and
another region's: no leak (others' objects answer 403/404, lists never show them), no 500, and the roles that
may do a thing get a 2xx. A route this file does not know fails the test: add it to API or PAGES below."""

import json
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from assets.history import Actor
from assets.models import ApiToken, Asset, Region, Via
from clusters.models import EngineRun
from clusters.services import run_create, run_execute
from inspections.measure_services import measure_record
from inspections.services import inspection_record, photos_add
from reports.pins import pin_set, plan_first_fy
from tests.conftest import jpeg_bytes, make_asset

ROLES = ("anonymous", "viewer", "engineer", "outsider", "coordinator", "read_token", "write_token", "other_token",
         "admin")
TOKENS = {"read_token", "write_token", "other_token"}
# Who may do what with OUR objects (八潮市 in the 中川 region) and with THEIRS (輪島市 in 能登).
ALLOWED = {
    "any": ({r for r in ROLES if r != "anonymous"}, {r for r in ROLES if r != "anonymous"}),
    "asset_read": ({"viewer", "engineer", "coordinator", "read_token", "write_token", "admin"},
                   {"outsider", "other_token", "admin"}),
    "asset_write": ({"engineer", "write_token", "admin"}, {"outsider", "other_token", "admin"}),
    "region_read": ({"engineer", "coordinator", "read_token", "write_token", "admin"},
                    {"outsider", "other_token", "admin"}),
    "coordinate": ({"coordinator", "admin"}, {"admin"}),
    # Correcting or withdrawing a recorded inspection: the asset's municipality's engineers and its region's
    # coordinators (assets.access.can_correct_records).
    "correct_records": ({"engineer", "coordinator", "admin"}, {"outsider", "admin"}),
}
OURS, THEIRS = "OURS-秘密の名前", "THEIRS-秘密の名前"


@dataclass
class Case:
    access: str  # a key of ALLOWED
    request: object  # (ctx, side) -> dict(path=..., data=..., content_type=..., extra=...)
    listing: bool = False  # one request per role; the leak check reads the body
    ok: tuple = (200, 201, 202)
    tokens: bool = False  # a page that ledger systems may also fetch with their token (stored files)


def _json(body):
    return {"data": json.dumps(body), "content_type": "application/json"}


def _asset(side):
    return f"ctx.{side}_asset"


API = {
    ("GET", "/api/v1/assets"): Case("any", lambda c, s: {}, listing=True),
    ("GET", "/api/v1/assets.geojson"): Case("any", lambda c, s: {}, listing=True),
    ("GET", "/api/v1/assets/near"): Case("asset_read", lambda c, s: {"query": {
        "lon": c.assets[s].geom.coords[0][0], "lat": c.assets[s].geom.coords[0][1]}}, listing=True),
    ("GET", "/api/v1/assets/{global_id}"): Case("asset_read", lambda c, s: {"global_id": c.assets[s].global_id}),
    ("PATCH", "/api/v1/assets/{global_id}"): Case("asset_write", lambda c, s: {
        "global_id": c.assets[s].global_id, **_json({"data": {"built_year_text": "昭和35年"}}),
        "extra": {"HTTP_IF_MATCH": "*"}}),
    ("POST", "/api/v1/assets/{global_id}/retire"): Case("asset_write", lambda c, s: {
        "global_id": c.retirable[s].global_id, **_json({"reason": "matrix"})}),
    ("GET", "/api/v1/regions/{slug}/boundaries"): Case("region_read", lambda c, s: {"slug": c.regions[s].slug}),
    ("POST", "/api/v1/ledger/upsert"): Case("asset_write", lambda c, s: _json({
        "kind": "manhole", "municipality": c.assets[s].owner_id, "source": "daicho", "dry_run": True,
        "records": [{"マンホール番号": "MX-1", "深さ(m)": 2.0, "geometry": {
            "type": "Point", "coordinates": list(c.assets[s].geom.coords[0])}}]})),
    ("POST", "/api/v1/ledger/import"): Case("asset_write", lambda c, s: {"data": {
        "file": SimpleUploadedFile("mh.csv", "マンホール番号,深さ(m),経度,緯度\nM-9,2.5,{},{}\n".format(
            *c.assets[s].geom.coords[0]).encode("cp932")),
        "kind": "manhole", "municipality": c.assets[s].owner_id, "source": "daicho", "dry_run": "true"}}),
    ("GET", "/api/v1/changes"): Case("any", lambda c, s: {}, listing=True),
    ("GET", "/api/v1/ledger/export"): Case("any", lambda c, s: {"query": {"kind": "sewer_pipe"}}, listing=True),
    ("GET", "/api/v1/ledger/mappings"): Case("any", lambda c, s: {}, listing=True),
    ("GET", "/api/v1/ledger/national/bridges"): Case("any", lambda c, s: {}, listing=True),
    ("POST", "/api/v1/ledger/national/bridges"): Case("asset_write", lambda c, s: {"data": {"file": SimpleUploadedFile(
        "n.csv", f"橋梁ID,管理者コード,共通ID,点検年月日,判定区分\nBR0-{c.bridges[s].owner_id}-09999,"
                 f"{c.bridges[s].owner_id},{c.bridges[s].global_id},2024-07-01,2\n".encode("cp932"), "text/csv"),
        "dry_run": "true"}}),
    ("GET", "/api/v1/bridges/{global_id}/chousho"): Case("asset_read", lambda c, s: {
        "global_id": c.bridges[s].global_id}),
    ("PUT", "/api/v1/ledger/mappings/{municipality}/{kind}"): Case("asset_write", lambda c, s: {
        "municipality": c.assets[s].owner_id, "kind": "manhole", "query": {"source": "daicho"},
        **_json({"columns": {"番号": "external_id"}})}),
    ("POST", "/api/v1/inspections"): Case("asset_write", lambda c, s: _json({
        "asset": c.bridges[s].global_id, "inspected_on": "2024-05-01", "grade": "II"})),
    ("GET", "/api/v1/inspections"): Case("any", lambda c, s: {}, listing=True),
    ("POST", "/api/v1/inspections/import"): Case("asset_write", lambda c, s: {"data": {"file": SimpleUploadedFile(
        "k.csv", f"団体コード,橋梁ID,点検年月日,判定区分\n{c.bridges[s].owner_id},{c.bridges[s].external_id},"
                 f"R6.7.1,Ⅱ\n".encode("cp932"), "text/csv"), "dry_run": "true"}}),
    ("GET", "/api/v1/inspections/{pk}"): Case("asset_read", lambda c, s: {"pk": c.inspections[s].pk}),
    ("PATCH", "/api/v1/inspections/{pk}"): Case("asset_write", lambda c, s: {
        "pk": c.inspections[s].pk, **_json({"notes": "matrix"})}),
    ("POST", "/api/v1/inspections/{pk}/photos"): Case("asset_write", lambda c, s: {
        "pk": c.inspections[s].pk, "data": {"photos": [SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg")]}}),
    ("GET", "/api/v1/measures/kinds"): Case("any", lambda c, s: {}, listing=True),
    ("GET", "/api/v1/measures/rates"): Case("region_read", lambda c, s: {"query": {"region": c.regions[s].slug}}),
    ("POST", "/api/v1/measures"): Case("asset_write", lambda c, s: _json({
        "asset": c.bridges[s].global_id, "kind": "repair", "started_on": "2024-05-01"})),
    ("POST", "/api/v1/measures/import"): Case("asset_write", lambda c, s: {"data": {"file": SimpleUploadedFile(
        "m.csv", f"団体コード,橋梁ID,措置区分,着手日\n{c.bridges[s].owner_id},{c.bridges[s].external_id},"
                 f"補修,R6.7.1\n".encode("cp932"), "text/csv"), "dry_run": "true"}}),
    ("GET", "/api/v1/measures"): Case("any", lambda c, s: {}, listing=True),
    ("GET", "/api/v1/measures/{pk}"): Case("asset_read", lambda c, s: {"pk": c.measures[s].pk}),
    ("PATCH", "/api/v1/measures/{pk}"): Case("asset_write", lambda c, s: {
        "pk": c.measures[s].pk, **_json({"notes": "matrix"})}),
    ("GET", "/api/v1/overdue"): Case("any", lambda c, s: {"query": {"municipality": "all", "within": 3650}},
                                     listing=True),
    ("GET", "/api/v1/overdue/export"): Case("any", lambda c, s: {"query": {
        "format": "csv", "municipality": "all", "within": 3650}}, listing=True),
    ("POST", "/api/v1/runs"): Case("coordinate", lambda c, s: _json({"region": c.regions[s].slug})),
    ("GET", "/api/v1/runs"): Case("any", lambda c, s: {}, listing=True),
    ("GET", "/api/v1/runs/{pk}"): Case("region_read", lambda c, s: {"pk": c.runs[s].pk}),
    ("GET", "/api/v1/runs/{pk}/clusters"): Case("region_read", lambda c, s: {"pk": c.runs[s].pk}),
    ("GET", "/api/v1/runs/{pk}/clusters/{rank}"): Case("region_read", lambda c, s: {"pk": c.runs[s].pk, "rank": 1}),
    # Only someone who writes every member of the lot records for it; each side's lot 1 is its own municipality's.
    ("POST", "/api/v1/runs/{pk}/clusters/{rank}/measures"): Case("asset_write", lambda c, s: {
        "pk": c.runs[s].pk, "rank": 1, **_json({"kind": "repair", "started_on": "2024-05-01"})}),
    ("GET", "/api/v1/runs/{a}/compare/{b}"): Case("region_read", lambda c, s: {"a": c.runs[s].pk, "b": c.runs[s].pk}),
    ("GET", "/api/v1/regions/{slug}/params"): Case("region_read", lambda c, s: {"slug": c.regions[s].slug}),
    ("PUT", "/api/v1/regions/{slug}/params"): Case("coordinate", lambda c, s: {
        "slug": c.regions[s].slug, **_json({"cluster_distance_m": 120})}),
    ("GET", "/api/v1/runs/{pk}/clusters.geojson"): Case("region_read", lambda c, s: {"pk": c.runs[s].pk}),
    # Pins steer the region's next plan: read by whoever reads its plans, set and taken off by its coordinators.
    ("GET", "/api/v1/regions/{slug}/pins"): Case("region_read", lambda c, s: {"slug": c.regions[s].slug}),
    ("POST", "/api/v1/regions/{slug}/pins"): Case("coordinate", lambda c, s: {
        "slug": c.regions[s].slug, **_json({"run": c.runs[s].pk, "rank": 1, "mode": "pin",
                                            "fiscal_year": plan_first_fy(), "reason": "matrix"})}),
    # Taking off a pin already taken off answers 200 and changes nothing, so every allowed role gets a 2xx.
    ("DELETE", "/api/v1/regions/{slug}/pins/{pk}"): Case("coordinate", lambda c, s: {
        "slug": c.regions[s].slug, "pk": c.pins[s].pk}),
    ("POST", "/api/v1/plans"): Case("coordinate", lambda c, s: _json({"region": c.regions[s].slug})),
    ("GET", "/api/v1/plans"): Case("any", lambda c, s: {}, listing=True),
    ("GET", "/api/v1/plans/{pk}"): Case("region_read", lambda c, s: {"pk": c.plans[s].pk}),
    ("GET", "/api/v1/plans/{pk}/pdf"): Case("region_read", lambda c, s: {"pk": c.plans[s].pk}),
    # The per-facility table (xlsx/CSV) of a plan: whoever reads the region's plans.
    ("GET", "/api/v1/plans/{pk}/facilities"): Case("region_read", lambda c, s: {"pk": c.plans[s].pk}),
    ("GET", "/api/v1/ledger/imports"): Case("any", lambda c, s: {}, listing=True),
    ("GET", "/api/v1/ledger/imports/{pk}"): Case("asset_read", lambda c, s: {"pk": c.imports[s].pk}),
}

# Pages: people only (a token is nobody here). `None` marks a route covered elsewhere or not a page.
PAGES = {
    "i18n/": None, "api/v1/": None,  # the language switch; the API (above)
    # POST only (a GET is 405 for everyone): tests/web/test_engineer_pages.py::test_the_language_switch_*
    "i18n/setlang/": Case("public", lambda c, s: {}, listing=True, ok=(405,)),
    "healthz": Case("public", lambda c, s: {}, listing=True),  # for load balancers: no sign-in, no data
    "inspections/": Case("any", lambda c, s: {}, listing=True),
    # xlsx files: the leak check cannot read them; tests/web/test_engineer_pages.py checks their scope.
    "inspections/download/": Case("any", lambda c, s: {}, listing=True),
    "assets/download/": Case("any", lambda c, s: {}, listing=True),
    "inspections/<int:pk>/correct/": Case("correct_records", lambda c, s: {"pk": c.inspections[s].pk}),
    # POST from the asset page; a GET goes back to the asset page.
    "inspections/<int:pk>/withdraw/": Case("correct_records", lambda c, s: {"pk": c.inspections[s].pk}, ok=(302,)),
    "ledger/imports/": Case("any", lambda c, s: {}, listing=True),
    "ogc/": None,  # OGC API – Features: every route × role in tests/ogc/test_ogc_api.py::test_scope_as_the_rest_of_the_api
    "admin/": None,  # Django's admin, scoped by assets.admin and tested there
    "accounts/login/": Case("public", lambda c, s: {}, listing=True),
    "accounts/logout/": Case("public", lambda c, s: {}, listing=True, ok=(405,)),  # POST only
    "accounts/sign-out/": Case("public", lambda c, s: {}, listing=True),
    "inspections/new/": Case("any", lambda c, s: {}, listing=True),
    "inspections/new/<str:gid>/": Case("asset_write", lambda c, s: {"gid": c.bridges[s].global_id}),
    "inspections/overdue/": Case("any", lambda c, s: {}, listing=True),
    "assets/<str:gid>/measures/new/": Case("asset_write", lambda c, s: {"gid": c.bridges[s].global_id}),
    "measures/<int:pk>/edit/": Case("asset_write", lambda c, s: {"pk": c.measures[s].pk}),
    "measures/rates/": Case("any", lambda c, s: {}, listing=True),
    # An xlsx file: the leak check cannot read it; tests/inspections/test_worklist.py checks downloads' scope.
    "inspections/overdue/download/": Case("any", lambda c, s: {}, listing=True),
    "ledger/import/": Case("any", lambda c, s: {}, listing=True),
    "map/": Case("any", lambda c, s: {}, listing=True),
    "assets/": Case("any", lambda c, s: {}, listing=True),
    "runs/": Case("any", lambda c, s: {}, listing=True),
    "runs/<int:pk>/": Case("region_read", lambda c, s: {"pk": c.runs[s].pk}),
    "runs/<int:pk>/clusters/<int:rank>/": Case("region_read", lambda c, s: {"pk": c.runs[s].pk, "rank": 1}),
    "runs/<int:a>/compare/<int:b>/": Case("region_read", lambda c, s: {"a": c.runs[s].pk, "b": c.runs[s].pk}),
    "plans/<int:pk>/": Case("region_read", lambda c, s: {"pk": c.plans[s].pk}),
    # An xlsx file (the plan's works): the leak check cannot read it; a foreign plan answers 404 before any file.
    "plans/<int:pk>/works.xlsx": Case("region_read", lambda c, s: {"pk": c.plans[s].pk}),
    # POST only (pins: tests/reports/test_pins.py): a GET is refused with 405, whoever asks.
    "plans/<int:pk>/pins/": Case("region_read", lambda c, s: {"pk": c.plans[s].pk}, ok=(405,)),
    "regions/<slug:slug>/params/": Case("coordinate", lambda c, s: {"slug": c.regions[s].slug}),
    "assets/<str:gid>/": Case("asset_read", lambda c, s: {"gid": c.assets[s].global_id}),
    "files/photos/<int:pk>/": Case("asset_read", lambda c, s: {"pk": c.photos[s].pk}, tokens=True),
    "files/photos/<int:pk>/thumbnail/": Case("asset_read", lambda c, s: {"pk": c.photos[s].pk}, tokens=True),
    "": Case("public", lambda c, s: {}, listing=True, ok=(302,)),
    # The region map's vector tiles (web/tiles.py): the tile around our asset at z14; the body must not carry
    # another region's asset (the leak check reads it); an empty tile is 204.
    "tiles/assets/<int:z>/<int:x>/<int:y>.pbf": Case("any", lambda c, s: _tile(c, s), listing=True, ok=(200, 204)),
    "tiles/base/<int:z>/<int:x>/<int:y>.pbf": Case("any", lambda c, s: _tile(c, s), listing=True, ok=(200, 204)),
    "tiles/lots/<int:run>/<int:z>/<int:x>/<int:y>.pbf": Case("region_read", lambda c, s: {
        "run": c.runs[s].pk, **_tile(c, s)}, ok=(200, 204)),
}


def _tile(c, s):
    import mercantile

    lon, lat = c.assets[s].geom.coords[0][:2] if c.assets[s].geom.geom_type != "Point" else c.assets[s].geom.coords
    t = mercantile.tile(lon, lat, 14)
    return {"z": 14, "x": t.x, "y": t.y}


@dataclass
class Ctx:
    assets: dict = field(default_factory=dict)
    retirable: dict = field(default_factory=dict)
    bridges: dict = field(default_factory=dict)
    inspections: dict = field(default_factory=dict)
    measures: dict = field(default_factory=dict)
    photos: dict = field(default_factory=dict)
    regions: dict = field(default_factory=dict)
    runs: dict = field(default_factory=dict)
    plans: dict = field(default_factory=dict)
    imports: dict = field(default_factory=dict)
    pins: dict = field(default_factory=dict)
    clients: dict = field(default_factory=dict)


@pytest.fixture
def ctx(world, settings):
    from reports.services import plan_create, plan_execute

    settings.ENGINE_SYNC = True
    noto = Region.objects.create(slug="noto", name="能登", lead=world.wajima)
    noto.members.set([world.wajima])
    c = Ctx()
    for side, muni, lon, lat, region in (("ours", world.yashio, 139.839, 35.822, world.region),
                                         ("theirs", world.wajima, 136.899, 37.391, noto)):
        marker = OURS if side == "ours" else THEIRS
        c.assets[side] = make_asset(muni, "sewer_pipe", external_id=f"{side}-1", lon=lon, lat=lat, built=1960)
        make_asset(muni, "sewer_pipe", external_id=f"{side}-2", lon=lon + 0.001, lat=lat, built=1960)
        Asset.objects.filter(external_id__startswith=side).update(name=marker)
        c.retirable[side] = make_asset(muni, "manhole", external_id=f"{side}-mh", lon=lon, lat=lat)
        c.bridges[side] = make_asset(muni, "bridge", external_id=f"{side}-br", lon=lon, lat=lat)
        c.inspections[side] = inspection_record(actor=Actor.system(Via.API), asset=c.bridges[side],
                                                inspected_on="2023-05-01", grade="III")
        c.measures[side] = measure_record(actor=Actor.system(Via.API), asset=c.bridges[side], kind="通行規制",
                                          started_on="2023-05-02", notes=marker)
        c.photos[side] = photos_add(actor=Actor.system(Via.API), inspection=c.inspections[side],
                                    photos=[SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg")])[0]
        c.regions[side] = region
        c.runs[side] = run_execute(run_create(principal=None, region=region).pk)
        assert c.runs[side].status == EngineRun.Status.DONE and c.runs[side].clusters.filter(rank=1).exists()
        EngineRun.objects.filter(pk=c.runs[side].pk).update(message=marker)
        c.plans[side] = plan_execute(plan_create(principal=None, run=c.runs[side]).pk)
        c.pins[side] = pin_set(actor=Actor.system(Via.API), cluster=c.runs[side].clusters.get(rank=1), mode="pin",
                               fiscal_year=plan_first_fy(), reason=marker)
        from ledger.models import LedgerImport

        c.imports[side] = LedgerImport.objects.create(municipality=muni, via="api", kind="sewer_pipe",
                                                      filename=f"{marker}.csv", owners=[muni.code], status="done")
    users = {"viewer": world.victor, "engineer": world.alice, "outsider": world.charlie,
             "coordinator": world.carol, "admin": world.admin}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if role in users:
            client.force_login(users[role])
        elif role in TOKENS:
            muni = world.wajima if role == "other_token" else world.yashio
            _t, key = ApiToken.issue(name=role, municipality=muni, source="daicho", can_write=role != "read_token")
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        c.clients[role] = client
    return c


def _call(client, method, template, spec):
    spec = dict(spec)
    path = template
    for key in list(spec):
        if "{" + key + "}" in path:
            path = path.replace("{" + key + "}", str(spec.pop(key)))
    query = spec.pop("query", None)
    extra = spec.pop("extra", {})
    if query:
        from urllib.parse import urlencode
        path += "?" + urlencode(query)
    data = spec.pop("data", None)
    kwargs = {"content_type": spec.pop("content_type")} if "content_type" in spec else {}
    assert not spec, f"unused parameters {spec} for {template}"
    fn = getattr(client, method.lower())
    return fn(path, data, **kwargs, **extra) if data is not None else fn(path, **kwargs, **extra)


def _judge(problems, label, role, side, case, r, body_ok_check=True):
    allowed = (ALLOWED[case.access][0 if side == "ours" else 1] if case.access in ALLOWED
               else set(ROLES))
    code = r.status_code
    if code >= 500:
        problems.append(f"{label} {role} {side}: {code} (server error)")
    elif role in allowed:
        if code not in case.ok:
            problems.append(f"{label} {role} {side}: {code}, expected one of {case.ok}: {r.content[:200]!r}")
    elif 200 <= code < 300 and not case.listing:
        problems.append(f"{label} {role} {side}: {code} — LEAK (should be 401/403/404)")
    if case.listing and 200 <= code < 300 and body_ok_check:
        body = b"".join(r.streaming_content) if r.streaming else r.content
        text = body.decode("utf-8", "replace")
        # Nakagawa people and tokens never see 能登's objects and the reverse; the administrator sees all.
        foreign = THEIRS if role in {"viewer", "engineer", "coordinator", "read_token", "write_token"} else (
            OURS if role in {"outsider", "other_token"} else None)
        if foreign and foreign in text:
            problems.append(f"{label} {role}: LEAK, the list shows another region's object")


def test_every_api_route_for_every_role(ctx):
    from config.api import api

    schema = api.get_openapi_schema()
    problems, tried = [], 0
    unknown = [(m.upper(), p) for p, ops in schema["paths"].items() for m in ops if (m.upper(), p) not in API]
    assert not unknown, f"routes the permission matrix does not know; add them to API in {__file__}: {unknown}"
    for (method, path), case in API.items():
        assert path in schema["paths"], f"{path} is in the matrix but no longer in the API: remove it"
        for side in (("ours",) if case.listing and case.access == "any" else ("ours", "theirs")):
            for role in ROLES:
                # Built anew for each request: an uploaded file is read once.
                r = _call(ctx.clients[role], method, path, case.request(ctx, side))
                tried += 1
                if role == "anonymous" and r.status_code not in (401, 403):
                    problems.append(f"{method} {path} anonymous: {r.status_code}, expected 401")
                    continue
                if role != "anonymous":
                    _judge(problems, f"{method} {path}", role, side, case, r)
    print(f"permission matrix (API): {tried} requests, {len(API)} routes × {len(ROLES)} roles × own/others")
    assert not problems, "\n".join(problems)


def _page_routes(patterns=None, prefix=""):
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for p in patterns:
        route = prefix + str(p.pattern)
        route = route.removeprefix("^").removesuffix("$")
        if isinstance(p, URLResolver):
            if route in PAGES and PAGES[route] is None:
                continue
            if getattr(p.pattern, "prefix_default_language", None) is not None:  # i18n_patterns
                yield from _page_routes(p.url_patterns, prefix)
                continue
            yield from _page_routes(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route


def test_every_page_for_every_role(ctx):
    import re

    routes = list(_page_routes())
    unknown = [r for r in routes if r not in PAGES]
    assert not unknown, f"pages the permission matrix does not know; add them to PAGES in {__file__}: {unknown}"
    problems, tried = [], 0
    for route in routes:
        case = PAGES[route]
        for side in (("ours",) if case.listing else ("ours", "theirs")):
            values = case.request(ctx, side)
            path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m, v=values: str(v[m.group(1)]), route)
            for role in ROLES:
                r = ctx.clients[role].get(path)
                tried += 1
                label = f"GET {path}"
                if case.access == "public":
                    if r.status_code not in case.ok:
                        problems.append(f"{label} {role}: {r.status_code}, expected {case.ok}")
                elif role == "anonymous" or (role in TOKENS and not case.tokens):  # pages are for people
                    if r.status_code != 302 or "/accounts/login/" not in r["Location"]:
                        problems.append(f"{label} {role}: {r.status_code}, expected a redirect to sign in")
                else:
                    _judge(problems, label, role, side, case, r)
    print(f"permission matrix (pages): {tried} requests, {len(routes)} pages × {len(ROLES)} roles × own/others")
    assert not problems, "\n".join(problems)
