import hashlib

import pytest
from django.core.management import call_command
from django.db import connection

from assets.models import Asset, SewerPipe
from inspections.models import Inspection
from tests.conftest import module_data

N = 3000


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """One generated region for the module's tests (a test that regenerates it does so inside its own savepoint)."""
    with module_data(django_db_blocker):
        call_command("load_reference_data", verbosity=0)
        call_command("generate_region", region="nakagawa", assets=N, seed=7, verbosity=0)
        yield


@pytest.fixture
def nakagawa(generated, db):
    pass


def fingerprint():
    with connection.cursor() as cur:
        cur.execute("SELECT md5(string_agg(global_id || ST_AsText(geom) || coalesce(built_fiscal_year, 0)::text, ','"
                    " ORDER BY global_id)) FROM assets_asset")
        return cur.fetchone()[0]


def test_it_generates_exactly_the_requested_number_of_every_kind(nakagawa):
    assert Asset.objects.count() == N
    kinds = set(Asset.objects.values_list("kind", flat=True).distinct())
    # Two 横断歩道橋 over the prefectural trunk road: a 告示426号 structure beside the bridges.
    assert kinds == {"road_segment", "bridge", "sewer_pipe", "manhole", "septic_tank", "ped_overpass"}
    assert Asset.objects.filter(kind="ped_overpass", road_structure__length_m__gt=0).count() == 2


def test_assets_lie_inside_their_owners_real_boundaries(nakagawa):
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM assets_asset a JOIN assets_municipality m ON m.code = a.owner_id "
                    "WHERE NOT ST_Intersects(ST_Buffer(m.boundary, 0.002), a.geom)")
        assert cur.fetchone()[0] == 0


def test_pipes_connect_manholes_and_lie_under_roads(nakagawa):
    pipes = SewerPipe.objects.select_related("upstream_manhole", "downstream_manhole", "road_segment")
    assert pipes.filter(upstream_manhole__isnull=True).count() == 0
    assert {p.upstream_manhole.kind for p in pipes[:50]} == {"manhole"}
    assert {p.road_segment.kind for p in pipes[:50]} == {"road_segment"}
    with connection.cursor() as cur:
        cur.execute("SELECT max(ST_HausdorffDistance(p.geom, r.geom)) FROM assets_sewerpipe s "
                    "JOIN assets_asset p ON p.id = s.asset_id JOIN assets_asset r ON r.id = s.road_segment_id")
        assert cur.fetchone()[0] < 1e-6


def test_one_prefecture_trunk_crosses_several_cities(nakagawa):
    trunk = Asset.objects.filter(sewer_pipe__is_regional=True)
    assert trunk.exists() and set(trunk.values_list("owner_id", flat=True)) == {"110001"}
    with connection.cursor() as cur:
        cur.execute("SELECT count(DISTINCT m.code) FROM assets_asset a JOIN assets_sewerpipe s ON s.asset_id = a.id "
                    "JOIN assets_municipality m ON ST_Intersects(m.boundary, a.geom) "
                    "WHERE s.is_regional AND m.kind <> 'prefecture'")
        assert cur.fetchone()[0] >= 4
    assert max(trunk.values_list("sewer_pipe__diameter_mm", flat=True)) >= 2000


def test_septic_tanks_are_in_the_unsewered_outskirts_mostly(nakagawa):
    tanks = Asset.objects.filter(kind="septic_tank")
    inside = tanks.filter(septic_tank__in_sewer_planning_area=True).count()
    assert 0 < inside < tanks.count() / 2


def test_it_has_a_past_inspection_history_in_each_kinds_scheme(nakagawa):
    schemes = dict(Inspection.objects.values_list("scheme__code", "asset__kind").distinct())
    assert schemes["bridge_kenzen"] == "bridge"
    assert schemes["sewer_kinkyu"] == "sewer_pipe"
    assert schemes["septic_hantei"] == "septic_tank"
    assert schemes["pavement_shindan"] == "road_segment"
    from datetime import date

    assert Inspection.objects.filter(inspected_on__gt=date.today()).count() == 0
    # Successive inspections of the same asset exist: the deterioration model is estimated from such pairs.
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM (SELECT asset_id FROM inspections_inspection i JOIN inspections_gradingscheme s"
                    " ON s.id = i.scheme_id WHERE s.code = 'bridge_kenzen' GROUP BY asset_id HAVING count(*) >= 2) t")
        assert cur.fetchone()[0] > 10
    # Every generated asset has a condition row, and the bridges' due dates follow the 5-year cycle.
    from inspections.models import AssetCondition

    assert AssetCondition.objects.count() == N
    c = AssetCondition.objects.filter(asset__kind="bridge").exclude(inspected_on=None).first()
    assert (c.next_due_on - c.inspected_on).days in range(1825, 1828)


