"""Sewer → 合併処理浄化槽 per branch (domain.md §3.6, §7 "Sewer vs 浄化槽 per branch"): households are those along
the branch (取付管数 in the sewer ledger, else buildings, else density), and the three ministries' method adds
plant and pumping O&M to the sewer side and removal and re-plumbing to the septic side."""

from dataclasses import replace

import numpy as np
import pytest

from clusters.engine.consolidation import SewerSepticCosts, crf, households_along, sewer_vs_septic
from clusters.engine.params import Params
from clusters.services import run_create, run_execute
from tests.conftest import make_asset

P = Params()
MANUAL = SewerSepticCosts.from_params(P)  # the defaults: the manual's 参考となる年数, every cost term
# The comparison as it stood before the three ministries' terms: capital recovery, pipes and tanks only.
BARE = replace(MANUAL, annualization="crf", treatment_om_per_household=0.0, replumb=0.0, removal=0.0,
               sewer_abandon_per_m=0.0)


def compare(households, pipe_m=1000.0, cost=145_000_000.0, costs=MANUAL):
    return sewer_vs_septic(pipe_m=pipe_m, renew_cost=cost, households=households, costs=costs)


def test_capital_recovery_factor():
    assert crf(0.04, 30) == pytest.approx(0.05783, abs=1e-5)
    assert crf(0.0, 50) == pytest.approx(0.02)


def test_break_even_by_hand_with_a_capital_recovery_factor_and_pipes_and_tanks_only():
    # 1 km of φ300 at 145,000 yen/m: 145 M × crf(4 %, 50) = 6.750 M + 1.0 M O&M = 7.750 M yen a year;
    # one tank: 1 M × crf(4 %, 30) = 57,830 + 60,000 = 117,830 yen a year → break-even 65.8 households/km.
    r = compare(100, costs=BARE)
    assert r.annual_cost_renew == pytest.approx(145e6 * crf(0.04, 50) + 1e6)
    assert r.break_even_per_km == pytest.approx(r.annual_cost_renew / (1e6 * crf(0.04, 30) + 60_000))
    assert r.break_even_per_km == pytest.approx(65.8, abs=0.1)


def test_break_even_by_hand_by_the_manuals_years_with_the_three_ministries_terms():
    # §3.6: sewer side = pipes 145 M / 50 years = 2.9 M + upkeep 1.0 M + treatment and pumping 20,000 a household;
    # septic side = (tank 1 M + re-plumbing 250,000 + removal 100,000) / 30 years + upkeep 60,000 = 105,000 a
    # household, + the abandoned km filled: 15 M / 30 = 0.5 M. Break-even (3.9 M − 0.5 M) / 85,000 = 40 /km.
    r = compare(100)
    assert r.annualization == "years"
    assert r.renew_breakdown == pytest.approx({"pipe_renewal": 2.9e6, "pipe_om": 1e6, "treatment_om": 2e6})
    assert r.septic_breakdown == pytest.approx({"tanks": 100 * 1e6 / 30, "tank_om": 6e6,
                                                "replumb_and_removal": 100 * 350_000 / 30,
                                                "sewer_abandonment": 0.5e6})
    assert r.break_even_per_km == pytest.approx(40.0)
    at_break_even = compare(40.0)
    assert at_break_even.annual_cost_renew == pytest.approx(at_break_even.annual_cost_septic)


def test_a_branch_with_many_house_connections_stays_sewer_and_one_with_few_converts():
    length = np.full(10, 100.0)  # 1 km in ten spans
    many = households_along(length, np.full(10, 12.0))  # 120 取付管 on the km: a built-up street
    few = households_along(length, np.array([2, 1, 0, 3, 1, 2, 0, 1, 2, 1], dtype=float))  # 13: scattered houses
    dense, sparse = compare(many), compare(few)
    assert (dense.households, dense.households_basis, dense.recommendation) == (120, "house_connections", "renew")
    assert (sparse.households, sparse.households_basis) == (13, "house_connections")
    assert sparse.recommendation == "convert_to_septic" and sparse.saving_per_year > 0
    assert sparse.households_per_km < sparse.break_even_per_km < dense.households_per_km


