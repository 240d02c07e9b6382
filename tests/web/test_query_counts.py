"""A list costs a fixed number of queries however many rows it shows: every list page and every API list is read
with N rows and again with 3N, and both must cost the same (and stay under a bound). A query per row (N+1) shows
up as a difference; the row count is checked to grow, so a list that shows nothing cannot pass by accident."""

import datetime
import time
from dataclasses import dataclass, field

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assets.history import Actor
from assets.models import Asset, Via
from clusters.models import AssetScore, Cluster, EngineRun
from clusters.services import run_create
from inspections.measure_services import measure_record
from inspections.services import inspection_record
from reports.services import plan_create
from tests.conftest import make_asset

N = 2
BOUND_FEED = 10
SYS = Actor.system(Via.SYSTEM)


@dataclass
class Rows:
    """The world and what `grow` has added so far."""

    world: object
    run: EngineRun  # a finished run: its lots, their members and the plans made from it grow
    home: Asset  # one asset whose inspections and measures grow (the asset page)
    added: int = 0
    clients: dict = field(default_factory=dict)

    def client(self, user) -> Client:
        if user.username not in self.clients:
            c = Client()
            c.force_login(user)
            self.clients[user.username] = c
        return self.clients[user.username]


def _square(lon, lat, d=0.0004):
    return MultiPolygon(Polygon.from_bbox((lon - d, lat - d, lon + d, lat + d)), srid=6668)


def grow(rows: Rows, n: int) -> None:
    """n more of everything: assets of both towns (inspected long ago, so due, each with a measure), runs, lots
    (all members of lot 1 as well), plans for the region and for each town, and an inspection and a measure of
    the home asset."""
    w = rows.world
    for _ in range(n):
        i = rows.added
        rows.added += 1
        owner, lon = (w.yashio, 139.830 + 0.0008 * i) if i % 2 == 0 else (w.soka, 139.800 + 0.0008 * i)
        pipe = make_asset(owner, "sewer_pipe", external_id=f"Q-{i}", lon=lon)
        inspection_record(actor=SYS, asset=pipe, inspected_on="2012-05-01", grade="II")
        measure_record(actor=SYS, asset=pipe, kind="repair", started_on=f"2024-06-{i + 1:02d}", cost_yen=1000 + i,
                       contractor=f"業者{i}")
        inspection_record(actor=SYS, asset=rows.home, inspected_on=datetime.date(2000 + i, 4, 1), grade="III",
                          legal_basis="下水道法施行規則")
        measure_record(actor=SYS, asset=rows.home, kind="pipe_rehabilitation", started_on=f"2023-04-{i + 1:02d}",
                       completed_on=f"2023-05-{i + 1:02d}" if i % 2 else None, notes=f"措置{i}")
        run_create(principal=w.carol, region=w.region)
        lot = Cluster.objects.create(
            run=rows.run, key=f"sewer-{i}.0", rank=i + 1, work_type="sewer", member_count=1, municipality_count=1,
            cost_shares={owner.code: 1e6}, action_mix={"renew": 1}, drivers={"traffic": 2.0, "depth": 1.0},
            cost_members=1e6, mobilization=1e5, dig_once_saving=0, bundling_saving=0, total_cost=1.1e6,
            risk_removed=1.0 / (i + 1), risk_per_myen=1.0 / (i + 1), geom=_square(lon, 35.822))
        first = lot if i == 0 else Cluster.objects.get(run=rows.run, rank=1)
        AssetScore.objects.create(run=rows.run, asset=pipe, cluster=first, expected_state=0.5, lof=0.5, dlof=0.4,
                                  cof=2.0, risk=1.0, action=2, cost=1e6, risk_removed=0.8, work_type=1)
        plan_create(principal=w.carol, run=rows.run, municipality=(None, w.yashio, w.soka)[i % 3])


@pytest.fixture
def rows(world) -> Rows:
    run = EngineRun.objects.create(region=world.region, status=EngineRun.Status.DONE, params={}, progress=100,
                                   summary={"assets": 10, "acting": 5, "clusters": 3}, finished_at=timezone.now())
    home = make_asset(world.yashio, "sewer_pipe", external_id="HOME", lon=139.845)
    return Rows(world, run, home)


def _html_rows(r) -> int:
    return r.content.decode().count("<tr")


def _items(r) -> int:
    return len(r.json()["items"])


def _features(r) -> int:
    return len(r.json()["features"])


