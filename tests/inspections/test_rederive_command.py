"""`manage.py rederive_observations` applies the current grading rules to stored inspections' derived values
and leaves the inspector's grade, the legal record, as it was (domain.md §2.4.1)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets.history import Actor
from assets.models import ChangeRecord, Via
from inspections.models import AssetCondition, Inspection
from inspections.services import inspection_record
from tests.conftest import make_asset

SYS = Actor.system(Via.SYSTEM)


def run(*args) -> str:
    out = io.StringIO()
    call_command("rederive_observations", *args, stdout=out, stderr=out)
    return out.getvalue()


def as_an_older_release_left_it(insp: Inspection, computed: str) -> Inspection:
    """The stored derived grade of the rule before issue 14 (腐食 A alone → Ⅰ)."""
    obs = {**insp.observations, "derived": {"computed_grade": computed}}
    Inspection.objects.filter(pk=insp.pk).update(observations=obs)
    insp.refresh_from_db()
    return insp


@pytest.fixture
def stale(world):
    """Three sewer inspections stored under the old rule: one graded Ⅰ by the inspector, one recorded without a
    grade (so the old rule's Ⅰ became its grade), one whose derived value is already right."""
    corroded = {"span": {"corrosion": "A"}}
    given = inspection_record(actor=SYS, asset=make_asset(world.yashio, "sewer_pipe", external_id="P-1"),
                              inspected_on="2024-05-01", grade="I", observations=corroded)
    derived = inspection_record(actor=SYS, asset=make_asset(world.yashio, "sewer_pipe", external_id="P-2"),
                                inspected_on="2024-05-01", grade="I", observations=corroded)
    Inspection.objects.filter(pk=derived.pk).update(grade_input="")
    fine = inspection_record(actor=SYS, asset=make_asset(world.yashio, "sewer_pipe", external_id="P-3"),
                             inspected_on="2024-05-01", observations={"span": {"corrosion": "B", "sag": "B"}})
    return (as_an_older_release_left_it(given, "I"), as_an_older_release_left_it(derived, "I"), fine)


def test_a_dry_run_counts_and_writes_nothing(stale):
    """domain.md §2.4.1: 腐食 A alone is Ⅱ now; a dry run reports it without touching a row."""
    before = {i.pk: (i.observations, i.version) for i in Inspection.objects.all()}
    out = run("--dry-run")
    assert ("sewer_kinkyu: 3 inspections with observations; derived values changed on 2 (derived grade changed "
            "on 2); 2 now differ from the recorded grade (1 of them were recorded without a grade") in out
    assert "total (dry run, nothing written)" in out
    assert {i.pk: (i.observations, i.version) for i in Inspection.objects.all()} == before


def test_the_derived_grade_is_rewritten_and_the_recorded_grade_kept(stale):
    """domain.md §2.4.1: the inspector's grade is the legal record beside the derived one; the run is recorded
    in the change history, and the version moves so a stale editor is told."""
    given, derived, fine = stale
    out = run("--scheme", "sewer_kinkyu")
    assert "derived values changed on 2 (derived grade changed on 2); 2 now differ" in out
    for insp in (given, derived):
        insp.refresh_from_db()
        assert insp.grade.code == "I"  # untouched: the legal record
        assert insp.observations["derived"] == {"ranks": {"corrosion": "A"}, "computed_grade": "II"}
        assert insp.observations["span"] == {"corrosion": "A"} and insp.version == 2
        assert AssetCondition.objects.get(asset=insp.asset).grade.code == "I"
    fine.refresh_from_db()
    assert fine.version == 1
    recs = ChangeRecord.objects.filter(object_id=str(given.pk), action="update")
    (rec,) = recs
    assert rec.before["observations"]["derived"] == {"computed_grade": "I"}
    assert rec.after["observations"]["derived"]["computed_grade"] == "II" and rec.actor_name == "system"
    # A second run finds nothing to change but still reports the inspections that differ.
    again = run()
    assert "derived values changed on 0 (derived grade changed on 0); 2 now differ" in again


def test_pavement_is_rederived_with_the_roads_pavement_type(world):
    """舗装点検要領 6-1/6-2: the road's pavement type chooses the thresholds, also when re-deriving; an
    inspection whose measures no longer fit the type is reported and left alone."""
    road = make_asset(world.yashio, "road_segment", external_id="R-1", pavement_type="concrete")
    insp = inspection_record(actor=SYS, asset=road, inspected_on="2024-05-01", grade="II",
                             observations={"crack_pct": 25})
    assert insp.observations["derived"]["computed_grade"] == "III"  # concrete: 20 % is its upper threshold
    wrong = make_asset(world.yashio, "road_segment", external_id="R-2")
    bad = inspection_record(actor=SYS, asset=wrong, inspected_on="2024-05-01", grade="II",
                            observations={"rut_mm": 25})
    wrong.road_segment.pavement_type = "concrete"  # the ledger was corrected after the inspection
    wrong.road_segment.save()
    Inspection.objects.filter(pk=insp.pk).update(observations={"crack_pct": 25, "derived": {"computed_grade": "II"}})
    out = run("--scheme", "pavement_shindan")
    assert "derived values changed on 1" in out and "1 no longer pass the rule" in out
    assert f"inspection {bad.pk} (pavement_shindan) observations.rut_mm" in out
    insp.refresh_from_db()
    assert insp.observations["derived"] == {"basis": "measures", "pavement_type": "concrete",
                                            "computed_grade": "III"}
    assert insp.grade.code == "II"
    assert Inspection.objects.get(pk=bad.pk).observations["derived"]["computed_grade"] == "II"


def test_the_work_is_set_based(world):
    """Set-based, not a query per inspection: twice the inspections cost the same number of queries."""
    def queries(n: int, prefix: str) -> int:
        for k in range(n):
            pipe = make_asset(world.yashio, "sewer_pipe", external_id=f"{prefix}-{k}")
            insp = inspection_record(actor=SYS, asset=pipe, inspected_on="2024-05-01", grade="I",
                                     observations={"span": {"corrosion": "A"}})
            as_an_older_release_left_it(insp, "I")
        with CaptureQueriesContext(connection) as ctx:
            run()
        return len(ctx.captured_queries)

    assert queries(3, "A") == queries(6, "B")


def test_an_unknown_scheme_is_refused_with_the_allowed_ones(world):
    with pytest.raises(CommandError, match="unknown scheme sewer; allowed: .*sewer_kinkyu"):
        run("--scheme", "sewer")


def test_batches_are_flushed_while_the_read_goes_on(stale, world):
    """The same result in batches of two as in one (the read cursor stays open across the writes)."""
    from inspections.rederive import rederive

    more = [inspection_record(actor=SYS, asset=make_asset(world.yashio, "sewer_pipe", external_id=f"Q-{k}"),
                              inspected_on="2024-05-01", grade="I", observations={"span": {"corrosion": "A"}})
            for k in range(3)]
    for insp in more:
        as_an_older_release_left_it(insp, "I")
    report = rederive(batch=2)
    counts = report.by_scheme["sewer_kinkyu"]
    assert (counts.examined, counts.changed, counts.grade_changed, counts.skipped) == (6, 5, 5, 0)
    assert not Inspection.objects.filter(observations__derived__computed_grade="I").exists()
    assert ChangeRecord.objects.filter(action="update", message__startswith="Derived values").count() == 5


def test_a_row_edited_while_it_runs_is_left_alone(stale, monkeypatch):
    """Compare-and-set on the version: an edit that lands between the read and the write keeps its values."""
    from inspections import rederive as module

    given = stale[0]
    real = module.derive_grade

    def edit_meanwhile(scheme, grade, obs, context=None):
        Inspection.objects.filter(pk=given.pk).update(version=7, notes="edited meanwhile")
        return real(scheme, grade, obs, context)

    monkeypatch.setattr(module, "derive_grade", edit_meanwhile)
    counts = module.rederive().by_scheme["sewer_kinkyu"]
    assert (counts.changed, counts.grade_changed, counts.skipped) == (1, 1, 1)
    given.refresh_from_db()
    assert given.version == 7 and given.observations["derived"] == {"computed_grade": "I"}
    assert not ChangeRecord.objects.filter(object_id=str(given.pk), action="update").exists()


@pytest.mark.parametrize("observations", [
    ["not", "an", "object"], "a string", {"span": "A"}, {"span": {"corrosion": "Z"}}, {"span": {"corrosion": 7}},
    {"span": {"corrosion": None, "sag": ["A"]}}, {"pipes": "many"}, {"pipes": [{"crack": "a"}, "x"]},
])
def test_a_stored_row_the_rule_cannot_read_is_counted_and_named_not_a_crash(stale, observations):
    """Rows written before validation existed, or edited in the database, may hold anything: each is left as it
    was, counted as failed and named, and the other rows are still re-derived (developers' guide: bad input never
    a crash, stored data untouched)."""
    broken = stale[2]
    Inspection.objects.filter(pk=broken.pk).update(observations=observations)
    out = run()
    assert f"inspection {broken.pk}" in out
    broken.refresh_from_db()
    assert broken.observations == observations
    assert Inspection.objects.get(pk=stale[0].pk).observations["derived"]["computed_grade"] == "II"
