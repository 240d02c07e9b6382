"""The pure grading rules, checked against the published thresholds."""

import copy
import json
from pathlib import Path

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from inspections.grading import (
    GradeError,
    derive_grade,
    mci,
    normalize_grade,
    pavement_grade,
    sewer_grade,
    sewer_result,
)

CAT = Path(__file__).resolve().parents[2] / "fixtures" / "catalogue"


def scheme(code):
    """A scheme as inspections.catalogue.scheme_dict gives it: a direct scheme carries the member catalogue."""
    spec = json.loads((CAT / f"{code}.json").read_text(encoding="utf-8"))
    if spec.get("rule") == "direct":
        members = json.loads((CAT / "bridge_members.json").read_text(encoding="utf-8"))["member_kinds"]
        spec["members"] = [{"code": m["code"], "name": m["name"], "main": m["is_main_member"],
                            "kinds": members["kinds"], "group": m["group"]} for m in members["members"]]
    return spec


@pytest.mark.parametrize("raw", ["Ⅲ", "III", "3", "判定3", "３", "判定区分Ⅲ", " iii ", "早期措置段階", "健全性Ⅲ"])
def test_bridge_grades_normalise(raw):
    assert normalize_grade(scheme("bridge_kenzen"), raw) == "III"


@pytest.mark.parametrize("raw, code", [("Ⅲ-1", "III-1"), ("3-1", "III-1"), ("III－2", "III-2"), ("Ⅱ", "II"),
                                       ("健全", "I"), ("1", "I"), ("Ⅲ", "III"), ("3", "III"), ("判定3", "III"),
                                       ("修繕段階", "III")])
def test_pavement_grades_normalise(raw, code):
    """舗装点検要領 (domain.md §2.3): a bare Ⅲ is recorded as Ⅲ, never silently Ⅲ-1; Ⅲ-1/Ⅲ-2 when written."""
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
    ({"crack_pct": 10, "iri": 8.0}, "III"),  # Ⅲ from surface measures: below the base unknown
    ({"crack_pct": 45, "base_damage": True}, "III-2"),
    ({"crack_pct": 45, "base_damage": False}, "III-1"),
    ({"rut_mm": 40, "base_damage": "なし"}, "III-1"),
])
def test_pavement_grade_from_thresholds(obs, grade):
    """舗装点検要領 6-1, 一般国道 (domain.md §2.3): ひび割れ率 20/40 %, わだち掘れ 20/40 mm, IRI 3/8 mm/m; Ⅲ-2
    when damage below the base is suspected, Ⅲ-1 when it is not, Ⅲ when nobody said."""
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
    ({"span": {"corrosion": "A"}}, "II"),  # one item at A (was Ⅰ before issue 14)
    ({"span": {"corrosion": "B", "sag": "B"}}, "II"),
    ({"span": {"corrosion": "C"}}, "III"),
    ({"span": {"corrosion": "", "sag": "なし"}}, "none"),
    ({"pipes": [{"item": "crack", "grade": "a", "at_m": 3.5}] * 5, "pipe_count": 20}, "II"),  # 25 % a → A
    # Two per-pipe items are still one 不良発生率 item: A, so Ⅱ (was Ⅰ before issue 14).
    ({"pipes": [{"item": "crack", "grade": "a"}] * 5 + [{"item": "roots", "grade": "a"}] * 4, "pipe_count": 20}, "II"),
    ({"pipes": [{"item": "joint", "grade": "c"}], "pipe_count": 20}, "III"),
])
def test_sewer_urgency_from_observations(obs, grade):
    """下水道維持管理指針 / ストックマネジメント手引き (domain.md §2.4.1): 緊急度 from three items per span."""
    assert sewer_grade(scheme("sewer_kinkyu"), obs) == grade


def test_sewer_rejects_unknown_items_and_grades():
    with pytest.raises(GradeError) as exc:
        sewer_grade(scheme("sewer_kinkyu"), {"pipes": [{"item": "cracks", "grade": "a"}], "pipe_count": 3})
    assert "breakage" in exc.value.message
    with pytest.raises(GradeError) as exc:
        sewer_grade(scheme("sewer_kinkyu"), {"pipes": [{"item": "crack", "grade": "d"}], "pipe_count": 3})
    assert exc.value.field == "observations.pipes[1].grade"


