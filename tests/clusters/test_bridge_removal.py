"""Bridge removal (役割を終えた橋): the detour on the road network without the bridge, and renewal vs removal."""

import numpy as np
import pytest
from django.contrib.gis.geos import LineString, Point

from assets.history import Actor
from assets.models import Via
from assets.services import asset_create
from clusters.engine.bridge_lcc import keep_cost
from clusters.engine.consolidation import bridge_keep_or_remove
from clusters.engine.network import Edges, detour_routes, detours
from clusters.engine.params import Params
from clusters.services import run_create, run_execute
from inspections.services import inspection_record
from tests.conftest import make_asset

P = Params()


def ladder() -> Edges:
    """Two 200 m lanes crossing a river 300 m apart (links 1 and 2), joined by roads at both ends (3, 4), and
    a dead-end lane (5) crossing the same river farther east."""
    seg = {1: (0, 0, 0, 200), 2: (300, 0, 300, 200), 3: (0, 200, 300, 200), 4: (0, 0, 300, 0),
           5: (900, 0, 900, 200)}
    ids = np.array(list(seg))
    x0, y0, x1, y1 = np.array(list(seg.values()), dtype=float).T
    return Edges(ids, x0, y0, x1, y1, np.hypot(x1 - x0, y1 - y0))


def test_detour_is_the_way_round_minus_the_link():
    extra = detours(ladder(), np.array([1, 2, 5]), cutoff_m=5000)
    # Without lane 1: 300 + 200 + 300 = 800 m instead of 200 m.
    assert extra[:2] == pytest.approx([600.0, 600.0])
    assert np.isnan(extra[2])  # the dead-end lane has no way round


def test_a_way_round_longer_than_the_cutoff_is_not_looked_for():
    assert np.isnan(detours(ladder(), np.array([1]), cutoff_m=500)[0])


def test_ends_a_few_centimetres_apart_are_one_junction():
    e = ladder()
    jittered = Edges(e.ids, e.x0 + 0.04, e.y0 - 0.03, e.x1, e.y1, e.length)
    assert detours(jittered, np.array([1]), cutoff_m=5000)[0] == pytest.approx(600.0)


THETA = tuple(P.default_hazards["bridge_kenzen"])  # Ⅰ→Ⅱ 20 years, Ⅱ→Ⅲ 60, Ⅲ→Ⅳ 30 on average
II, III = (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0)


def keep(state=II, age=20.0, deck=160.0, next_inspection_in=3.0, **kw):
    args = dict(deck_m2=deck, state_probs=state, theta=THETA, repair_state=P.bridge_repair_state, age=age,
                life=P.bridge_life_years, next_inspection_in=next_inspection_in,
                repair_cost_m2=P.cost_bridge_repair_m2, renew_cost_m2=P.cost_bridge_renew_m2,
                inspection_cost=P.cost_bridge_inspection, inspection_interval=P.bridge_inspection_interval_years,
                upkeep_m2_year=P.bridge_om_per_m2_year, rate=P.discount_rate, period=P.lcc_period_years)
    return keep_cost(**{**args, **kw})


def keep_or_remove(traffic, detour_m=600.0, deck=160.0, kept=None):
    return bridge_keep_or_remove(
        deck_m2=deck, traffic=traffic, detour_m=detour_m, keep=kept or keep(deck=deck),
        removal_cost_m2=P.cost_bridge_removal_m2, rate=P.discount_rate,
        cost_per_vehicle_km=P.detour_cost_per_vehicle_km, period=P.lcc_period_years)


def test_keeping_a_sound_bridge_costs_its_life_cycle_not_a_replacement_now():
    """domain.md §7 (keep = the repair-based life cycle with 5-yearly inspections), §3.5 (LCC over 50 years):
    a 20-year-old bridge in Ⅱ reaches Ⅲ in 60 years on the expected path, beyond the period, so it is
    inspected every 5 years and renewed when 60 years old, 40 years from now — not replaced today."""
    k = keep()
    d = 1.04
    inspections = 500_000 * sum(d ** -t for t in range(3, 50, 5))  # years 3, 8, … 48: ten 定期点検
    renewal = 112e6 * d ** -40 - 112e6 * (1 - 10 / 60) * d ** -50  # less the renewed bridge's 50 years left
    assert (k.repairs, k.first_repair_in, k.renewal_in, k.inspections_count) == (0.0, None, 40.0, 10)
    assert k.inspections == pytest.approx(inspections)
    assert k.renewal == pytest.approx(renewal)
    assert k.total == pytest.approx(inspections + renewal)
    assert k.total < 0.2 * 160 * P.cost_bridge_renew_m2  # far less than full replacement now (112 M yen)


