"""An outsider sees and changes nothing of another municipality, in every entry point."""

import json

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.test import Client

from assets import access, selectors
from assets.history import Actor
from assets.models import ApiToken, Asset, ChangeRecord, Via
from assets.services import asset_create, asset_retire, asset_update
from tests.conftest import make_pipe


@pytest.fixture
def assets(world):
    return {
        "yashio": make_pipe(world.yashio, external_id="Y-1"),
        "soka": make_pipe(world.soka, external_id="S-1", lon=139.805, lat=35.825),
        "wajima": make_pipe(world.wajima, external_id="W-1", lon=136.899, lat=37.391),
    }


def visible_ids(user):
    return set(selectors.asset_list(principal=user).values_list("external_id", flat=True))


# ---- selectors -----------------------------------------------------------------------------------
def test_engineer_reads_own_and_region_neighbours(world, assets):
    assert visible_ids(world.alice) == {"Y-1", "S-1"}


def test_outsider_reads_nothing_of_another_region(world, assets):
    assert visible_ids(world.charlie) == {"W-1"}
    with pytest.raises(Asset.DoesNotExist):
        selectors.asset_get(principal=world.charlie, global_id=assets["yashio"].global_id)


def test_coordinator_reads_the_whole_region_only(world, assets):
    assert visible_ids(world.carol) == {"Y-1", "S-1"}
    assert list(access.regions_coordinated(world.carol)) == [world.region]
    assert not access.regions_coordinated(world.alice).exists()


def test_viewer_reads_own_municipality_only(world, assets):
    assert visible_ids(world.victor) == {"Y-1"}


def test_admin_reads_everything(world, assets):
    assert visible_ids(world.admin) == {"Y-1", "S-1", "W-1"}


def test_anonymous_reads_nothing(world, assets):
    from django.contrib.auth.models import AnonymousUser

    assert visible_ids(AnonymousUser()) == set()


def test_operator_reads_and_writes_the_assets_it_operates(world, assets):
    asset_update(actor=Actor.system(), asset=assets["yashio"], data={"operator": world.wajima})
    assert "Y-1" in visible_ids(world.charlie)
    asset_update(actor=Actor(world.charlie, Via.UI), asset=assets["yashio"], data={"name": "運転管理"})


def test_history_is_hidden_from_outsiders(world, assets):
    assert not selectors.asset_history(principal=world.charlie, asset=assets["yashio"]).exists()
    assert selectors.asset_history(principal=world.alice, asset=assets["yashio"]).exists()


# ---- services ------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["charlie", "bob", "carol", "victor"])
def test_only_the_owner_changes_an_asset(world, assets, persona):
    user = getattr(world, persona)
    target = assets["yashio"]
    before = ChangeRecord.objects.count()
    with pytest.raises(PermissionDenied):
        asset_update(actor=Actor(user, Via.UI), asset=target, data={"name": "書き換え"})
    with pytest.raises(PermissionDenied):
        asset_retire(actor=Actor(user, Via.UI), asset=target)
    target.refresh_from_db()
    assert (target.name, target.status, target.version) == ("テスト管渠", "in_service", 1)
    assert ChangeRecord.objects.count() == before


def test_outsider_cannot_create_in_another_municipality(world):
    with pytest.raises(PermissionDenied):
        asset_create(actor=Actor(world.charlie, Via.UI), owner=world.yashio, kind="manhole",
                     geom=Point(139.839, 35.822, srid=6668), detail={})
    assert not Asset.objects.exists()


def test_owner_engineer_changes_own_asset(world, assets):
    a = asset_update(actor=Actor(world.alice, Via.UI), asset=assets["yashio"], data={"name": "八潮幹線1"})
    assert (a.name, a.version) == ("八潮幹線1", 2)


def test_api_token_is_limited_to_its_municipality_and_source(world, assets):
    token, key = ApiToken.issue(name="下水道台帳システム", municipality=world.yashio, source="gesuido-daicho")
    assert ApiToken.authenticate(key) == token
    assert ApiToken.authenticate(key + "x") is None
    assert set(access.assets_visible(token).values_list("external_id", flat=True)) == {"Y-1"}
    asset_update(actor=Actor(token, Via.API), asset=assets["yashio"], data={"name": "台帳更新"})
    with pytest.raises(PermissionDenied):
        asset_update(actor=Actor(token, Via.API), asset=assets["soka"], data={"name": "x"})
    with pytest.raises(PermissionDenied) as exc:
        asset_create(actor=Actor(token, Via.API), owner=world.yashio, kind="manhole", source="doro-daicho",
                     geom=Point(139.839, 35.822, srid=6668), detail={})
    assert "gesuido-daicho" in str(exc.value)
    token.revoke()
    assert ApiToken.authenticate(key) is None


