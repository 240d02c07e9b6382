"""Septic tanks in the engine (domain.md §7 "Who pays for a septic tank"; 下水道法 第10条; 浄化槽法 第10条・第12条;
浄化槽法施行規則 第6条・第7条): who pays, connection cases, lapsed upkeep, and 不適正 as guidance, not a deadline."""

import datetime

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from assets.history import Actor
from assets.models import Via
from clusters.engine.deterioration import estimate
from clusters.engine.params import Params
from clusters.engine.scoring import score
from clusters.models import Cluster
from clusters.services import run_create, run_execute
from inspections.services import inspection_record
from tests.conftest import make_asset

P = Params()


def hazards():
    d = P.default_hazards
    n = {"bridge_kenzen": 4, "pavement_shindan": 4, "sewer_kinkyu": 4, "manhole_kinkyu": 4, "septic_hantei": 3}
    return {k: estimate([], [], [], n[k], tuple(d[k])) for k in n}


def tanks(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"kind": ["septic_tank"] * n, "state": [-1] * n, "years": [40.0] * n, "age": [40.0] * n,
            "single": [True] * n, "private": [True] * n, "in_sewer_area": [False] * n, "owner": ["112348"] * n,
            "capacity": [5] * n, "households": [1] * n}
    return pd.DataFrame({**base, **cols})


def test_private_tank_municipality_pays_its_subsidy_share_and_the_owner_the_rest():
    """domain.md §7: a 個人設置型 tank's conversion is its owner's; the municipality pays its 補助 share (a default
    and a per-municipality figure); a 市町村設置型 tank it pays in full. Costs count the municipality's part only;
    the owner's is carried apart (owner_cost)."""
    p = Params.from_dict({"septic_subsidy_share": 0.4, "septic_subsidy_share_by_municipality": {"112216": 0.6}})
    df = tanks(private=[True, True, False], owner=["112348", "112216", "112348"])
    s = score(df, hazards(), p)
    full = 5 * p.cost_septic_replace_per_person
    assert list(s.action) == ["renew"] * 3
    np.testing.assert_allclose(s.cost, [0.4 * full, 0.6 * full, full])
    np.testing.assert_allclose(s.owner_cost, [0.6 * full, 0.4 * full, 0.0])
    np.testing.assert_allclose(s.renew_cost, [0.4 * full, 0.6 * full, full])  # the plan's figures: municipal


@pytest.mark.parametrize("bad", [{"septic_subsidy_share": 1.5}, {"septic_subsidy_share": -0.1},
                                 {"septic_subsidy_share_by_municipality": {"112348": 2}},
                                 {"septic_subsidy_share_by_municipality": {"112348": "half"}}])
def test_subsidy_share_outside_0_to_1_is_refused_with_a_clear_error(world, bad):
    """A 補助 share is a fraction of the cost; anything else is named, with the allowed range, and no run starts."""
    with pytest.raises(ValidationError) as e:
        run_create(principal=world.carol, region=world.region, overrides=bad)
    assert "septic_subsidy_share" in str(e.value) and "between 0 and 1" in str(e.value)


def test_a_tank_inside_a_sewer_planning_area_is_not_converted():
    """下水道法 第10条: inside a 下水道計画区域 the tank is to be connected (接続指導), never converted or replaced."""
    s = score(tanks(in_sewer_area=[True, False]), hazards(), P)
    assert list(s.action) == ["monitor", "renew"]


def _tank(world, ext, lon, **kw):
    return make_asset(world.yashio, "septic_tank", external_id=ext, lon=lon, built=1980, treatment="single",
                      households_served=1, **kw)


