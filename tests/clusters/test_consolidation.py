import pytest

from clusters.engine.consolidation import crf, sewer_vs_septic
from clusters.engine.params import Params
from clusters.services import run_create, run_execute
from tests.conftest import make_asset

P = Params()


def compare(households, pipe_m=1000.0, cost=145_000_000.0):
    return sewer_vs_septic(pipe_m=pipe_m, households=households, renew_cost=cost, rate=P.discount_rate,
                           sewer_life=P.sewer_life_years, sewer_om_per_m=P.sewer_om_per_m_year,
                           septic_cost=P.septic_install_per_household, septic_life=P.septic_life_years,
                           septic_om=P.septic_om_per_household_year)


def test_capital_recovery_factor():
    assert crf(0.04, 30) == pytest.approx(0.05783, abs=1e-5)
    assert crf(0.0, 50) == pytest.approx(0.02)


def test_break_even_by_hand():
    # 1 km of φ300 at 145,000 yen/m: 145 M × crf(4 %, 50) = 6.750 M + 1.0 M O&M = 7.750 M yen a year;
    # one tank: 1 M × crf(4 %, 30) = 57,830 + 60,000 = 117,830 yen a year → break-even 65.8 households/km.
    r = compare(100)
    assert r.annual_cost_renew == pytest.approx(145e6 * crf(0.04, 50) + 1e6)
    assert r.break_even_per_km == pytest.approx(r.annual_cost_renew / (1e6 * crf(0.04, 30) + 60_000))
    assert r.break_even_per_km == pytest.approx(65.8, abs=0.1)


def test_a_sparse_branch_converts_to_septic_and_a_dense_one_is_renewed():
    sparse, dense = compare(10), compare(300)
    assert sparse.recommendation == "convert_to_septic" and sparse.saving_per_year > 0
    assert dense.recommendation == "renew"


def test_the_engine_recommends_per_branch_by_the_towns_density(world):
    from assets.models import Municipality

    Municipality.objects.filter(code="112348").update(population=100_000)  # dense 八潮市
    Municipality.objects.filter(code="112216").update(population=1_000)  # a sparse town
    from assets.history import Actor
    from inspections.services import inspection_record

    for owner, ext, lon in ((world.yashio, "dense", 139.845), (world.soka, "sparse", 139.795)):
        pipe = make_asset(owner, "sewer_pipe", external_id=ext, lon=lon, built=1960, length_m=100.0)
        inspection_record(actor=Actor.system(), asset=pipe, inspected_on="2025-04-01", grade="緊急度Ⅰ")
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    by_owner = {c.members.get().asset.owner_id: c.consolidation["sewer_vs_septic"] for c in run.clusters.all()}
    assert by_owner["112348"]["recommendation"] == "renew"
    assert by_owner["112216"]["recommendation"] == "convert_to_septic"
    assert by_owner["112216"]["households_per_km"] < by_owner["112216"]["break_even_per_km"]
    assert run.summary["convert_to_septic"] == 1


def test_old_single_treatment_tanks_close_together_are_grouped(world):
    for k in range(5):  # five old 単独処理 tanks 30 m apart in 八潮市
        make_asset(world.yashio, "septic_tank", external_id=f"old-{k}", lon=139.830 + 0.0003 * k, built=1980,
                   treatment="single", households_served=1)
    make_asset(world.yashio, "septic_tank", external_id="lone", lon=139.850, built=1980, treatment="single")
    make_asset(world.yashio, "septic_tank", external_id="new", lon=139.8312, built=2015, treatment="combined")
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    (group,) = run.summary["septic_groups"]
    assert (group["tanks"], group["single"], group["owners"]) == (5, 5, ["112348"])
    assert group["conversion_cost"] == 5 * P.septic_install_per_household
