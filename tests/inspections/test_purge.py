"""What inspections keeps for assets deleted outright goes with them, set-based; other assets keep theirs."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets.history import Actor
from assets.models import Asset, ChangeRecord, Via
from inspections.condition import refresh_conditions
from inspections.measure_services import measure_record
from inspections.models import AssetCondition, Inspection, InspectionPhoto, Measure
from inspections.purge import purge_for_assets
from inspections.services import inspection_record
from tests.conftest import jpeg_bytes, make_asset

SYS = Actor.system(Via.API)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def bridge_with_records(world, external_id):
    b = make_asset(world.yashio, "bridge", external_id=external_id, built=1970)
    inspection_record(actor=SYS, asset=b, inspected_on="2023-05-01", grade="III",
                      photos=[SimpleUploadedFile("deck.jpg", jpeg_bytes(), "image/jpeg")])
    measure_record(actor=SYS, asset=b, kind="補修・修繕", started_on="2024-06-01", completed_on="2024-09-30")
    refresh_conditions([b.pk])
    return b


def test_purge_deletes_conditions_measures_inspections_photos_and_their_history(world, media,
                                                                               django_capture_on_commit_callbacks):
    gone, kept = bridge_with_records(world, "BR-1"), bridge_with_records(world, "BR-2")
    files = [media / p.image.name for p in InspectionPhoto.objects.filter(inspection__asset=gone)]
    with django_capture_on_commit_callbacks(execute=True):
        done = purge_for_assets(Asset.objects.filter(pk=gone.pk))
    assert done == {"conditions": 1, "measures": 1, "photos": 1, "inspections": 1}
    for model in (AssetCondition, Inspection, Measure):
        assert set(model.objects.values_list("asset_id", flat=True)) == {kept.pk}
    assert set(InspectionPhoto.objects.values_list("inspection__asset_id", flat=True)) == {kept.pk}
    assert files and not any(Path(f).exists() for f in files)
    for model in ("inspection", "measure"):
        ids = {str(pk) for pk in
               (Inspection if model == "inspection" else Measure).objects.values_list("pk", flat=True)}
        assert set(ChangeRecord.objects.filter(content_type__model=model).values_list("object_id", flat=True)) == ids
