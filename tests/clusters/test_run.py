"""Engine runs against PostGIS: clusters across boundaries, and a small region ranked by hand."""

import math

import pytest
from django.core.exceptions import PermissionDenied

from clusters.engine.params import Params
from clusters.models import AssetScore, EngineRun
from clusters.services import run_create, run_execute
from tests.conftest import make_asset


def run(world, **overrides):
    return run_execute(run_create(principal=world.carol, region=world.region, overrides=overrides).pk)


def test_only_the_regions_coordinators_may_run_the_engine(world):
    for persona in (world.alice, world.charlie, world.victor):
        with pytest.raises(PermissionDenied):
            run_create(principal=persona, region=world.region)
    assert not EngineRun.objects.exists()


def test_assets_straddling_a_boundary_form_one_cluster_of_two_municipalities(world):
    # 八潮市 and 草加市 squares touch at lon 139.822 in the test world; two failing pipes 60 m apart across it.
    a = make_asset(world.yashio, "sewer_pipe", external_id="Y", lon=139.8195, lat=35.8220, built=1965)
    b = make_asset(world.soka, "sewer_pipe", external_id="S", lon=139.8230, lat=35.8220, built=1965)
    far = make_asset(world.yashio, "sewer_pipe", external_id="F", lon=139.8500, lat=35.8220, built=1965)
    r = run(world)
    sa, sb, sf = (AssetScore.objects.get(run=r, asset=x) for x in (a, b, far))
    assert sa.get_action_display() != "monitor" and sb.get_action_display() != "monitor"
    assert sa.cluster_id == sb.cluster_id != sf.cluster_id
    c = sa.cluster
    assert c.municipality_count == 2 and set(c.cost_shares) == {"112348", "112216"}
    assert c.bundling_saving == pytest.approx(Params().mobilization_per_contract)
    assert r.summary["cross_municipal_clusters"] == 1


def lof_after(theta, horizon):
    """P(0 → 3 within the horizon) for distinct hazards, by the closed form (Σ of exponentials)."""
    t = theta
    stay = [math.exp(-t[k] * horizon) for k in range(3)]
    p = [[0.0] * 4 for _ in range(4)]
    p[0][0] = stay[0]
    p[0][1] = t[0] / (t[1] - t[0]) * (stay[0] - stay[1])
    p[0][2] = t[0] * t[1] * (stay[0] / ((t[1] - t[0]) * (t[2] - t[0])) + stay[1] / ((t[0] - t[1]) * (t[2] - t[1]))
                             + stay[2] / ((t[0] - t[2]) * (t[1] - t[2])))
    return 1 - p[0][0] - p[0][1] - p[0][2]


def test_a_small_region_ranks_exactly_as_calculated_by_hand(world):
    from assets.history import Actor
    from inspections.services import inspection_record

    # Three pipes far apart, all graded 緊急度Ⅰ today: each is renewed and is its own lot.
    specs = [("P-A", 139.83, 300, 40.0, 1.5), ("P-B", 139.84, 1000, 20.0, 4.0), ("P-C", 139.85, 600, 80.0, 2.5)]
    pipes = {}
    for ext, lon, d, length, depth in specs:
        pipes[ext] = make_asset(world.yashio, "sewer_pipe", external_id=ext, lon=lon, diameter_mm=d, length_m=length,
                                cover_depth_m=depth)
        inspection_record(actor=Actor.system(), asset=pipes[ext], inspected_on="2025-04-01", grade="I")
    r = run(world, cluster_distance_m=100)
    p = Params()
    after = lof_after(p.default_hazards["sewer_kinkyu"], p.horizon_years)  # under 50 pairs: the defaults
    expected = {}
    for ext, _lon, d, length, depth in specs:
        served = 5 * min(max((d - 150) / 1850, 0), 1)
        cof = p.weights["served"] * served + p.weights["depth"] * 5 * min(depth / 10, 1)
        removed = (1 - after) * cof
        # P-B lies 4 m deep: renewed by 管更生 at its own unit cost (the others by open cut).
        rehab = depth >= p.pipe_open_cut_max_depth_m and d <= p.pipe_rehab_max_diameter_mm
        per_m = (p.cost_pipe_rehab_base_m + p.cost_pipe_rehab_per_mm_m * d if rehab
                 else p.cost_pipe_renew_base_m + p.cost_pipe_renew_per_mm_m * d)
        total = per_m * length + p.mobilization_per_contract
        expected[ext] = removed / total * 1e6
    order = sorted(expected, key=expected.get, reverse=True)
    clusters = list(r.clusters.order_by("rank"))
    assert [c.members.get().asset.external_id for c in clusters] == order
    for c in clusters:
        assert c.risk_per_myen == pytest.approx(expected[c.members.get().asset.external_id], rel=1e-4)
        # The drivers add up to the risk removed: every score is explained.
        assert sum(c.drivers.values()) == pytest.approx(c.risk_removed, rel=1e-4)


def test_a_run_freezes_its_parameters(world):
    from clusters.models import RegionParams

    RegionParams.objects.create(region=world.region, params={"horizon_years": 15})
    r = run_create(principal=world.carol, region=world.region, overrides={"cluster_distance_m": 500})
    assert (r.params["horizon_years"], r.params["cluster_distance_m"]) == (15, 500)
    RegionParams.objects.filter(region=world.region).update(params={"horizon_years": 5})
    r.refresh_from_db()
    assert r.params["horizon_years"] == 15


def test_unknown_parameters_are_refused(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        run_create(principal=world.carol, region=world.region, overrides={"horizn_years": 5})
    assert "horizon_years" in str(exc.value)


def test_a_run_executes_once_and_ownerless_runs_are_marked_failed(world):
    from django.utils import timezone

    r = run(world)
    again = run_execute(r.pk)  # a retried task: the run is no longer queued, nothing happens
    assert again.status == "done" and EngineRun.objects.get(pk=r.pk).duration_s == r.duration_s
    # 'running' but nobody holds its lock (the process died a second ago): failed at once, not hours later.
    stuck = EngineRun.objects.create(region=world.region, params={}, status="running", started_at=timezone.now())
    run_create(principal=world.carol, region=world.region)
    stuck.refresh_from_db()
    assert (stuck.status, stuck.message) == ("failed", str(EngineRun.dead_message))
