from django.test import Client
from django.utils import translation

from tests.conftest import make_pipe


def test_admin_is_japanese_by_default_and_english_on_request(world):
    make_pipe(world.yashio)
    c = Client()
    c.force_login(world.alice)
    with translation.override("ja"):
        ja = c.get("/admin/assets/asset/").content.decode()
    assert "下水道管渠" in ja and "施設台帳" in ja
    en = c.get("/en/admin/assets/asset/").content.decode()
    assert "Sewer pipe" in en and "Asset registry" in en


def test_validation_messages_are_japanese_by_default(world):
    import pytest
    from django.core.exceptions import ValidationError

    with translation.override("ja"), pytest.raises(ValidationError) as exc:
        make_pipe("112349")
    assert "112348" in exc.value.message_dict["owner"][0]
    with translation.override("ja"), pytest.raises(ValidationError) as exc:
        make_pipe(world.yashio, material="bamboo")
    assert "使用可能な値" in exc.value.message_dict["detail.material"][0]
