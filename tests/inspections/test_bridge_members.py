"""Bridge members as the 道路橋定期点検要領 (国土交通省 道路局) defines them: the member codes of its 付録 (部材記号 +
要素番号, e.g. Mg0101) as catalogue data, the bridge's 健全性 from its main members (7.2 道路橋毎の健全性の診断), and
the first inspection within two years of opening."""

import copy
import datetime
import io
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from assets.history import Actor
from assets.models import Via
from inspections.condition import refresh_conditions
from inspections.grading import GradeError, derive_grade, member_result
from inspections.models import AssetCondition, GradingScheme, MemberKind
from inspections.services import inspection_record
from tests.conftest import make_asset
from tests.inspections.test_grading import scheme

CAT = Path(__file__).resolve().parents[2] / "fixtures" / "catalogue"
BRIDGE = scheme("bridge_kenzen")


def row(member, grade, **kw):
    return {"member": member, "grade": grade, **kw}


# ---- the member catalogue (要領 付録: 部材番号・要素番号) ---------------------------------------------------
def test_the_member_codes_are_catalogue_data_loaded_into_the_database(db):
    """道路橋定期点検要領 付録 (部材記号): the full list lives in fixtures/catalogue/bridge_members.json and is loaded by
    load_catalogue into MemberKind, not kept in code."""
    spec = json.loads((CAT / "bridge_members.json").read_text(encoding="utf-8"))["member_kinds"]
    assert 60 <= len(spec["members"]) <= 75
    call_command("load_catalogue", stdout=io.StringIO())
    codes = dict(MemberKind.objects.values_list("code", "name"))
    assert len(codes) == len(spec["members"])
    for code, name in {"Mg": "主桁", "Cr": "横桁", "St": "縦桁", "Ds": "床版", "Cf": "対傾構", "Lu": "上横構",
                       "Ll": "下横構", "Bh": "支承本体", "Bm": "沓座モルタル", "Ej": "伸縮装置", "Gf": "防護柵",
                       "Fg": "地覆", "Pm": "舗装", "Dr": "排水ます", "Dp": "排水管"}.items():
        assert codes[code] == name
    main = set(MemberKind.objects.filter(is_main_member=True).values_list("code", flat=True))
    assert {"Mg", "Cr", "Ds", "Pw", "Ap", "Bh"} <= main
    assert not {"Gf", "Ra", "Ej", "Pm", "Dr", "Fg"} & main  # 路上・排水: not 主要部材
    # Idempotent, and a code the file drops is no longer allowed.
    call_command("load_catalogue", stdout=io.StringIO())
    assert MemberKind.objects.count() == len(spec["members"])


def test_an_unknown_member_code_names_the_allowed_codes():
    """要領 付録: a member is its 部材記号 plus a 4-digit 要素番号; anything else is refused naming the codes."""
    with pytest.raises(GradeError) as exc:
        derive_grade(BRIDGE, None, {"members": [row("Hr0101", "II")]})  # 高欄 is Ra in the 要領, not Hr
    assert exc.value.field == "observations.members[1].member"
    assert "Ra 高欄" in exc.value.message and "Mg 主桁" in exc.value.message
    with pytest.raises(GradeError):
        derive_grade(BRIDGE, None, {"members": [row("Mg01015", "II")]})  # 5-digit element number
    assert derive_grade(BRIDGE, None, {"members": [row("Bh0101", "II")]})[0] == "II"


def test_an_unknown_member_is_refused_by_the_service_and_nothing_is_stored(world):
    bridge = make_asset(world.yashio, "bridge")
    with pytest.raises(ValidationError) as exc:
        inspection_record(actor=Actor(world.alice, Via.UI), asset=bridge, inspected_on="2025-06-10",
                          observations={"members": [row("Xx0101", "III")]})
    assert "Mg 主桁" in str(exc.value)
    assert not bridge.inspections.exists()