# name: (user, url of the Rows, what grows with the rows, bound on the queries). The bounds are what each list
# costs today plus two: the session, the user, the user's scope (memberships, regions) and the list itself.
CASES = {
    # pages
    "asset list": ("alice", lambda d: "/assets/", _html_rows, 12),
    "work list": ("alice", lambda d: "/inspections/overdue/?municipality=all&within=365", _html_rows, 13),
    # 17: a ledger source without a label of its own is named by its ledger system's API key (assets.sources).
    "asset page (its inspections and measures)": ("alice", lambda d: f"/assets/{d.home.global_id}/", _html_rows, 17),
    "measure rates": ("alice", lambda d: "/measures/rates/", None, 15),
    "runs list": ("carol", lambda d: "/runs/", _html_rows, 11),
    "run page (lots and plans)": ("carol", lambda d: f"/runs/{d.run.pk}/", _html_rows, 14),
    "lot page (members)": ("carol", lambda d: f"/runs/{d.run.pk}/clusters/1/", _html_rows, 13),
    "map page": ("carol", lambda d: "/map/?region=nakagawa", None, 9),
    # the map's data
    "map: assets": ("carol", lambda d: "/api/v1/assets.geojson?bbox=139.7,35.7,139.9,35.9", _features, 9),
    "map: lots": ("carol", lambda d: f"/api/v1/runs/{d.run.pk}/clusters.geojson", _features, 11),
    # API lists
    "API assets": ("alice", lambda d: "/api/v1/assets", _items, 11),
    "API inspections": ("alice", lambda d: "/api/v1/inspections", _items, 11),
    "API measures": ("alice", lambda d: "/api/v1/measures", _items, 11),
    "API overdue": ("alice", lambda d: "/api/v1/overdue?municipality=all&within=365", _items, 12),
    "API runs": ("carol", lambda d: "/api/v1/runs", _items, 10),
    "API clusters": ("carol", lambda d: f"/api/v1/runs/{d.run.pk}/clusters", _items, 11),
    "API lot with members": ("carol", lambda d: f"/api/v1/runs/{d.run.pk}/clusters/1",
                             lambda r: len(r.json()["members"]), 11),
    "API plans": ("carol", lambda d: "/api/v1/plans", _items, 10),
}


def _cost(rows: Rows, user: str, url: str):
    client = rows.client(getattr(rows.world, user))
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
    assert r.status_code == 200, (url, r.status_code, r.content[:300])
    return len(ctx.captured_queries), r, [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("name", list(CASES))
def test_a_list_costs_the_same_queries_for_n_and_3n_rows(rows, name):
    user, url, shown, bound = CASES[name]
    grow(rows, N)
    _cost(rows, user, url(rows))  # warm up: session, content types, translations
    few, r_few, _sql = _cost(rows, user, url(rows))
    grow(rows, 2 * N)
    many, r_many, sql = _cost(rows, user, url(rows))
    if shown is not None:
        assert shown(r_many) > shown(r_few), f"{name}: the list did not grow, so the count proves nothing"
    assert many == few, f"{name}: {few} queries for {N} rows, {many} for {3 * N}:\n" + "\n".join(sql)
    assert few <= bound, f"{name}: {few} queries (at most {bound}):\n" + "\n".join(sql)


@pytest.mark.django_db(transaction=True)
def test_the_change_feed_costs_the_same_queries_for_n_and_3n_changes(world):
    """Committed rows (the feed serves only changes of finished transactions), hence a transactional test."""
    rows = Rows(world, run=None, home=None)
    client = rows.client(world.alice)

    def feed(at_least: int = 0):
        # The feed holds back changes while any older transaction is open (other connections' too): wait until
        # it serves what was committed, then count the queries of one read.
        deadline = time.monotonic() + 30
        while True:
            with CaptureQueriesContext(connection) as ctx:
                r = client.get("/api/v1/changes?limit=1000")
            assert r.status_code == 200, r.content[:300]
            seen = len(r.json()["changes"])
            if seen >= at_least or time.monotonic() > deadline:
                return len(ctx.captured_queries), seen, [q["sql"] for q in ctx.captured_queries]
            time.sleep(0.2)

    for i in range(N):
        make_asset(world.yashio, "manhole", external_id=f"F-{i}", lon=139.830 + 0.0008 * i)
    feed(N)  # warm up
    few, seen_few, _sql = feed(N)
    for i in range(N, 3 * N):
        make_asset(world.yashio, "manhole", external_id=f"F-{i}", lon=139.830 + 0.0008 * i)
    many, seen_many, sql = feed(3 * N)
    assert seen_few >= N and seen_many >= 3 * N
    assert many == few and few <= BOUND_FEED, f"{few} queries for {seen_few} changes, {many} for {seen_many}:\n" + \
        "\n".join(sql)
