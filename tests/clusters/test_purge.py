"""An engine run keeps its lots when assets are deleted outright; only their scores go."""

from assets.models import Asset
from clusters.models import AssetScore, EngineRun
from clusters.purge import purge_for_assets
from tests.conftest import make_asset


def test_purge_deletes_only_the_given_assets_scores(world):
    a, b = (make_asset(world.yashio, "manhole", external_id=f"MH-{i}") for i in range(2))
    run = EngineRun.objects.create(region=world.region, params={}, status=EngineRun.Status.DONE)
    for x in (a, b):
        AssetScore.objects.create(run=run, asset=x, expected_state=1, lof=0.1, dlof=0.1, cof=1, risk=0.1,
                                  action=0, cost=0, risk_removed=0, work_type=1)
    assert purge_for_assets(Asset.objects.filter(pk=a.pk)) == 1
    assert list(AssetScore.objects.values_list("asset_id", flat=True)) == [b.pk]
    assert EngineRun.objects.filter(pk=run.pk).exists()