def test_a_given_grade_is_kept_and_the_computed_one_stored_beside_it():
    """domain.md §2.4.1 / §2.3: the inspector's grade is the legal record; the rule's grade is kept beside it."""
    code, derived = derive_grade(scheme("pavement_shindan"), "II", {"crack_pct": 45})
    assert code == "II" and derived["computed_grade"] == "III"


def test_bridge_grade_from_the_worst_member():
    obs = {"members": [{"member": "Mg0101", "damage_type": "7", "degree": "d", "measure": "C1", "grade": "II"},
                       {"member": "Ds0102", "damage_type": "11", "degree": "e", "measure": "C2", "grade": "III"}]}
    assert derive_grade(scheme("bridge_kenzen"), None, obs)[0] == "III"
    with pytest.raises(GradeError) as exc:
        derive_grade(scheme("bridge_kenzen"), None, {"members": [{"member": "Xx01", "grade": "II"}]})
    assert "Mg" in exc.value.message


# ---- sewer 緊急度: domain.md §2.4.1 (下水道維持管理指針 実務編 2014 / ストックマネジメント手引き) -------------
SEWER = scheme("sewer_kinkyu")
PIPE_ITEMS = SEWER["params"]["pipe_items"]


def pipes(*rows, count=20):
    return {"pipes": [{"item": item, "grade": grade} for item, grade in rows], "pipe_count": count}


def test_corrosion_A_alone_is_urgency_II():
    """domain.md §2.4.1: Ⅰ needs two or more items at A; 管の腐食 A alone is one item at A → Ⅱ."""
    assert sewer_grade(SEWER, {"span": {"corrosion": "A"}}) == "II"
    assert sewer_grade(SEWER, {"span": {"sag": "A"}}) == "II"


def test_grease_and_roots_at_a_are_one_item_and_never_urgency_I():
    """domain.md §2.4.1: per-pipe items (油脂, 樹木根 …) make ONE 不良発生率 rank; grease or roots alone never
    make Ⅰ, whatever their share."""
    two = sewer_result(SEWER, pipes(("grease", "a"), ("roots", "a")))
    assert list(two.ranks) == ["defect_rate"] and two.grade in ("II", "III")
    assert two.shares["a"] == 0.1  # 2 pipes of 20
    every = sewer_result(SEWER, pipes(*[("grease", "a")] * 10, *[("roots", "a")] * 10))
    assert every.ranks == {"defect_rate": "A"} and every.grade == "II"


def test_one_missing_piece_breakage_a_counts_as_A_outright():
    """domain.md §2.4.1: a 破損 at rank a (欠落) counts as A outright, however few pipes show it: with nothing
    else Ⅱ, with 腐食 A it is the second A → Ⅰ."""
    one = sewer_result(SEWER, pipes(("breakage", "a"), count=40))
    assert one.ranks == {"defect_rate": "A"} and one.grade == "II"
    assert sewer_grade(SEWER, {"span": {"corrosion": "A"}, **pipes(("breakage", "a"))}) == "I"
    # The outright rule is for 破損 at a only: one crack at a in 40 pipes is 2.5 % → C.
    assert sewer_result(SEWER, pipes(("crack", "a"), count=40)).ranks == {"defect_rate": "C"}
    assert sewer_result(SEWER, pipes(("breakage", "b"), count=40)).ranks == {"defect_rate": "C"}