def test_it_is_deterministic_and_idempotent(nakagawa):
    first = fingerprint()
    call_command("generate_region", region="nakagawa", assets=N, seed=7, verbosity=0)  # skipped
    assert fingerprint() == first
    call_command("generate_region", region="nakagawa", assets=N, seed=7, force=True, verbosity=0)
    # Regenerating replaces the data; serials continue, so compare everything but the serial.
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM assets_asset")
        assert cur.fetchone()[0] == N


def test_the_same_seed_gives_the_same_region():
    from generator.layout import generate
    from tests.generator.test_generate_region_pure import small_region

    a, b = generate(small_region(), 2000, 3), generate(small_region(), 2000, 3)
    assert hashlib.md5(a.assets["geom"].str.cat().encode()).digest() == \
        hashlib.md5(b.assets["geom"].str.cat().encode()).digest()
    assert len(a.assets) == 2000


def test_unknown_region_is_a_clear_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown region 'atlantis'"):
        call_command("generate_region", region="atlantis", assets=N, seed=1)


def test_pipes_carry_house_connections_denser_near_the_hall(nakagawa):
    # The demo's 取付管数 (domain.md §4.2): every municipal pipe has a count, more per 100 m near the town hall.
    pipes = SewerPipe.objects.filter(is_regional=False)
    assert pipes.filter(house_connections__isnull=True).count() == 0
    with connection.cursor() as cur:
        cur.execute("""
            SELECT ST_Distance(a.geom::geography, m.hall_location::geography) < 600 AS centre,
                   sum(s.house_connections) * 100.0 / sum(s.length_m)
            FROM assets_sewerpipe s JOIN assets_asset a ON a.id = s.asset_id
            JOIN assets_municipality m ON m.code = a.owner_id
            WHERE NOT s.is_regional GROUP BY 1""")
        per_100m = dict(cur.fetchall())
    assert per_100m[True] > per_100m[False] > 0


def test_the_towns_trunk_roads_are_reference_roads_its_lanes_meet(nakagawa):
    """domain.md §7: the detour network includes national and prefectural roads the registry does not own. Each
    town gets a 国道 bypass and a 県道 outside its core as reference roads (not assets), through the nodes where its
    lanes cross them, and on no municipal street's line; regenerating replaces them."""
    from clusters.models import ReferenceRoad

    roads = ReferenceRoad.objects.filter(source="demo generator (nakagawa)")
    assert set(roads.values_list("road_class", flat=True)) == {"national", "prefectural"}
    # At the demo's 30,000 assets every town gets both; this coarse test grid (600 m) leaves the small ones no
    # room outside their cores.
    assert roads.count() >= 6 and not Asset.objects.filter(name__startswith="国道").exists()
    with connection.cursor() as cur:
        cur.execute("""
            SELECT count(*) FILTER (WHERE ends = 2), count(DISTINCT rid) FILTER (WHERE ends >= 1)
            FROM (SELECT rr.id AS rid, a.id,
                         ST_DWithin(rr.geom, ST_StartPoint(a.geom), 1e-7)::int
                         + ST_DWithin(rr.geom, ST_EndPoint(a.geom), 1e-7)::int AS ends
                  FROM clusters_referenceroad rr JOIN assets_asset a ON a.kind = 'road_segment'
                   AND ST_DWithin(rr.geom, a.geom, 1e-7)) t""")
        along, met = cur.fetchone()
    assert along == 0  # no municipal street on a reference road's line
    assert met == roads.count()  # every one meets the town's lanes
    n = roads.count()
    call_command("generate_region", region="nakagawa", assets=N, seed=7, force=True, verbosity=0)
    assert ReferenceRoad.objects.filter(source="demo generator (nakagawa)").count() == n


def test_the_demo_has_septic_ownership_planning_areas_methods_and_upkeep_lapses(nakagawa):
    """The demo shows the septic rules: 個人設置型 and 市町村設置型 tanks (who pays, domain.md §7), tanks inside a
    下水道計画区域 (接続指導, 下水道法 第10条), several 処理方式 (施行規則 第6条 table) and 保守点検/清掃 records, most in
    time and some lapsed (浄化槽法 第10条)."""
    from django.utils import timezone

    from assets.models import SepticTank
    from inspections.models import AssetCondition

    tanks = SepticTank.objects.all()
    assert set(tanks.values_list("ownership", flat=True)) == {"private", "municipal"}
    assert tanks.filter(in_sewer_planning_area=True).exists()
    assert len(set(tanks.values_list("treatment_method", flat=True))) >= 4
    cond = AssetCondition.objects.filter(asset__kind="septic_tank")
    today = timezone.localdate()
    n = cond.count()
    lapsed = cond.filter(maintenance_due_on__lt=today).count()
    assert cond.filter(maintenance_due_on__isnull=False).count() == n
    assert 0 < lapsed < n / 2
    assert 0 < cond.filter(cleaning_due_on__lt=today).count() < n / 2