# ---- 7.2 道路橋毎の健全性の診断: from the main members ------------------------------------------------------------
def test_a_guard_fence_at_III_does_not_make_the_bridge_III():
    """道路橋定期点検要領 7.1 部材単位 / 7.2 道路橋毎の健全性の診断: the bridge is represented by the worst diagnosis of
    the main members (主要部材) that carry it; a 防護柵 (路上) at Ⅲ is a member to act on, not a Ⅲ bridge."""
    obs = {"members": [row("Mg0101", "II"), row("Ds0101", "I"), row("Gf0101", "III"), row("Ej0101", "III")]}
    grade, derived = derive_grade(BRIDGE, None, obs)
    assert grade == "II"
    assert derived["member_rule"] == "main_members" and derived["worst_member_grade"] == "III"
    # A main member at Ⅲ does make it Ⅲ.
    obs["members"].append(row("Bh0101", "III"))
    assert derive_grade(BRIDGE, None, obs)[0] == "III"


def test_the_member_rule_is_a_catalogue_parameter():
    """The rule is bridge_kenzen params.member_rule: a manager that takes the worst member of all sets
    "worst_member" in its scheme version; no code changes."""
    strict = copy.deepcopy(BRIDGE)
    strict["params"]["member_rule"] = "worst_member"
    obs = {"members": [row("Mg0101", "II"), row("Gf0101", "III")]}
    assert derive_grade(strict, None, obs)[0] == "III"
    assert derive_grade(BRIDGE, None, obs)[0] == "II"


def test_without_a_graded_main_member_the_worst_member_stands_in():
    """Never invent a grade: when only non-main members were graded, the worst of them is what was observed."""
    res = member_result(BRIDGE, {"members": [row("Gf0101", "III"), row("Mg0101", "")]})
    assert res.grade == "III" and res.worst_member == "III"


def test_the_inspectors_grade_is_kept_beside_the_members_rule(world):
    """The inspector's 道路橋毎 judgement is the legal record (要領 7.2); the rule's grade is stored beside it."""
    bridge = make_asset(world.yashio, "bridge")
    insp = inspection_record(actor=Actor(world.alice, Via.UI), asset=bridge, inspected_on="2025-06-10",
                             observations={"members": [row("Mg0101", "II"), row("Gf0101", "III")]})
    assert insp.grade.code == "II" and insp.observations["derived"]["worst_member_grade"] == "III"
    given = inspection_record(actor=Actor(world.alice, Via.UI), asset=bridge, inspected_on="2025-07-10", grade="III",
                              observations={"members": [row("Mg0101", "II"), row("Gf0101", "III")]})
    assert given.grade.code == "III" and given.observations["derived"]["computed_grade"] == "II"


def test_member_rows_on_a_tunnel_are_refused_naming_why(world):
    """The bridge 要領's member codes are not a tunnel's (道路トンネル定期点検要領 has its own): refused, not misread."""
    tunnel = make_asset(world.yashio, "tunnel")
    with pytest.raises(ValidationError) as exc:
        inspection_record(actor=Actor(world.alice, Via.UI), asset=tunnel, inspected_on="2025-06-10",
                          observations={"members": [row("Mg0101", "II")]})
    assert "no member codes for tunnel" in str(exc.value)


# ---- first inspection within 2 years of opening -----------------------------------------------------------
def test_a_new_bridge_is_due_within_two_years_of_opening(world):
    """道路橋定期点検要領: 初回の定期点検は供用開始後2年以内 — a bridge opened in FY2023 and never inspected is due
    on 2025-04-01, not one 5-year cycle after opening (2028-04-01). bridge_kenzen
    params.legal.first_due.after_opening_months = 24, read by inspections.condition."""
    scheme_row = GradingScheme.objects.get(code="bridge_kenzen", is_current=True)
    assert scheme_row.params["legal"]["first_due"]["after_opening_months"] == 24
    bridge = make_asset(world.yashio, "bridge", external_id="B-2023", built=2023)
    refresh_conditions([bridge.pk])
    assert AssetCondition.objects.get(asset=bridge).next_due_on == datetime.date(2025, 4, 1)
    # An old bridge: the 5-year cycle from the law's start (2014-07-01) still governs.
    old = make_asset(world.yashio, "bridge", external_id="B-1970", built=1970)
    refresh_conditions([old.pk])
    assert AssetCondition.objects.get(asset=old).next_due_on == datetime.date(2019, 7, 1)