def test_repairs_fall_by_state_when_the_expected_path_reaches_the_repair_state():
    """§3.1 期待劣化パス: from Ⅲ the repair is due now (250,000 yen/m²); from Ⅰ after 20 + 60 = 80 years, beyond
    the period; a 予防保全 plan repairing at Ⅱ repairs a Ⅰ bridge 20 years from now. A distribution over the
    ranks weighs each start. A bridge renewed before its next 定期点検 (the legal deadline of a Ⅲ measure, §7)
    is renewed, not repaired first."""
    assert keep(state=III).repairs == pytest.approx(160 * 250_000)
    assert keep(state=III).first_repair_in == 0.0
    assert keep(state=(1.0, 0, 0, 0)).repairs == 0.0
    preventive = keep(state=(1.0, 0, 0, 0), repair_state=1)
    assert preventive.first_repair_in == pytest.approx(20.0)
    # Repaired at 20, back to Ⅰ, again at 40; renewal at 40 comes first, the new bridge's next at 60 > 50.
    assert preventive.repairs == pytest.approx(160 * 250_000 * 1.04 ** -20)
    mixed = keep(state=(0.0, 0.5, 0.5, 0.0))
    assert mixed.repairs == pytest.approx(0.5 * 160 * 250_000)
    assert keep(state=III, age=61.0).repairs == 0.0 and keep(state=III, age=61.0).renewal_in == 0.0
    assert keep(state=III, age=56.0).repairs == 0.0  # renewed in 4 years, before the next inspection
    assert keep(state=III, age=54.0).repairs == pytest.approx(160 * 250_000)  # in 6: repaired now


def test_removal_is_recommended_only_when_demolition_and_detour_cost_less_than_keeping():
    """§7: removal costs demolition (150,000 yen/m² now) plus every vehicle's detour for the whole period, at
    80 yen per vehicle-km; both sides are present values over the same 50 years, and yearly equivalents."""
    kept = keep(state=III, age=50.0)  # repair due now, renewal in ten years
    r = keep_or_remove(20, kept=kept)
    annuity = (1 - 1.04 ** -50) / 0.04
    remove = 24e6 + 20 * 365 * 0.6 * 80 * annuity
    assert (r.pv_keep, r.pv_remove) == (pytest.approx(kept.total), pytest.approx(remove))
    assert r.remove == {"demolition": pytest.approx(24e6), "detour": pytest.approx(remove - 24e6)}
    assert r.keep["repairs"] == pytest.approx(160 * 250_000) and r.keep["renewal_in"] == pytest.approx(10.0)
    assert r.recommendation == "remove" and r.pv_remove < r.pv_keep
    assert r.lcc_saving == pytest.approx(kept.total - remove)
    assert r.annual_cost_keep == pytest.approx(kept.total / annuity)
    assert r.saving_per_year == pytest.approx((kept.total - remove) / annuity)
    assert r.break_even_traffic == pytest.approx((kept.total - 24e6) / (365 * 0.6 * 80 * annuity))
    busy = keep_or_remove(r.break_even_traffic * 1.1, kept=kept)
    assert busy.recommendation == "renew" and busy.pv_remove > busy.pv_keep
    # A sound bridge far from the end of its life is cheaper to keep even with little traffic.
    assert keep_or_remove(20).recommendation == "renew"
    assert keep_or_remove(20, detour_m=float("nan")).recommendation == "no_alternative_route"