@pytest.mark.parametrize("span, rows, grade", [
    ({"corrosion": "A", "sag": "A"}, [], "I"),                        # two at A
    ({"corrosion": "A"}, [("crack", "a")] * 4, "I"),                  # 腐食 A + 不良発生率 A (20 %)
    ({"corrosion": "A", "sag": "C"}, [], "II"),                       # one at A
    ({"corrosion": "B", "sag": "B"}, [], "II"),                       # two at B
    ({"corrosion": "B"}, [("joint", "b")] * 4, "II"),                 # 腐食 B + 不良発生率 B (20 % b)
    ({"corrosion": "B"}, [], "III"),                                  # one at B
    ({"corrosion": "C", "sag": "C"}, [("mortar", "c")], "III"),       # C only
    ({"corrosion": "なし"}, [], "none"),                               # nothing
])
def test_urgency_from_the_three_items(span, rows, grade):
    """domain.md §2.4.1: Ⅰ when two or more of (腐食, たるみ, 不良発生率) are at A; Ⅱ when one is A or two are
    B; Ⅲ with any B or C; 劣化なし otherwise."""
    assert sewer_grade(SEWER, {"span": span, **(pipes(*rows) if rows else {})}) == grade


def test_defect_rate_counts_each_pipe_once_at_its_worst_grade():
    """domain.md §2.4 (不良発生率 = share of the span's pipes affected): rows naming the same pipe count once."""
    same = {"pipes": [{"item": "crack", "grade": "b", "pipe": 3}, {"item": "roots", "grade": "a", "pipe": 3}],
            "pipe_count": 10}
    assert sewer_result(SEWER, same).shares == {"a": 0.1, "b": 0.1, "c": 0.1}
    apart = {"pipes": [{"item": "crack", "grade": "b"}, {"item": "roots", "grade": "a"}], "pipe_count": 10}
    assert sewer_result(SEWER, apart).shares == {"a": 0.1, "b": 0.2, "c": 0.2}


def test_sewer_refuses_more_defective_pipes_than_the_span_has():
    """domain.md §2.4: a share of pipes cannot exceed 100 %; the message says how to mark one pipe's defects."""
    with translation.override("en"), pytest.raises(GradeError) as exc:
        sewer_grade(SEWER, pipes(("crack", "a"), ("roots", "b"), ("joint", "c"), count=2))
    assert exc.value.field == "observations.pipes" and "(pipe)" in exc.value.message
    with translation.override("en"), pytest.raises(GradeError) as exc:
        sewer_grade(SEWER, {"pipes": [{"item": "crack", "grade": "a", "pipe": 9}], "pipe_count": 5})
    assert exc.value.field == "observations.pipes[1].pipe" and "1 to 5" in exc.value.message
    with translation.override("en"), pytest.raises(GradeError) as exc:
        sewer_grade(SEWER, {"pipes": [{"item": "crack", "grade": "a"}], "pipe_count": "many"})
    assert exc.value.field == "observations.pipe_count"


def test_sewer_messages_are_translated():
    """Messages: English source, Japanese translation (locale/ja)."""
    with translation.override("ja"), pytest.raises(GradeError) as exc:
        sewer_grade(SEWER, {"pipes": [{"item": "crack", "grade": "a"}]})
    assert "管の本数" in exc.value.message


def test_every_number_of_the_sewer_rule_is_catalogue_data():
    """domain.md §2.4.1 "keep the thresholds in the catalogue": a variant scheme changes the result, not code."""
    variant = copy.deepcopy(SEWER)
    variant["params"]["urgency"][0]["at_least"] = {"A": 1}          # a prefecture where one A is Ⅰ
    variant["params"]["defect_rate"]["outright_a"] = []             # and 欠落 is not A outright
    variant["params"]["defect_rate"]["to_rank"]["A"] = {"a": 0.5}
    assert sewer_grade(variant, {"span": {"corrosion": "A"}}) == "I"
    assert sewer_result(variant, pipes(("breakage", "a"), count=40)).ranks == {"defect_rate": "C"}
    assert sewer_result(variant, pipes(*[("crack", "a")] * 5)).ranks == {"defect_rate": "B"}  # 25 % < 50 %


SPAN_RANK = st.sampled_from(["A", "B", "C", "なし"])
PIPE_ROW = st.tuples(st.sampled_from(PIPE_ITEMS), st.sampled_from(["a", "b", "c"]))
ORDER = {"none": 0, "III": 1, "II": 2, "I": 3}


