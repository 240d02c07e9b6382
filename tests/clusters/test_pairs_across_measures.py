"""The hazard estimator reads pairs of successive inspections; a pair spanning a completed repair is not wear."""

from assets.history import Actor
from assets.models import Via
from clusters.data import load_pairs
from inspections.measure_services import measure_record
from inspections.services import inspection_record
from tests.conftest import make_asset

SYS = Actor.system(Via.API)


def _pairs():
    df = load_pairs(["112348"])
    return sorted(zip(df["i"].astype(int), df["j"].astype(int), strict=True))


def test_pairs_across_a_completed_repair_are_not_counted(world):
    b = make_asset(world.yashio, "bridge", external_id="B-1", built=1970)
    for day, grade in (("2014-05-01", "II"), ("2019-05-01", "III"), ("2024-05-01", "I")):
        inspection_record(actor=SYS, asset=b, inspected_on=day, grade=grade)
    assert _pairs() == [(1, 2), (2, 0)]
    measure_record(actor=SYS, asset=b, kind="repair", started_on="2020-01-01", completed_on="2020-06-01")
    assert _pairs() == [(1, 2)]


def test_interim_and_unfinished_measures_do_not_break_a_pair(world):
    b = make_asset(world.yashio, "bridge", external_id="B-2", built=1970)
    for day, grade in (("2014-05-01", "II"), ("2019-05-01", "III")):
        inspection_record(actor=SYS, asset=b, inspected_on=day, grade=grade)
    measure_record(actor=SYS, asset=b, kind="通行規制", started_on="2015-01-01", completed_on="2015-02-01")
    measure_record(actor=SYS, asset=b, kind="repair", started_on="2016-01-01")
    assert _pairs() == [(1, 2)]
    # A repair completed on the day of the later inspection counts as after it, as the condition table reads it.
    measure_record(actor=SYS, asset=b, kind="repair", started_on="2019-01-01", completed_on="2019-05-01")
    assert _pairs() == [(1, 2)]
    measure_record(actor=SYS, asset=b, kind="repair", started_on="2019-01-01", completed_on="2019-04-30")
    assert _pairs() == []


def test_the_engine_reads_a_repaired_asset_in_its_best_state(world):
    # 点検要領: a repair brings the member back; the inspection's grade stays the legal record, but the engine
    # must not keep scheduling a repaired Ⅲ bridge as if it were still Ⅲ.
    import datetime

    from clusters.data import load_assets

    b = make_asset(world.yashio, "bridge", external_id="B-3", built=1970)
    inspection_record(actor=SYS, asset=b, inspected_on="2023-05-01", grade="III")
    state = lambda: int(load_assets(["112348"], datetime.date(2026, 12, 1)).set_index("id").loc[b.pk, "state"])  # noqa: E731
    assert state() == 2
    measure_record(actor=SYS, asset=b, kind="repair", started_on="2024-01-01", completed_on="2024-06-01")
    assert state() == 0