def test_treatment_and_pumping_om_moves_the_break_even_up():
    # Each household the sewer keeps costs its share of the plant and the pumps: the dearer that is, the more
    # households a branch needs to stay on the sewer. 45 households/km renew at 20,000 yen and convert at 40,000
    # (break-even (3.9 M − 0.5 M) / (105,000 − 40,000) = 52.3 /km).
    cheap_plant = compare(45)
    dear_plant = compare(45, costs=replace(MANUAL, treatment_om_per_household=40_000))
    assert dear_plant.break_even_per_km == pytest.approx(3.4e6 / 65_000)
    assert cheap_plant.break_even_per_km < 45 < dear_plant.break_even_per_km
    assert (cheap_plant.recommendation, dear_plant.recommendation) == ("renew", "convert_to_septic")
    # The same per m³ of 汚水処理原価: 100 yen × 0.25 m³ × 365 days × 2.3 persons = 20,987.5 yen a household.
    per_m3 = SewerSepticCosts.from_params(Params.from_dict({"sewer_treatment_om_per_m3": 100}))
    assert per_m3.treatment_om_per_household == pytest.approx(20_987.5)


def test_removal_re_plumbing_and_abandonment_count_against_conversion():
    # Left out, they make tanks look cheaper: 45 households/km would convert (break-even 53.2 /km) where the full
    # comparison keeps them on the sewer (40 /km).
    without = compare(45, costs=replace(MANUAL, replumb=0.0, removal=0.0, sewer_abandon_per_m=0.0))
    with_them = compare(45)
    assert with_them.annual_cost_septic - without.annual_cost_septic == pytest.approx(45 * 350_000 / 30 + 0.5e6)
    assert with_them.break_even_per_km < 45 < without.break_even_per_km
    assert (with_them.recommendation, without.recommendation) == ("renew", "convert_to_septic")


def test_annualization_by_years_or_by_a_capital_recovery_factor():
    by_crf = SewerSepticCosts.from_params(Params.from_dict({"annualization": "crf", "discount_rate": 0.04}))
    assert by_crf.yearly(1e6, 30) == pytest.approx(1e6 * crf(0.04, 30))
    assert MANUAL.yearly(1e6, 30) == pytest.approx(1e6 / 30)
    with pytest.raises(ValueError, match="annualization"):
        Params.from_dict({"annualization": "straight"})


def test_households_fall_back_per_pipe_and_say_how_they_were_counted():
    length = np.array([100.0, 100.0, 200.0, 100.0])
    connections = np.array([10.0, np.nan, np.nan, np.nan])
    buildings = np.array([np.nan, 6.0, np.nan, np.nan])
    density = np.array([1.5, 1.5, 3.0, 1.5])
    hh = households_along(length, connections, buildings, density)
    assert hh.total == pytest.approx(10 + 6 + 3.0 + 1.5)
    assert hh.basis == "mixed"
    assert hh.by_basis == pytest.approx({"house_connections": 10, "buildings": 6, "density": 4.5})
    assert hh.pipes_by_basis == {"house_connections": 1, "buildings": 1, "density": 2}
    assert hh.length_share == pytest.approx({"house_connections": 0.2, "buildings": 0.2, "density": 0.6})
    # A registry without buildings skips that step; a recorded 0 取付管 is a count, not a gap.
    no_buildings = households_along(length[:2], np.array([0.0, np.nan]), None, density[:2])
    assert no_buildings.by_basis == {"house_connections": 0.0, "density": 1.5}
    assert households_along(length, np.full(4, np.nan), None, density).basis == "density"


def _failing_pipe(owner, ext, lon, **detail):
    from assets.history import Actor
    from inspections.services import inspection_record

    pipe = make_asset(owner, "sewer_pipe", external_id=ext, lon=lon, built=1960, length_m=100.0, **detail)
    inspection_record(actor=Actor.system(), asset=pipe, inspected_on="2025-04-01", grade="緊急度Ⅰ")
    return pipe


def _by_owner(run):
    return {c.members.all()[0].asset.owner_id: c.consolidation["sewer_vs_septic"] for c in run.clusters.all()
            if "sewer_vs_septic" in c.consolidation}


def test_without_house_connections_the_engine_falls_back_to_the_towns_density(world):
    from assets.models import Municipality

    Municipality.objects.filter(code="112348").update(population=100_000)  # dense 八潮市
    Municipality.objects.filter(code="112216").update(population=1_000)  # a sparse town
    _failing_pipe(world.yashio, "dense", 139.845)
    _failing_pipe(world.soka, "sparse", 139.795)
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    by_owner = _by_owner(run)
    assert by_owner["112348"]["recommendation"] == "renew"
    assert by_owner["112216"]["recommendation"] == "convert_to_septic"
    assert by_owner["112216"]["households_per_km"] < by_owner["112216"]["break_even_per_km"]
    assert {s["households_basis"] for s in by_owner.values()} == {"density"}
    assert run.summary["convert_to_septic"] == 1
    assert run.summary["households_basis"] == {"density": 2}