@given(corrosion=SPAN_RANK, sag=SPAN_RANK, rows=st.lists(PIPE_ROW, max_size=20), count=st.integers(20, 60))
def test_urgency_I_exactly_when_two_items_are_at_A(corrosion, sag, rows, count):
    """domain.md §2.4.1, as a property: Ⅰ iff two or more of the three items are at A; Ⅱ iff not Ⅰ and one A or
    two B or worse; 劣化なし iff no item is ranked."""
    res = sewer_result(SEWER, {"span": {"corrosion": corrosion, "sag": sag}, **pipes(*rows, count=count)})
    ranks = list(res.ranks.values())
    assert len(ranks) <= 3
    n_a, n_b = ranks.count("A"), ranks.count("A") + ranks.count("B")
    expected = "I" if n_a >= 2 else "II" if n_a == 1 or n_b >= 2 else "III" if ranks else "none"
    assert res.grade == expected


@given(rows=st.lists(PIPE_ROW, max_size=20), count=st.integers(20, 60))
def test_per_pipe_items_alone_never_make_urgency_I(rows, count):
    """domain.md §2.4.1: the per-pipe items are one item; alone they reach at most Ⅱ."""
    assert sewer_grade(SEWER, pipes(*rows, count=count)) in ("II", "III", "none", None)


@given(rows=st.lists(PIPE_ROW, min_size=1, max_size=15), extra=PIPE_ROW, count=st.integers(20, 40))
def test_one_more_defect_never_lowers_the_urgency(rows, extra, count):
    """domain.md §2.4.1: ranks only rise with more defects, so 緊急度 never falls when a defect is added."""
    before = sewer_grade(SEWER, pipes(*rows, count=count))
    after = sewer_grade(SEWER, pipes(*rows, extra, count=count))
    assert ORDER[after] >= ORDER[before]


# ---- pavement: 舗装点検要領 (domain.md §2.3) by pavement type, MCI-only surveys --------------------------
PAVE = scheme("pavement_shindan")


@pytest.mark.parametrize("obs, grade", [
    ({"crack_pct": 9, "joint_fault_mm": 4}, "I"),
    ({"crack_pct": 10}, "II"),                # 20 % would be Ⅱ on asphalt; concrete has its own thresholds
    ({"crack_pct": 25}, "III"),               # Ⅱ on asphalt
    ({"joint_fault_mm": 5}, "II"),
    ({"joint_fault_mm": 12, "base_damage": True}, "III-2"),
    ({"crack_pct": 2, "joint_sealant_lost": True}, "II"),  # 目地材の飛散
    ({"iri": 8.5}, "III"),
])
def test_concrete_pavement_has_its_own_thresholds(obs, grade):
    """舗装点検要領 6-2 コンクリート舗装 (domain.md §2.3; numbers unverified, catalogue params.surfaces.concrete):
    ひび割れ率 and 目地部の段差 on concrete's own thresholds, chosen by the road's pavement type."""
    res = pavement_grade(PAVE, obs, "concrete")
    assert (res.grade, res.pavement_type, res.mci) == (grade, "concrete", None)


def test_the_same_crack_ratio_grades_differently_by_pavement_type():
    """舗装点検要領 6-1 vs 6-2: the pavement type in the ledger selects the thresholds; asphalt by default."""
    obs = {"crack_pct": 25}
    assert derive_grade(PAVE, None, obs, {"pavement_type": "asphalt"})[0] == "II"
    assert derive_grade(PAVE, None, obs)[0] == "II"
    code, derived = derive_grade(PAVE, None, obs, {"pavement_type": "concrete"})
    assert code == "III" and derived == {"basis": "measures", "pavement_type": "concrete", "computed_grade": "III"}


