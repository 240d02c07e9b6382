"""Issue 13: the registry's writes reach the condition table through assets.signals, so creating, changing,
importing and retiring an asset update its due dates and the work list. Nothing here rebuilds by hand."""

import datetime

from django.db import transaction
from django.test import Client

from assets.history import Actor
from assets.models import Asset, AssetStatus, Via
from assets.services import asset_retire, asset_update
from assets.signals import notify
from inspections import selectors
from inspections.models import AssetCondition
from tests.conftest import make_asset


def due(asset):
    return AssetCondition.objects.filter(asset=asset).values_list("next_due_on", flat=True).first()


def overdue_ids(principal):
    return {r["global_id"] for r in selectors.work_list(principal=principal, within=0)}


def test_a_new_asset_is_due_by_its_schemes_first_due_rule_and_on_the_overdue_list(world):
    """道路法施行規則: a 1970 bridge never inspected is due one 5-year cycle after 2014-07-01."""
    bridge = make_asset(world.yashio, "bridge", external_id="B-NEW", built=1970)
    condition = AssetCondition.objects.get(asset=bridge)
    assert condition.next_due_on == datetime.date(2019, 7, 1) and condition.inspected_on is None
    assert bridge.global_id in overdue_ids(world.alice)
    c = Client()
    c.force_login(world.alice)
    assert bridge.global_id in str(c.get("/api/v1/overdue").json())


def test_retiring_removes_the_condition_and_the_work(world):
    bridge = make_asset(world.yashio, "bridge", external_id="B-OLD", built=1970)
    assert bridge.global_id in overdue_ids(world.alice)
    asset_retire(actor=Actor(world.alice, Via.UI), asset=bridge, reason="撤去")
    assert not AssetCondition.objects.filter(asset=bridge).exists()
    assert bridge.global_id not in overdue_ids(world.alice)


def test_changing_the_built_year_moves_the_first_due_date(world):
    tank = make_asset(world.yashio, "septic_tank", external_id="S-1", built=1985)
    assert due(tank) == datetime.date(2021, 4, 1)  # one yearly cycle after the registry duty (2020-04-01)
    asset_update(actor=Actor(world.alice, Via.UI), asset=tank, data={"built_fiscal_year": 2026})
    assert due(tank) == datetime.date(2026, 12, 1)  # 浄化槽法 7条: 8 months after use begins


def test_changing_a_kind_detail_the_cycle_depends_on_updates_the_due_date(world):
    """下水道法施行令: the 5-year cycle applies to pipes prone to corrosion only."""
    pipe = make_asset(world.yashio, "sewer_pipe", external_id="P-C", built=1980, is_corrosion_prone=False)
    assert AssetCondition.objects.filter(asset=pipe).exists() and due(pipe) is None
    asset_update(actor=Actor(world.alice, Via.UI), asset=pipe, detail={"is_corrosion_prone": True})
    assert due(pipe) is not None
    assert pipe.global_id in {r["global_id"] for r in selectors.work_list(principal=world.alice, within=3650)}


def test_status_changes_through_an_update_follow_too(world):
    bridge = make_asset(world.yashio, "bridge", external_id="B-S", built=1970)
    asset_update(actor=Actor(world.alice, Via.UI), asset=bridge, data={"status": AssetStatus.REMOVED})
    assert not AssetCondition.objects.filter(asset=bridge).exists()
    asset_update(actor=Actor(world.alice, Via.UI), asset=bridge, data={"status": AssetStatus.IN_SERVICE})
    assert due(bridge) == datetime.date(2019, 7, 1)


def test_an_api_patch_updates_the_due_date(world):
    bridge = make_asset(world.yashio, "bridge", external_id="B-API", built=1970)
    c = Client()
    c.force_login(world.alice)
    r = c.patch(f"/api/v1/assets/{bridge.global_id}", {"data": {"built_fiscal_year": 2020}},
                content_type="application/json", HTTP_IF_MATCH="*")
    assert r.status_code == 200, r.content
    assert due(bridge) == datetime.date(2022, 4, 1)


def test_a_bulk_import_is_announced_once_for_its_rows(world):
    """Bulk writers (the ledger importer, the generator) write in SQL and then send "imported"."""
    first = make_asset(world.yashio, "bridge", external_id="B-I1", built=1970)
    second = make_asset(world.yashio, "bridge", external_id="B-I2", built=1970)
    with transaction.atomic():
        Asset.objects.filter(pk__in=[first.pk, second.pk]).update(built_fiscal_year=2020)
        notify("imported", None, min_asset_id=first.pk)
    assert due(first) == due(second) == datetime.date(2022, 4, 1)


def test_a_write_that_rolls_back_leaves_the_condition_as_it_was(world):
    bridge = make_asset(world.yashio, "bridge", external_id="B-RB", built=1970)
    try:
        with transaction.atomic():
            asset_update(actor=Actor(world.alice, Via.UI), asset=bridge, data={"built_fiscal_year": 2020})
            assert due(bridge) == datetime.date(2022, 4, 1)
            raise RuntimeError("later step failed")
    except RuntimeError:
        pass
    assert due(bridge) == datetime.date(2019, 7, 1)


def test_new_assets_announced_as_a_table_of_ids_get_the_same_due_dates_as_a_list(world):
    """A bulk writer's new ids may stay in a temporary table (assets.signals.IdTable): the first due dates are
    those the list of ids gives (道路法施行規則: 1970 bridge 2019-07-01; 浄化槽法 7条; 下水道法施行令 pipes)."""
    from django.db import connection

    from assets.signals import IdTable

    made = [make_asset(world.yashio, "bridge", external_id="B-T1", built=1970),
            make_asset(world.yashio, "septic_tank", external_id="S-T1", built=1985),
            make_asset(world.yashio, "sewer_pipe", external_id="P-T1", is_corrosion_prone=True),
            make_asset(world.yashio, "sewer_pipe", external_id="P-T2", is_corrosion_prone=False)]
    columns = ("next_due_on", "maintenance_due_on", "cleaning_due_on", "inspected_on")
    by_list = {c.asset_id: tuple(getattr(c, f) for f in columns) for c in AssetCondition.objects.all()}
    assert by_list[made[0].pk][0] == datetime.date(2019, 7, 1) and by_list[made[3].pk][0] is None
    with transaction.atomic():
        AssetCondition.objects.all().delete()
        with connection.cursor() as cur:
            cur.execute("CREATE TEMP TABLE _made ON COMMIT DROP AS SELECT unnest(%s::bigint[]) AS made_id",
                        [[a.pk for a in made]])
            cur.execute("CREATE UNIQUE INDEX ON _made (made_id)")
            cur.execute("ANALYZE _made")
        table = IdTable.of("_made", "made_id")
        assert (len(table), table.lo, table.hi) == (4, min(a.pk for a in made), max(a.pk for a in made))
        assert list(table) == sorted(a.pk for a in made)
        notify("created", table)
    by_table = {c.asset_id: tuple(getattr(c, f) for f in columns) for c in AssetCondition.objects.all()}
    assert by_table == by_list
