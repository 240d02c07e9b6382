"""The pure grading rules, checked against the published thresholds."""

import json
from pathlib import Path

import pytest

from inspections.grading import GradeError, derive_grade, mci, normalize_grade, pavement_grade, sewer_grade

CAT = Path(__file__).resolve().parents[2] / "fixtures" / "catalogue"


def scheme(code):
    return json.loads((CAT / f"{code}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("raw", ["Ⅲ", "III", "3", "判定3", "３", "判定区分Ⅲ", " iii ", "早期措置段階", "健全性Ⅲ"])
def test_bridge_grades_normalise(raw):
    assert normalize_grade(scheme("bridge_kenzen"), raw) == "III"


@pytest.mark.parametrize("raw, code", [("Ⅲ-1", "III-1"), ("3-1", "III-1"), ("III－2", "III-2"), ("Ⅱ", "II"),
                                       ("健全", "I"), ("1", "I")])
def test_pavement_grades_normalise(raw, code):
    assert normalize_grade(scheme("pavement_shindan"), raw) == code


@pytest.mark.parametrize("raw, code", [("緊急度Ⅰ", "I"), ("1", "I"), ("劣化なし", "none"), ("Ⅲ", "III")])
def test_sewer_grades_normalise_and_I_means_urgency_I(raw, code):
    assert normalize_grade(scheme("sewer_kinkyu"), raw) == code


def test_septic_results_normalise():
    s = scheme("septic_hantei")
    assert [normalize_grade(s, x) for x in ("適正", "概ね適正", "不適正")] == ["proper", "mostly_proper", "improper"]


def test_an_unknown_grade_lists_the_allowed_values():
    with pytest.raises(GradeError) as exc:
        normalize_grade(scheme("bridge_kenzen"), "Ⅴ")
    assert exc.value.field == "grade"
    assert "IV (Ⅳ 緊急措置段階)" in exc.value.message


@pytest.mark.parametrize("obs, grade", [
    ({"crack_pct": 10, "rut_mm": 5, "iri": 2}, "I"),
    ({"crack_pct": 20, "rut_mm": 5, "iri": 2}, "II"),   # at the lower threshold → Ⅱ
    ({"crack_pct": 10, "rut_mm": 39.9}, "II"),
    ({"crack_pct": 10, "iri": 8.0}, "III-1"),
    ({"crack_pct": 45, "base_damage": True}, "III-2"),
])
def test_pavement_grade_from_thresholds(obs, grade):
    assert pavement_grade(scheme("pavement_shindan"), obs).grade == grade


def test_mci_is_the_minimum_of_the_published_formulas():
    # C = 10 %, D = 10 mm, σ = 2 mm, by hand: MCI = 10 − 1.48·1.995 − 0.29·5.012 − 0.47·1.149 = 5.05,
    # MCI0 = 10 − 1.51·1.995 − 0.30·5.012 = 5.48, MCI1 = 10 − 2.23·1.995 = 5.55, MCI2 = 10 − 0.54·5.012 = 7.29.
    assert mci(10, 10, 2) == pytest.approx(5.05, abs=0.01)
    assert pavement_grade(scheme("pavement_shindan"), {"crack_pct": 10, "rut_mm": 10}).mci == pytest.approx(5.48, abs=0.01)


def test_pavement_rejects_impossible_measures():
    with pytest.raises(GradeError) as exc:
        pavement_grade(scheme("pavement_shindan"), {"crack_pct": 140})
    assert exc.value.field == "observations.crack_pct"


@pytest.mark.parametrize("obs, grade", [
    ({"span": {"corrosion": "A"}}, "I"),
    ({"span": {"corrosion": "B", "sag": "B"}}, "II"),
    ({"span": {"corrosion": "C"}}, "III"),
    ({"span": {"corrosion": "", "sag": "なし"}}, "none"),
    ({"pipes": [{"item": "crack", "grade": "a", "at_m": 3.5}] * 5, "pipe_count": 20}, "II"),  # 25 % a → span A
    ({"pipes": [{"item": "crack", "grade": "a"}] * 5 + [{"item": "roots", "grade": "a"}] * 4, "pipe_count": 20}, "I"),
    ({"pipes": [{"item": "joint", "grade": "c"}], "pipe_count": 20}, "III"),
])
def test_sewer_urgency_from_observations(obs, grade):
    assert sewer_grade(scheme("sewer_kinkyu"), obs) == grade


def test_sewer_rejects_unknown_items_and_grades():
    with pytest.raises(GradeError) as exc:
        sewer_grade(scheme("sewer_kinkyu"), {"pipes": [{"item": "cracks", "grade": "a"}], "pipe_count": 3})
    assert "breakage" in exc.value.message
    with pytest.raises(GradeError) as exc:
        sewer_grade(scheme("sewer_kinkyu"), {"pipes": [{"item": "crack", "grade": "d"}], "pipe_count": 3})
    assert exc.value.field == "observations.pipes[1].grade"


def test_a_given_grade_is_kept_and_the_computed_one_stored_beside_it():
    code, derived = derive_grade(scheme("pavement_shindan"), "II", {"crack_pct": 45})
    assert code == "II" and derived["computed_grade"] == "III-1"


def test_bridge_grade_from_the_worst_member():
    obs = {"members": [{"member": "Mg0101", "damage_type": "7", "degree": "d", "measure": "C1", "grade": "II"},
                       {"member": "Ds0102", "damage_type": "11", "degree": "e", "measure": "C2", "grade": "III"}]}
    assert derive_grade(scheme("bridge_kenzen"), None, obs)[0] == "III"
    with pytest.raises(GradeError) as exc:
        derive_grade(scheme("bridge_kenzen"), None, {"members": [{"member": "Xx01", "grade": "II"}]})
    assert "Mg" in exc.value.message