def test_a_measure_without_a_threshold_for_the_pavement_type_is_refused():
    """舗装点検要領 6-2: わだち掘れ and MCI are asphalt measures; on a concrete road they point at a wrong
    pavement type in the ledger, so the message names the type and the measures that apply."""
    with translation.override("en"), pytest.raises(GradeError) as exc:
        derive_grade(PAVE, None, {"rut_mm": 12}, {"pavement_type": "concrete"})
    assert exc.value.field == "observations.rut_mm"
    assert "concrete" in exc.value.message and "joint_fault_mm" in exc.value.message
    with pytest.raises(GradeError) as exc:
        derive_grade(PAVE, None, {"mci": 4.0}, {"pavement_type": "concrete"})
    assert exc.value.field == "observations.mci"


def test_a_pavement_type_without_thresholds_needs_the_inspectors_grade():
    """舗装点検要領 covers asphalt and concrete only: gravel or block gets no derived grade; a given grade is kept."""
    with translation.override("en"), pytest.raises(GradeError) as exc:
        derive_grade(PAVE, None, {"crack_pct": 30}, {"pavement_type": "gravel"})
    assert exc.value.field == "grade" and "gravel" in exc.value.message and "III-1" in exc.value.message
    assert derive_grade(PAVE, "Ⅱ", {"crack_pct": 30}, {"pavement_type": "gravel"}) == ("II", {})


@pytest.mark.parametrize("value, grade", [(2.4, "III"), (3.0, "III"), (3.01, "II"), (4.99, "II"), (5.0, "I"),
                                          (8.7, "I")])
def test_an_mci_only_survey_derives_a_grade(value, grade):
    """domain.md §2.3 (MCI typical action levels ≤3 早急に修繕, ≥5 望ましい; unverified, a regional parameter in
    params.mci): MCI ≤ 3 → Ⅲ, < 5 → Ⅱ, else Ⅰ; the MCI the grade rests on is kept in derived."""
    code, derived = derive_grade(PAVE, None, {"mci": str(value)})
    assert code == grade
    assert derived == {"basis": "mci", "pavement_type": "asphalt", "mci": value, "computed_grade": grade}


def test_mci_levels_are_a_regional_parameter():
    """domain.md §2.3: jice leaves MCI → 健全性 to each municipality: a variant's levels change the grade."""
    variant = copy.deepcopy(PAVE)
    variant["params"]["mci"]["levels"] = [{"grade": "III", "max": 4.0}, {"grade": "II", "below": 6.0}]
    assert pavement_grade(variant, {"mci": 3.5}).grade == "III"
    assert pavement_grade(variant, {"mci": 5.5}).grade == "II"
    assert pavement_grade(variant, {"mci": 3.5, "base_damage": True}).grade == "III-2"


def test_measures_take_precedence_over_a_reported_mci():
    """舗装点検要領: the 診断区分 rests on ひび割れ率, わだち掘れ, IRI when measured; MCI is computed from them."""
    res = pavement_grade(PAVE, {"crack_pct": 45, "rut_mm": 10, "mci": 7.5})
    assert (res.grade, res.basis) == ("III", "measures") and res.mci == mci(45, 10, None)


@pytest.mark.parametrize("pavement_type", ["asphalt", "concrete"])
@given(a=st.floats(0, 100), b=st.floats(0, 100))
def test_more_cracking_never_gives_a_better_class(pavement_type, a, b):
    """舗装点検要領 (domain.md §2.3): Ⅰ < Ⅱ < Ⅲ as ひび割れ率 crosses the lower and upper thresholds."""
    lo, hi = sorted((a, b))
    order = {"I": 0, "II": 1, "III": 2}
    assert (order[pavement_grade(PAVE, {"crack_pct": lo}, pavement_type).grade]
            <= order[pavement_grade(PAVE, {"crack_pct": hi}, pavement_type).grade])


@given(a=st.floats(-20, 10), b=st.floats(-20, 10))
def test_a_lower_mci_never_gives_a_better_class(a, b):
    """domain.md §2.3: a lower MCI is a worse road, so its class is never better."""
    lo, hi = sorted((a, b))
    order = {"I": 0, "II": 1, "III": 2}
    assert order[pavement_grade(PAVE, {"mci": lo}).grade] >= order[pavement_grade(PAVE, {"mci": hi}).grade]
