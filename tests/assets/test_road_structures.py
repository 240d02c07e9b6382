"""The road structures 平成26年国土交通省告示第426号 (トンネル等の健全性の診断結果の分類に関する告示) grades beside bridges:
トンネル, シェッド・大型カルバート等, 横断歩道橋, 門型標識等 — kinds of their own in the registry, graded Ⅰ–Ⅳ on the
bridges' 5-year cycle (道路法施行規則 第4条の5の6) with the same Ⅲ/Ⅳ deadlines, and handled by the engine like bridges
for repair by state but never as bridge-removal candidates."""

import datetime

import numpy as np
import pandas as pd
from django.test import Client

from assets.history import Actor
from assets.kinds import KINDS, ROAD_STRUCTURES
from assets.models import Asset, RoadStructure, Via
from clusters.engine.deterioration import Hazards
from clusters.engine.params import Params
from clusters.engine.scoring import SCHEME_OF_KIND, WORK_TYPE, score
from inspections.models import AssetCondition
from inspections.services import inspection_record
from ledger.importer import import_ledger
from tests.conftest import make_asset


def test_each_kind_has_its_id_code_and_the_shared_detail():
    assert {KINDS[k].code for k in ROAD_STRUCTURES} == {"TN", "SC", "PO", "GS"}
    assert all(KINDS[k].detail_model is RoadStructure for k in ROAD_STRUCTURES)


def test_created_with_a_global_id_and_due_on_the_bridges_cycle(world):
    """告示426号 / 道路法施行規則 第4条の5の6: the same 5-yearly 近接目視 as bridges; a tunnel of 1975 never
    inspected is due one cycle after the law's start (2019-07-01), one opened in FY2024 two years after opening."""
    old = make_asset(world.yashio, "tunnel", external_id="T-1", built=1975)
    new = make_asset(world.yashio, "ped_overpass", external_id="PO-1", built=2024)
    assert old.global_id == "112348-TN-000001" and new.global_id == "112348-PO-000001"
    assert old.road_structure.length_m == 120.0
    due = dict(AssetCondition.objects.values_list("asset_id", "next_due_on"))
    assert due[old.pk] == datetime.date(2019, 7, 1)
    assert due[new.pk] == datetime.date(2026, 4, 1)


def test_graded_I_to_IV_with_the_bridges_action_deadlines(world):
    """告示426号: Ⅲ 早期措置段階 — act before the next inspection (5 years); Ⅳ 緊急措置段階 — at once."""
    shed = make_asset(world.yashio, "shed_culvert", external_id="SC-1")
    sign = make_asset(world.yashio, "gantry_sign", external_id="GS-1")
    for asset, grade in ((shed, "Ⅲ"), (sign, "判定4")):
        inspection_record(actor=Actor(world.alice, Via.UI), asset=asset, grade=grade, inspected_on="2025-06-10")
    c = {a.kind: AssetCondition.objects.select_related("grade").get(asset=a) for a in (shed, sign)}
    assert c["shed_culvert"].grade.code == "III" and c["shed_culvert"].action_due_on == datetime.date(2030, 6, 10)
    assert c["gantry_sign"].grade.code == "IV" and c["gantry_sign"].action_due_on == datetime.date(2025, 6, 10)
    assert c["gantry_sign"].next_due_on == datetime.date(2030, 6, 10)


def test_listed_and_shown_with_japanese_labels(world):
    tunnel = make_asset(world.yashio, "tunnel", external_id="T-2")
    c = Client()
    c.force_login(world.alice)
    rows = c.get("/api/v1/assets?kind=tunnel").json()
    items = rows["items"] if isinstance(rows, dict) else rows
    assert [r["global_id"] for r in items] == [tunnel.global_id]
    c.cookies["django_language"] = "ja"
    page = c.get(f"/assets/{tunnel.global_id}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "延長" in page and "NATM" in page
    assert "トンネル" in page and "延長" in page


def test_a_tunnel_ledger_imports(world):
    """道路台帳 調書: トンネル with 延長 and 幅員 (domain.md §4.1) read by the shared ledger importer."""
    lines = ["施設番号,名称,トンネル延長(m),幅員(m),構造形式,建設年度,経度,緯度",
             "T-10,八潮トンネル,250,9.5,NATM,S55,139.839,35.822"]
    report = import_ledger(data="\n".join(lines).encode("utf-8"), filename="tunnels.csv", kind="tunnel",
                           municipality="112348", actor=Actor.system(Via.IMPORT))
    assert report.ok, report.errors
    t = Asset.objects.get(external_id="T-10")
    assert t.kind == "tunnel" and t.built_fiscal_year == 1980
    assert (t.road_structure.length_m, t.road_structure.structure_form) == (250.0, "NATM")


def test_the_engine_repairs_them_by_state_like_bridges_and_costs_them():
    """They share bridge_kenzen (one deterioration fit) and the bridges' work type (one 点検・修繕 package, as
    the 島根 model region bundles bridges and tunnels); a Ⅲ tunnel is acted on and costed by its own rates."""
    assert all(SCHEME_OF_KIND[k] == "bridge_kenzen" and WORK_TYPE[k] == "bridge" for k in ROAD_STRUCTURES)
    df = pd.DataFrame({
        "kind": ["tunnel", "gantry_sign", "ped_overpass", "bridge"], "state": [2, 3, 0, 2],
        "years": [1.0, 1.0, 1.0, 1.0], "length_m": [200.0, 15.0, 25.0, 20.0], "width_m": [9.0, np.nan, 2.5, 8.0],
        "traffic": [3000, 3000, 3000, 3000]})
    theta = np.array([1 / 20, 1 / 60, 1 / 30])
    hazards = {s: Hazards(theta=tuple(theta), pairs=0, source="default") for s in set(SCHEME_OF_KIND.values())}
    out = score(df, hazards, Params())
    assert list(out.action[:2]) != ["monitor", "monitor"]
    assert list(out.work_type) == ["bridge"] * 4
    p = Params().structure_costs
    assert out.repair_cost[0] == 200.0 * 9.0 * p["tunnel"]["repair_m2"]
    assert out.repair_cost[1] == p["gantry_sign"]["repair_each"]  # no footprint: the fixed part alone
    assert out.renew_cost[2] > out.repair_cost[2] > 0