def test_house_connections_decide_over_the_towns_average(world):
    # §7: a street of houses in a sparse town stays on the sewer; a branch with two houses in a dense one converts.
    from assets.models import Municipality

    Municipality.objects.filter(code="112348").update(population=100_000)
    Municipality.objects.filter(code="112216").update(population=1_000)
    _failing_pipe(world.yashio, "few", 139.845, house_connections=1)
    _failing_pipe(world.soka, "many", 139.795, house_connections=20)
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    by_owner = _by_owner(run)
    assert (by_owner["112348"]["recommendation"], by_owner["112348"]["households"]) == ("convert_to_septic", 1)
    assert (by_owner["112216"]["recommendation"], by_owner["112216"]["households"]) == ("renew", 20)
    assert {s["households_basis"] for s in by_owner.values()} == {"house_connections"}
    entries = {e["households"]: e for e in run.summary["sewer_septic"]}
    assert entries[1]["households_basis"] == "house_connections" and entries[1]["key"]
    assert run.summary["sewer_septic"][0]["recommendation"] == "convert_to_septic"  # conversions first
    assert run.summary["households_basis"] == {"house_connections": 2}


def test_a_branch_counted_partly_by_house_connections_says_mixed_with_shares(world):
    from assets.models import Municipality

    Municipality.objects.filter(code="112348").update(population=100_000)
    _failing_pipe(world.yashio, "counted", 139.845, house_connections=8)
    _failing_pipe(world.yashio, "unknown", 139.8456)  # 50 m further along the street: the same lot
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    (s,) = _by_owner(run).values()
    assert s["households_basis"] == "mixed"
    assert s["pipes_by_basis"] == {"house_connections": 1, "density": 1}
    assert s["basis_length_share"] == {"house_connections": 0.5, "density": 0.5}
    assert s["households_by_basis"]["house_connections"] == 8
    assert s["households"] == pytest.approx(8 + s["households_by_basis"]["density"], abs=0.01)
    assert run.summary["households_basis"] == {"mixed": 1}


def test_old_single_treatment_tanks_close_together_are_grouped(world):
    for k in range(5):  # five old 単独処理 tanks 30 m apart in 八潮市
        make_asset(world.yashio, "septic_tank", external_id=f"old-{k}", lon=139.830 + 0.0003 * k, built=1980,
                   treatment="single", households_served=1)
    make_asset(world.yashio, "septic_tank", external_id="lone", lon=139.850, built=1980, treatment="single")
    make_asset(world.yashio, "septic_tank", external_id="new", lon=139.8312, built=2015, treatment="combined")
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    (group,) = run.summary["septic_groups"]
    assert (group["tanks"], group["single"], group["owners"]) == (5, 5, ["112348"])
    # 個人設置型 tanks (the default): the municipality pays its 補助 share, the owners the rest (domain.md §7).
    assert group["conversion_cost"] == pytest.approx(5 * P.septic_install_per_household * P.septic_subsidy_share)
    assert group["owner_cost"] == pytest.approx(5 * P.septic_install_per_household * (1 - P.septic_subsidy_share))


def test_the_run_and_lot_pages_and_the_api_say_how_households_were_counted(world):
    from django.test import Client
    from django.utils import translation

    from assets.models import Municipality

    Municipality.objects.filter(code="112348").update(population=100_000)
    _failing_pipe(world.yashio, "counted", 139.845, house_connections=8)
    _failing_pipe(world.yashio, "unknown", 139.8456)
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    lot = run.clusters.get(consolidation__has_key="sewer_vs_septic")
    c = Client()
    c.force_login(world.carol)
    with translation.override("ja"):
        page = c.get(f"/runs/{run.pk}/").content.decode()
        lot_page = c.get(f"/runs/{run.pk}/clusters/{lot.rank}/").content.decode()
    assert "下水道枝線沿いの戸数の数え方" in page and "混在 1 群" in page
    assert "枝線沿いの戸数" in lot_page
    assert "取付管数 50% · 人口密度による推計 50%" in lot_page or "人口密度による推計 50% · 取付管数 50%" in lot_page
    api = c.get(f"/api/v1/runs/{run.pk}").json()["summary"]
    assert api["households_basis"] == {"mixed": 1}
    assert api["sewer_septic"][0]["households_by_basis"]["house_connections"] == 8