# ---- API -----------------------------------------------------------------------------------------
def api(user):
    c = Client()
    c.force_login(user)
    return c


def test_api_list_and_detail_are_scoped(world, assets):
    body = api(world.charlie).get("/api/v1/assets").json()
    assert [i["external_id"] for i in body["items"]] == ["W-1"]
    gid = assets["yashio"].global_id
    assert api(world.charlie).get(f"/api/v1/assets/{gid}").status_code == 404
    assert api(world.alice).get(f"/api/v1/assets/{gid}").json()["owner"] == "112348"


def test_api_outsider_cannot_retire(world, assets):
    gid = assets["yashio"].global_id
    r = api(world.charlie).post(f"/api/v1/assets/{gid}/retire", json.dumps({}), content_type="application/json")
    assert r.status_code == 404
    r = api(world.bob).post(f"/api/v1/assets/{gid}/retire", json.dumps({}), content_type="application/json")
    assert r.status_code == 403
    assert Asset.objects.get(global_id=gid).status == "in_service"
    r = api(world.alice).post(f"/api/v1/assets/{gid}/retire", json.dumps({"reason": "撤去"}),
                              content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "removed"


def test_api_requires_sign_in(world, assets):
    assert Client().get("/api/v1/assets").status_code == 401


# ---- admin ---------------------------------------------------------------------------------------
def test_admin_changelist_is_scoped(world, assets):
    html = api(world.charlie).get("/admin/assets/asset/").content.decode()
    assert assets["wajima"].global_id in html
    assert assets["yashio"].global_id not in html


def test_admin_outsider_cannot_open_or_post_a_change(world, assets):
    target = assets["yashio"]
    c = api(world.charlie)
    assert c.get(f"/admin/assets/asset/{target.pk}/change/").status_code == 302  # "does not exist" redirect
    c.post(f"/admin/assets/asset/{target.pk}/change/", {"name": "乗っ取り"})
    target.refresh_from_db()
    assert target.name == "テスト管渠"


def test_admin_neighbour_sees_but_cannot_change(world, assets):
    target = assets["yashio"]
    c = api(world.bob)
    r = c.get(f"/admin/assets/asset/{target.pk}/change/")
    assert r.status_code == 200 and 'name="name"' not in r.content.decode()
    c.post(f"/admin/assets/asset/{target.pk}/change/", {"name": "乗っ取り"})
    target.refresh_from_db()
    assert target.name == "テスト管渠"


def test_admin_outsider_cannot_retire_by_bulk_action(world, assets):
    target = assets["yashio"]
    api(world.charlie).post("/admin/assets/asset/", {"action": "retire_selected", "_selected_action": [target.pk]})
    target.refresh_from_db()
    assert target.status == "in_service"


def test_admin_membership_and_tokens_are_for_administrators_only(world):
    assert api(world.alice).get("/admin/assets/membership/").status_code == 403
    assert api(world.alice).get("/admin/assets/apitoken/").status_code == 403
    assert api(world.admin).get("/admin/assets/apitoken/").status_code == 200


# ---- one "not found" for every handler -----------------------------------------------------------------
def test_get_or_404_answers_alike_for_absent_and_out_of_scope(world, assets):
    from django.http import Http404

    theirs, ours = assets["wajima"], assets["yashio"]
    assert access.get_or_404(selectors.asset_list(principal=world.alice), global_id=ours.global_id) == ours
    assert access.get_or_404(selectors.asset_get, principal=world.alice, global_id=ours.global_id) == ours
    for lookup in ({"global_id": theirs.global_id}, {"global_id": "112348-no-such"}):
        with pytest.raises(Http404):
            access.get_or_404(selectors.asset_list(principal=world.alice), **lookup)
        with pytest.raises(Http404):
            access.get_or_404(selectors.asset_get, principal=world.alice, **lookup)


def test_scope_sets_for_municipalities_and_regions(world):
    codes = lambda qs: set(qs.values_list("code", flat=True))  # noqa: E731
    assert codes(access.municipalities_writable(world.alice)) == {"112348"}
    assert codes(access.municipalities_visible(world.alice)) == {"112348", "112216", "110001"}
    assert set(access.regions_coordinated(world.carol)) == set(access.regions_visible(world.carol)) == {world.region}
    assert not access.regions_coordinated(world.alice).exists() and access.regions_visible(world.alice).exists()
    assert codes(access.municipalities_writable(world.admin)) >= {"112348", "172049"}
