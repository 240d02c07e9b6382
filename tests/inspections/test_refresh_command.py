"""`manage.py refresh_conditions` applies the current due-date rules to stored conditions (run by `make demo`)."""

import datetime

from django.core.management import call_command

from assets.models import Asset, AssetStatus
from inspections.models import AssetCondition
from tests.conftest import make_asset


def test_the_command_rebuilds_stale_conditions_and_drops_retired_assets(world):
    tank = make_asset(world.yashio, "septic_tank", external_id="ST-1", built=1972)
    gone = make_asset(world.yashio, "bridge", external_id="BR-9", built=1990)
    # As an older release left them: a 1972 tank "due" in 1972, and a retired bridge still listed.
    AssetCondition.objects.filter(asset=tank).update(next_due_on=datetime.date(1972, 12, 1))
    Asset.objects.filter(pk=gone.pk).update(status=AssetStatus.REMOVED)
    call_command("refresh_conditions")
    # 浄化槽法 7条 applies from the catalogue's first-due date, not from 1972 (see the work list rule).
    assert AssetCondition.objects.get(asset=tank).next_due_on >= datetime.date(2020, 4, 1)
    assert not AssetCondition.objects.filter(asset=gone).exists()