def with_reference(e: Edges, extra: dict) -> Edges:
    """The ladder plus reference-road pieces {id: (x0, y0, x1, y1, reference road id)}."""
    ids = np.append(e.ids, list(extra))
    x0, y0, x1, y1, ref = np.array(list(extra.values()), dtype=float).T
    x0, y0, x1, y1 = (np.append(a, b) for a, b in ((e.x0, x0), (e.y0, y0), (e.x1, x1), (e.y1, y1)))
    return Edges(ids, x0, y0, x1, y1, np.hypot(x1 - x0, y1 - y0),
                 reference=np.append(np.full(len(e.ids), np.nan), ref))


def test_a_reference_road_gives_the_way_round_the_registry_lacks():
    """§7: the detour network includes national and prefectural roads the registry does not own. The dead-end
    lane 5 has no way round on the registry's roads; a national road (reference road 77) crossing the river
    100 m east of it on its own bridge does, so removal becomes an option; a lane with no way round on either
    stays `no_alternative_route`."""
    registry = ladder()
    assert np.isnan(detours(registry, np.array([5]), cutoff_m=5000)[0])
    assert keep_or_remove(20, detour_m=float("nan")).recommendation == "no_alternative_route"
    national = with_reference(registry, {-1: (900, 0, 1000, 0, 77), -2: (1000, 0, 1000, 200, 77),
                                         -3: (1000, 200, 900, 200, 77), -4: (2000, 0, 2000, 200, 78)})
    found = detour_routes(national, np.array([5, 1]), cutoff_m=5000)
    assert found.extra_m[0] == pytest.approx(200.0) and found.via[0] == {77}
    assert found.extra_m[1] == pytest.approx(600.0) and found.via[1] == frozenset()  # registry roads only
    poor = keep(state=III, age=50.0)
    assert keep_or_remove(20, detour_m=float(found.extra_m[0]), kept=poor).recommendation == "remove"
    elsewhere = with_reference(registry, {-4: (2000, 0, 2000, 200, 78)})
    assert np.isnan(detour_routes(elsewhere, np.array([5]), cutoff_m=5000).extra_m[0])


def road(owner, ext, coords, traffic, **detail):
    return asset_create(actor=Actor.system(Via.SYSTEM), owner=owner, kind="road_segment", source="daicho",
                        external_id=ext, name="", geom=LineString(*coords, srid=6668), built_fiscal_year=1970,
                        detail={"road_class": "municipal_other", "length_m": 200.0, "traffic_volume": traffic,
                                **detail})


@pytest.fixture
def river_town(world):
    """八潮市: a river along 35.822 N crossed by two quiet lanes 0.003° (≈ 270 m) apart, joined north and south,
    each with a bridge; the west one is in 健全性Ⅳ. Farther east a dead-end lane crosses on a Ⅳ bridge too."""
    w, e, far, s, n, mid = 139.835, 139.838, 139.845, 35.821, 35.823, 35.822
    links = {
        "west": road(world.yashio, "L-west", ((w, s), (w, n)), 20),
        "east": road(world.yashio, "L-east", ((e, s), (e, n)), 20),
        "north": road(world.yashio, "L-north", ((w, n), (e, n)), 20),
        "south": road(world.yashio, "L-south", ((w, s), (e, s)), 20),
        "dead_end": road(world.yashio, "L-far", ((far, s), (far, n)), 20),
    }
    bridges = {}
    for name, lon, grade in (("west", w, "Ⅳ"), ("east", e, "Ⅰ"), ("dead_end", far, "Ⅳ")):
        b = make_asset(world.yashio, "bridge", external_id=f"B-{name}", lon=lon, lat=mid, built=1965)
        inspection_record(actor=Actor.system(), asset=b, inspected_on="2025-06-01", grade=grade)
        bridges[name] = b
    return links, bridges


def metric_length(asset) -> float:
    return asset.geom.transform(6677, clone=True).length


