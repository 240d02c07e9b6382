import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from assets.models import Asset
from tests.conftest import make_pipe


def test_global_ids_embed_owner_and_kind_and_count_up(world):
    a = make_pipe(world.yashio, external_id="P-1")
    b = make_pipe(world.yashio, external_id="P-2")
    c = make_pipe(world.soka, external_id="P-1", lon=139.805, lat=35.825)
    assert (a.global_id, b.global_id, c.global_id) == ("112348-SP-000001", "112348-SP-000002", "112216-SP-000001")


def test_external_id_is_unique_per_owner_and_source(world):
    make_pipe(world.yashio, external_id="P-1")
    with pytest.raises(ValidationError) as exc:
        make_pipe(world.yashio, external_id="P-1")
    assert "external id" in str(exc.value)
    assert Asset.objects.count() == 1


def test_the_same_external_id_is_fine_for_another_owner_or_source(world):
    make_pipe(world.yashio, external_id="P-1")
    make_pipe(world.soka, external_id="P-1", lon=139.805, lat=35.825)
    other = Asset.objects.get(owner=world.yashio)
    other.pk, other.global_id, other.source = None, "112348-SP-999999", "other-ledger"
    other.save()
    assert Asset.objects.filter(external_id="P-1").count() == 3


def test_the_database_enforces_uniqueness_too(world):
    a = make_pipe(world.yashio, external_id="P-1")
    dup = Asset(owner=a.owner, kind=a.kind, source=a.source, external_id="P-1", geom=a.geom, global_id="x-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        dup.save()


def test_invalid_detail_names_the_field_and_allowed_values(world):
    with pytest.raises(ValidationError) as exc:
        make_pipe(world.yashio, material="bamboo")
    msg = exc.value.message_dict
    assert "detail.material" in msg
    assert "bamboo" in msg["detail.material"][0]
    assert Asset.objects.count() == 0


def test_unknown_kind_lists_the_allowed_kinds(world):
    from django.contrib.gis.geos import Point

    from assets.history import Actor
    from assets.services import asset_create

    with pytest.raises(ValidationError) as exc:
        asset_create(actor=Actor.system(), owner=world.yashio, kind="dam", geom=Point(139.8, 35.8, srid=6668))
    assert "sewer_pipe" in exc.value.message_dict["kind"][0]


def test_owner_accepts_a_five_digit_code(world):
    a = make_pipe("11234")
    assert a.owner_id == "112348"


def test_owner_with_a_bad_check_digit_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        make_pipe("112349")
    assert "112348" in exc.value.message_dict["owner"][0]
