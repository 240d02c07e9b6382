"""Reading one asset by token is lean (issue 17: p95 ≤ 50 ms at 20 clients): the token and its scope in one
query, the asset written as JSON by PostgreSQL in another, nothing else; the body is AssetOut's, as before."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assets import access
from assets.api import AssetOut
from assets.models import ApiToken, Asset
from tests.conftest import make_asset


@pytest.fixture
def pipe(world):
    pipe = make_asset(world.yashio, "sewer_pipe", external_id='P-"1"', lon=139.831)
    Asset.objects.filter(pk=pipe.pk).update(operator=world.soka, name='管渠 "本線"\\1')
    return Asset.objects.get(pk=pipe.pk)


def _client(muni) -> Client:
    _t, key = ApiToken.issue(name="台帳", municipality=muni, source="daicho", can_write=False)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def test_one_asset_by_token_costs_two_queries_and_reads_as_asset_out(world, pipe):
    c = _client(world.yashio)
    url = f"/api/v1/assets/{pipe.global_id}"
    assert c.get(url).status_code == 200  # the first use records last_used_at (once a minute)
    with CaptureQueriesContext(connection) as ctx:
        r = c.get(url)
    assert r.status_code == 200, r.content
    # The token with its regions (its scope), and the asset as JSON: no scope, session or per-field queries.
    assert len(ctx.captured_queries) == 2, "\n".join(q["sql"] for q in ctx.captured_queries)
    assert r["ETag"] == f'"{pipe.global_id}-v{pipe.version}"'
    body = r.json()
    expected = AssetOut.from_orm(pipe).model_dump()
    assert list(body) == list(expected)  # same fields, same order
    # The stored coordinates exactly (GDAL, which AssetOut's geometry goes through, rounds to 15 digits).
    assert body.pop("geometry") == {"type": "LineString", "coordinates": [list(p) for p in pipe.geom.coords]}
    expected.pop("geometry")
    assert body == expected and body["operator"] == world.soka.code and body["name"] == '管渠 "本線"\\1'
    # The neighbour's token (草加市 operates it: visible) and an outsider's (404, as if absent).
    assert _client(world.soka).get(url).json()["global_id"] == pipe.global_id
    assert _client(world.wajima).get(url).status_code == 404
    assert c.get("/api/v1/assets/112348-SP-999999").status_code == 404


def test_the_scope_read_with_the_token_is_the_scope_computed_apart(world):
    """ApiToken.authenticate reads the token's regions in its own query; the scope is the one assets.access
    computes for the same token loaded any other way."""
    for muni in (world.yashio, world.saitama, world.wajima):  # a member, the region's lead, an outsider
        token, key = ApiToken.issue(name="t", municipality=muni, source="daicho")
        signed_in = ApiToken.authenticate(key)
        assert access.scope_for(signed_in) == access.scope_for(ApiToken.objects.get(pk=token.pk))
    assert access.scope_for(ApiToken.authenticate(key)).regions == frozenset()
