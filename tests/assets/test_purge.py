"""Deleting assets outright (generated data only): set-based, with details, references and history."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets.history import forget_changes
from assets.models import Asset, ChangeRecord, SewerPipe
from assets.purge import purge_assets
from tests.conftest import make_asset


def test_purge_deletes_the_assets_details_and_history_and_leaves_the_rest(world):
    gone = [make_asset(world.yashio, "manhole", external_id=f"MH-{i}") for i in range(3)]
    road = make_asset(world.yashio, "road_segment", external_id="R-1")
    kept = make_asset(world.yashio, "sewer_pipe", external_id="P-1", upstream_manhole=gone[0],
                      downstream_manhole=gone[1], road_segment=road)
    doomed = Asset.objects.filter(external_id__in=["MH-0", "MH-1", "MH-2", "R-1"])
    # The apps above the registry purge what they keep first (here: the condition rows every asset has).
    from inspections.purge import purge_for_assets

    purge_for_assets(doomed)
    with CaptureQueriesContext(connection) as ctx:
        assert purge_assets(doomed) == 4
    assert len(ctx.captured_queries) <= 12  # one statement per table, whatever the number of assets
    assert list(Asset.objects.values_list("pk", flat=True)) == [kept.pk]
    pipe = SewerPipe.objects.get(asset=kept)
    assert (pipe.upstream_manhole_id, pipe.downstream_manhole_id, pipe.road_segment_id) == (None, None, None)
    assert set(ChangeRecord.objects.filter(content_type__model="asset").values_list("object_id", flat=True)) == {
        str(kept.pk)}


def test_forgetting_history_touches_only_the_given_objects(world):
    a, b = (make_asset(world.yashio, "manhole", external_id=f"MH-{i}") for i in range(2))
    assert forget_changes(Asset.objects.filter(pk=a.pk)) == 1
    assert list(ChangeRecord.objects.values_list("object_id", flat=True)) == [str(b.pk)]