def test_engine_finds_the_detour_on_the_network_and_recommends_removal(world, river_town):
    links, bridges = river_town
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    found = {b["asset_id"]: b for b in run.summary["bridge_removals"]}
    assert set(found) == {bridges["west"].pk, bridges["dead_end"].pk}  # the sound east bridge is not screened
    west = found[bridges["west"].pk]
    way_round = metric_length(links["north"]) + metric_length(links["east"]) + metric_length(links["south"])
    expected = way_round - metric_length(links["west"])
    assert west["detour_m"] == pytest.approx(expected, abs=0.5)
    assert west["traffic"] == 20 and west["recommendation"] == "remove"
    assert found[bridges["dead_end"].pk]["recommendation"] == "no_alternative_route"
    assert run.summary["remove_bridges"] == 1
    # The bridge's lot carries the comparison, so the cluster page can show it.
    cluster = run.clusters.get(members__asset=bridges["west"])
    assert cluster.consolidation["bridge_removal"][0]["global_id"] == bridges["west"].global_id


def test_the_user_cost_of_the_detour_can_tip_it_to_renewal(world, river_town):
    _links, bridges = river_town
    run = run_execute(run_create(principal=world.carol, region=world.region,
                                 overrides={"detour_cost_per_vehicle_km": 2_000}).pk)
    west = next(b for b in run.summary["bridge_removals"] if b["asset_id"] == bridges["west"].pk)
    assert west["recommendation"] == "renew" and west["annual_cost_remove"] > west["annual_cost_keep"]


def test_busy_or_emergency_bridges_are_not_candidates(world, river_town):
    from assets.models import RoadSegment

    links, bridges = river_town
    RoadSegment.objects.filter(asset=links["west"]).update(traffic_volume=5_000)
    RoadSegment.objects.filter(asset=links["dead_end"]).update(is_emergency_route=True)
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    assert run.summary["bridge_removals"] == []
    # The bridge now scores the traffic of the road it carries.
    score = run.scores.get(asset=bridges["west"])
    assert score.c_traffic == pytest.approx(5 * np.log10(5_001) / np.log10(50_001))


def national_road(coords, name="国道298号"):
    from clusters.models import ReferenceRoad

    return ReferenceRoad.objects.create(geom=LineString(*coords, srid=6668), road_class="national", name=name,
                                        source="test")


def test_the_engine_finds_a_way_round_on_a_reference_road_the_registry_does_not_hold(world, river_town):
    """§7: the detour network includes national roads the registry does not own. The dead-end lane's Ⅳ bridge has
    no way round on the registry's roads. A national road 50 m north of the lane's ends does not meet it (beyond
    reference_road_join_m): still none on either. Digitised 3 m from them (as 国土数値情報 lines lie off the
    ledger's), it meets the lane at both ends and crosses the river on its own bridge: the way round is its
    stretch between the two junctions, and removal becomes the recommendation."""
    links, bridges = river_town
    far, s, n = 139.845, 35.821, 35.823

    def dead_end(off):
        national_road(((far - 0.003, s + off), (far + 0.002, s + off), (far + 0.002, n + off), (far - 0.003, n + off)))
        run = run_execute(run_create(principal=world.carol, region=world.region).pk)
        return next(b for b in run.summary["bridge_removals"] if b["asset_id"] == bridges["dead_end"].pk), run

    apart, _run = dead_end(0.00045)  # ≈ 50 m
    assert apart["recommendation"] == "no_alternative_route" and apart["detour_m"] is None
    from clusters.models import ReferenceRoad

    ReferenceRoad.objects.all().delete()
    found, run = dead_end(0.00003)  # ≈ 3 m
    road = ReferenceRoad.objects.get().geom.transform(6677, clone=True)
    lane = links["dead_end"].geom.transform(6677, clone=True)
    south, north = (road.project(Point(*lane.coords[i], srid=6677)) for i in (0, -1))
    assert found["detour_m"] == pytest.approx(north - south - lane.length, abs=0.5)
    assert found["detour_via_reference"] is True and found["detour_reference_roads"] == ["国道298号"]
    assert found["recommendation"] == "remove" and found["pv_remove"] < found["pv_keep"]
    # The west bridge's way round is on the registry's own lanes, as before.
    west = next(b for b in run.summary["bridge_removals"] if b["asset_id"] == bridges["west"].pk)
    assert west["detour_via_reference"] is False and west["detour_reference_roads"] == []