def test_run_excludes_planning_area_tanks_from_groups_and_counts_them_as_connection_cases(world):
    """下水道法 第10条 接続義務: the planning area's tanks leave the conversion groups and are counted as 接続指導."""
    for k in range(5):
        _tank(world, f"in-{k}", 139.830 + 0.0003 * k, in_sewer_planning_area=True)
    for k in range(5):
        _tank(world, f"out-{k}", 139.860 + 0.0003 * k, ownership="municipal")
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    (group,) = run.summary["septic_groups"]
    assert group["tanks"] == 5 and group["private"] == 0 and group["owner_cost"] == 0
    assert group["conversion_cost"] == pytest.approx(5 * P.septic_install_per_household)  # 市町村設置型: all of it
    conn = run.summary["septic_connection"]
    assert (conn["tanks"], conn["candidates"]) == (5, 5) and "下水道法 第10条" in conn["basis"]
    assert conn["by_owner"]["112348"] == {"tanks": 5, "candidates": 5}


def test_lot_and_run_carry_the_owners_share_apart_from_the_municipal_cost(world):
    """domain.md §7: plan totals count municipal cost only; 設置者負担（参考） is a separate figure per lot and run,
    shown on the run page."""
    for k in range(3):
        _tank(world, f"p-{k}", 139.830 + 0.0003 * k)
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    full = 3 * 5 * P.cost_septic_replace_per_person
    (lot,) = Cluster.objects.filter(run=run, work_type="septic")
    assert lot.cost_members == pytest.approx(full * P.septic_subsidy_share)
    assert lot.owner_cost == pytest.approx(full * (1 - P.septic_subsidy_share))
    assert run.summary["owner_cost_total"] == pytest.approx(lot.owner_cost)
    assert run.summary["cost_total"] == pytest.approx(lot.cost_members)
    from django.test import Client

    c = Client()
    c.force_login(world.carol)
    html = c.get(f"/runs/{run.pk}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "設置者負担（参考）" in html and "接続指導" in html and "保守点検" in html


def test_lapsed_upkeep_is_reported_and_improper_is_guidance_not_a_legal_deadline(world):
    """浄化槽法 第10条・施行規則 第6条/第7条: lapsed 保守点検/清掃 are reported with their basis; 浄化槽法 第12条: a
    不適正 tank's improvement is guidance — no action_due_on, so no mandatory (legal deadline) part in the outlook."""
    today = timezone.localdate()
    lapsed = _tank(world, "lapsed", 139.830, treatment_method="全ばっ気")
    kept = _tank(world, "kept", 139.850, treatment_method="全ばっ気", in_sewer_planning_area=True)
    actor = Actor(world.alice, Via.UI)
    for grade in ("保守点検", "清掃"):
        inspection_record(actor=actor, asset=kept, grade=grade, scheme="septic_maintenance",
                          inspected_on=(today - datetime.timedelta(days=20)).isoformat())
    inspection_record(actor=actor, asset=lapsed, grade="不適正", legal_basis="11条",
                      inspected_on=(today - datetime.timedelta(days=250)).isoformat())
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    up = run.summary["septic_upkeep"]
    assert up["maintenance"]["count"] == 1 and up["cleaning"]["count"] == 1 and up["lapsed_tanks"] == 1
    assert up["guidance"]["count"] == 1 and "法定期限ではない" in up["guidance_basis"]
    assert "施行規則 第6条" in up["basis"]["maintenance"] and "施行規則 第7条" in up["basis"]["cleaning"]
    for lot in Cluster.objects.filter(run=run):
        assert "mandatory" not in lot.outlook


def test_a_tank_within_a_sewer_plan_area_polygon_counts_as_inside(world):
    """下水道法 第10条: a tank within a 下水道計画区域 polygon (assets.SewerPlanArea) is a connection case even when its
    own flag is not set: out of the conversion groups, no conversion of its own, counted as 接続指導."""
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from assets.models import SewerPlanArea

    SewerPlanArea.objects.create(municipality=world.yashio, name="八潮処理区", geom=MultiPolygon(
        Polygon.from_bbox((139.825, 35.815, 139.845, 35.830)), srid=6668))
    for k in range(5):
        _tank(world, f"poly-{k}", 139.830 + 0.0003 * k)
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    assert run.summary["septic_groups"] == []
    assert run.summary["septic_connection"]["tanks"] == 5
    assert not Cluster.objects.filter(run=run, work_type="septic").exists()
