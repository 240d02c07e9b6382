"""Stored files (inspection photos, plan PDFs) only through views that check the record's scope."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets.history import Actor
from assets.models import ApiToken, Via
from inspections.services import inspection_record
from tests.conftest import jpeg_bytes, make_pipe


@pytest.fixture
def photo(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    pipe = make_pipe(world.yashio)
    upload = SimpleUploadedFile('kanro "1"\r\n.jpg', jpeg_bytes(), "image/jpeg")
    insp = inspection_record(actor=Actor.system(Via.SYSTEM), asset=pipe, inspected_on="2025-05-01", grade="緊急度Ⅱ",
                             photos=[upload])
    return insp.photos.get()


def body(r) -> bytes:
    return b"".join(r.streaming_content) if r.streaming else r.content


def test_stored_names_are_random(photo, tmp_path):
    assert re.fullmatch(r"inspections/photos/[0-9a-f]{32}\.jpg", photo.image.name)
    assert re.fullmatch(r"inspections/thumbs/[0-9a-f]{32}\.jpg", photo.thumbnail.name)
    assert (tmp_path / photo.image.name).exists()


def test_media_is_not_served_even_with_debug(photo, client, world, settings):
    import importlib

    from django.urls import clear_url_caches

    import config.urls

    settings.DEBUG = True  # development: the URLconf used to add a public /media/ route then
    try:
        importlib.reload(config.urls)
        clear_url_caches()
        client.force_login(world.admin)
        assert client.get(f"/media/{photo.image.name}").status_code == 404
        client.logout()
        assert client.get(f"/media/{photo.thumbnail.name}").status_code == 404
    finally:
        settings.DEBUG = False
        importlib.reload(config.urls)
        clear_url_caches()


def test_a_photo_for_those_who_may_see_the_asset(photo, client, world):
    for who in (world.alice, world.bob, world.carol, world.victor, world.admin):  # 八潮市, its region, its viewer
        client.force_login(who)
        r = client.get(photo.url)
        assert r.status_code == 200 and r["Content-Type"] == "image/jpeg", who
        assert body(r) == jpeg_bytes()
        assert r["Cache-Control"].startswith("private")
        cd = r["Content-Disposition"]
        assert cd.startswith("inline; filename") and "\r" not in cd and "\n" not in cd
        t = client.get(photo.thumbnail_url)
        assert t.status_code == 200 and body(t)[:2] == b"\xff\xd8"


def test_outsiders_get_404_and_anonymous_the_login_page(photo, client, world):
    client.force_login(world.charlie)  # 輪島市: another region
    assert client.get(photo.url).status_code == 404
    assert client.get(photo.thumbnail_url).status_code == 404
    client.logout()
    r = client.get(photo.url)
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    assert client.get(f"/files/photos/{photo.pk + 1000}/").status_code == 302  # nothing learnt about ids


def test_tokens_see_their_own_municipalitys_photos(photo, client, world):
    _, own = ApiToken.issue(name="ledger", municipality=world.yashio, source="daicho")
    _, other = ApiToken.issue(name="ledger", municipality=world.wajima, source="daicho")
    r = client.get(photo.url, HTTP_AUTHORIZATION=f"Bearer {own}")
    assert r.status_code == 200 and body(r) == jpeg_bytes()
    assert client.get(photo.url, HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 404
    assert client.get(photo.url, HTTP_AUTHORIZATION="Bearer gm_bad_guess").status_code == 401


def test_the_api_links_to_the_scoped_view(photo, client, world):
    client.force_login(world.alice)
    got = client.get(f"/api/v1/inspections/{photo.inspection_id}").json()["photos"][0]
    assert got["url"] == f"/files/photos/{photo.pk}/" and got["thumbnail_url"] == f"/files/photos/{photo.pk}/thumbnail/"
    page = client.get(f"/en/assets/{photo.inspection.asset.global_id}/").content.decode()
    assert f'href="/files/photos/{photo.pk}/"' in page and "/media/" not in page


def test_x_accel_and_x_sendfile_hand_the_file_to_the_web_server(photo, client, world, settings, tmp_path):
    client.force_login(world.alice)
    settings.FILES_SERVE_MODE = "x-accel"
    r = client.get(photo.url)
    assert r.status_code == 200 and r["X-Accel-Redirect"] == f"/protected-media/{photo.image.name}"
    assert r.content == b"" and r["Content-Type"] == "image/jpeg"
    settings.FILES_SERVE_MODE = "x-sendfile"
    r = client.get(photo.url)
    assert r["X-Sendfile"] == str(tmp_path / photo.image.name) and r.content == b""
    client.force_login(world.charlie)
    assert client.get(photo.url).status_code == 404  # the scope is checked first, whatever the mode


def test_plan_pdfs_have_random_names_and_stay_in_scope(world, settings, tmp_path, client):
    from clusters.services import run_create, run_execute
    from reports.services import plan_create, plan_execute

    settings.MEDIA_ROOT = tmp_path
    pipe = make_pipe(world.yashio)
    inspection_record(actor=Actor.system(), asset=pipe, inspected_on="2025-05-01", grade="緊急度Ⅰ")
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    plan = plan_execute(plan_create(principal=world.carol, run=run).pk)
    assert re.fullmatch(r"plans/[0-9a-f]{32}\.pdf", plan.pdf.name)
    client.force_login(world.carol)
    r = client.get(f"/api/v1/plans/{plan.pk}/pdf")
    assert r.status_code == 200 and body(r).startswith(b"%PDF")
    assert r["Content-Disposition"] == f'attachment; filename="plan-nakagawa-region-{plan.pk}.pdf"'
    client.force_login(world.charlie)
    assert client.get(f"/api/v1/plans/{plan.pk}/pdf").status_code == 404
    client.logout()
    assert client.get(f"/api/v1/plans/{plan.pk}/pdf").status_code == 401
    assert client.get(f"/media/{plan.pdf.name}").status_code == 404