def test_the_run_says_how_keeping_and_removing_were_costed(world, river_town):
    """The summary shows the keep side (repairs, inspections, renewal) and the remove side (demolition, detour)."""
    _links, bridges = river_town
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    west = next(b for b in run.summary["bridge_removals"] if b["asset_id"] == bridges["west"].pk)
    keep, remove = west["keep"], west["remove"]
    # Built in 1965: 60 years old, so renewal is due now; Ⅳ is not repaired first.
    assert keep["renewal_in"] == 0.0 and keep["repairs"] == 0.0 and keep["inspections_count"] == 10
    assert keep["renewal"] + keep["inspections"] + keep["repairs"] + keep["upkeep"] == pytest.approx(west["pv_keep"])
    assert remove["demolition"] == pytest.approx(160 * P.cost_bridge_removal_m2)
    assert remove["demolition"] + remove["detour"] == pytest.approx(west["pv_remove"])
    assert west["period_years"] == P.lcc_period_years


GEOJSON = {
    "type": "FeatureCollection",
    # JGD2011 plane zone IX, metres (easting, northing): 八潮市 lies about 600 m east, 20 km south of its origin.
    "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::6677"}},
    "features": [
        {"type": "Feature", "properties": {"N01_001": "2", "N01_002": "一般国道4号"},
         "geometry": {"type": "LineString", "coordinates": [[600, -19960], [1000, -19960]]}},
        {"type": "Feature", "properties": {"N01_001": "5", "N01_002": "県道足立越谷線"},
         "geometry": {"type": "MultiLineString", "coordinates": [[[600, -19900], [600, -19500]],
                                                                 [[600, -19500], [900, -19200]]]}},
        {"type": "Feature", "properties": {"N01_001": "9", "N01_002": "案内所"},
         "geometry": {"type": "Point", "coordinates": [700, -19700]}},
    ],
}


def test_the_loader_reads_a_road_file_into_the_reference_layer(db, tmp_path):
    import json
    from datetime import date

    from django.core.management import call_command

    from clusters.models import ReferenceRoad

    path = tmp_path / "N01-11.geojson"
    path.write_text(json.dumps(GEOJSON, ensure_ascii=False), encoding="utf-8")
    args = [str(path), "--source", "国土数値情報 道路データ（国土交通省）", "--source-date", "2024-03-31",
            "--class-field", "N01_001", "--class-map", "2=national,5=prefectural", "--name-field", "N01_002"]
    call_command("load_reference_roads", *args, verbosity=0)
    rows = {r.name + str(i): r for i, r in enumerate(ReferenceRoad.objects.order_by("id"))}
    assert [(r.road_class, r.name) for r in rows.values()] == [
        ("national", "一般国道4号"), ("prefectural", "県道足立越谷線"), ("prefectural", "県道足立越谷線")]
    national = next(iter(rows.values()))
    assert national.geom.srid == 6668 and national.source_date == date(2024, 3, 31)
    lon, lat = national.geom.coords[0]
    assert lon == pytest.approx(139.840, abs=0.002) and lat == pytest.approx(35.820, abs=0.002)
    # The same source again replaces its roads; --append keeps them.
    call_command("load_reference_roads", *args, verbosity=0)
    assert ReferenceRoad.objects.count() == 3
    call_command("load_reference_roads", *args, "--append", verbosity=0)
    assert ReferenceRoad.objects.count() == 6


def test_the_loader_reads_class_names_by_their_words_and_refuses_what_it_cannot_read(db, tmp_path):
    import json

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from clusters.models import ReferenceRoad
    from clusters.reference_roads import classify

    assert [classify(v) for v in ("一般国道", "高速自動車国道", "主要地方道", "一般県道", "市道", "林道", None)] == [
        "national", "national", "prefectural", "prefectural", "municipal", "other", "other"]
    assert classify("3", {"3": "prefectural"}) == "prefectural"
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps(GEOJSON, ensure_ascii=False), encoding="utf-8")
    call_command("load_reference_roads", str(path), "--source", "s", "--class-field", "N01_002", verbosity=0)
    assert sorted(ReferenceRoad.objects.values_list("road_class", flat=True)) == [
        "national", "prefectural", "prefectural"]
    with pytest.raises(CommandError, match="No field 道路種別"):
        call_command("load_reference_roads", str(path), "--source", "s", "--class-field", "道路種別")
    with pytest.raises(CommandError, match="write code=class"):
        call_command("load_reference_roads", str(path), "--source", "s", "--class-map", "1=highway")
    with pytest.raises(CommandError):
        call_command("load_reference_roads", str(tmp_path / "missing.gpkg"), "--source", "s")


def test_the_loader_reads_a_geopackage_layer_by_name(db, tmp_path):
    import json
    import shutil
    import subprocess

    from django.core.management import call_command

    from clusters.models import ReferenceRoad

    if not shutil.which("ogr2ogr"):
        pytest.skip("ogr2ogr (GDAL tools) is not installed")
    src, gpkg = tmp_path / "roads.geojson", tmp_path / "roads.gpkg"
    src.write_text(json.dumps(GEOJSON, ensure_ascii=False), encoding="utf-8")
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(gpkg), str(src), "-nln", "N01"], check=True)
    call_command("load_reference_roads", str(gpkg), "--layer", "N01", "--source", "gpkg", "--road-class", "national",
                 verbosity=0)
    assert list(ReferenceRoad.objects.values_list("road_class", flat=True).distinct()) == ["national"]
    assert ReferenceRoad.objects.count() == 3


def test_the_run_page_and_the_pdf_show_how_keep_and_remove_were_costed(world, river_town, client, settings,
                                                                        tmp_path):
    """Japanese labels: keep = repairs + inspections + renewal, remove = demolition + detour, with the detour's
    length and whether it runs on reference roads."""
    import subprocess

    from django.urls import reverse
    from django.utils import translation

    from reports.services import plan_create, plan_execute

    settings.MEDIA_ROOT = tmp_path
    far, s, n, off = 139.845, 35.821, 35.823, 0.00003
    national_road(((far - 0.003, s + off), (far + 0.002, s + off), (far + 0.002, n + off), (far - 0.003, n + off)))
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    client.force_login(world.carol)
    with translation.override("ja"):
        html = client.get(reverse("run-detail", args=[run.pk])).content.decode()
    for label in ("橋梁の維持・撤去の比較", "補修", "定期点検", "耐用年数到達時の更新", "撤去費", "迂回による利用者費用",
                  "参照道路経由：国道298号", "台帳の道路のみ", "撤去を検討", "管路の改築方法"):
        assert label in html, label
    cluster = run.clusters.get(members__asset=river_town[1]["dead_end"])
    with translation.override("ja"):
        page = client.get(reverse("cluster-detail", args=[run.pk, cluster.rank])).content.decode()
    assert "参照道路経由：国道298号" in page and "撤去費" in page
    plan = plan_execute(plan_create(principal=world.carol, run=run).pk)
    text = subprocess.run(["pdftotext", "-layout", plan.pdf.path, "-"], capture_output=True, text=True,
                          check=True).stdout
    for label in ("(2) 橋梁の撤去・集約", "補修", "点検", "更新", "撤去", "迂回", "国道298号経由", "台帳の道路",
                  "現在価値", "参照道路（迂回路の探索）の出典：test"):
        assert label in text, label


def test_administrators_edit_reference_roads_in_the_admin_and_staff_only_read_them(world, client):
    from django.urls import reverse

    road = national_road(((139.84, 35.82), (139.85, 35.82)))
    client.force_login(world.admin)
    assert client.get(reverse("admin:clusters_referenceroad_changelist")).status_code == 200
    assert client.get(reverse("admin:clusters_referenceroad_change", args=[road.pk])).status_code == 200
    assert client.get(reverse("admin:clusters_referenceroad_add")).status_code == 200
    client.force_login(world.carol)  # staff, a coordinator: reads, cannot change or add
    assert client.get(reverse("admin:clusters_referenceroad_changelist")).status_code == 200
    page = client.get(reverse("admin:clusters_referenceroad_change", args=[road.pk])).content.decode()
    assert 'name="_save"' not in page
    assert client.get(reverse("admin:clusters_referenceroad_add")).status_code == 403
