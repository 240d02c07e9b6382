"""Sewer → 合併処理浄化槽 on a generated 奥能登 region (domain.md §3.6, §7 "Sewer vs 浄化槽 per branch"): counted by
the 取付管 along each branch, the town centres stay on the sewer and only sparse edge branches convert; counted by
the towns' average density (the old way), every branch of 輪島, 珠洲 and 能登町 converted."""

import pytest
from django.core.management import call_command
from django.db import connection

from assets.models import Region, SewerPipe
from clusters.services import run_create, run_execute
from tests.conftest import module_data

# Fast sewer wear (the region has too few inspection pairs to estimate its own) brings every old branch up for
# renewal, and small lots keep the centre's branches apart from the edge's.
OVERRIDES = {"default_hazards": {"sewer_kinkyu": [0.2, 0.2, 0.2]}, "max_lot_members": 20, "lot_cell_m": 1000}
CENTRE_M = 400  # a lot coming this close to the town hall serves the town centre


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """One generated region for both tests (the second changes its pipes inside its own savepoint)."""
    with module_data(django_db_blocker):
        call_command("load_reference_data", verbosity=0)
        call_command("generate_region", region="noto", assets=6000, seed=1, verbosity=0)
        yield


@pytest.fixture
def noto(generated, db):
    return Region.objects.get(slug="noto")


def verdicts(run) -> list[tuple[str, str, float, str]]:
    """(recommendation, households basis, households per km, distance of the lot from its town hall in m)."""
    with connection.cursor() as cur:
        cur.execute("""
            SELECT c.consolidation -> 'sewer_vs_septic' ->> 'recommendation',
                   c.consolidation -> 'sewer_vs_septic' ->> 'households_basis',
                   (c.consolidation -> 'sewer_vs_septic' ->> 'households_per_km')::float,
                   ST_Distance(c.geom::geography, m.hall_location::geography)
            FROM clusters_cluster c
            CROSS JOIN LATERAL (SELECT a.owner_id FROM clusters_assetscore s JOIN assets_asset a ON a.id = s.asset_id
                                JOIN assets_sewerpipe sp ON sp.asset_id = a.id
                                WHERE s.cluster_id = c.id LIMIT 1) o
            JOIN assets_municipality m ON m.code = o.owner_id
            WHERE c.run_id = %s AND c.consolidation ? 'sewer_vs_septic'""", [run.pk])
        return cur.fetchall()


def test_town_centres_stay_on_the_sewer_and_sparse_edge_branches_may_convert(noto):
    run = run_execute(run_create(principal=None, region=noto, overrides=OVERRIDES).pk)
    rows = verdicts(run)
    centre = [r for r in rows if r[3] < CENTRE_M]
    converted = [r for r in rows if r[0] == "convert_to_septic"]
    assert len(centre) >= 4 and {r[0] for r in centre} == {"renew"}
    assert converted and len(converted) < len(rows) / 2
    assert min(r[3] for r in converted) > 1.5 * CENTRE_M
    assert max(r[2] for r in converted) < min(r[2] for r in centre)
    assert {r[1] for r in rows} == {"house_connections"}
    assert run.summary["households_basis"] == {"house_connections": len(rows)}
    assert run.summary["convert_to_septic"] == len(converted)


def test_without_house_connections_the_towns_average_converts_every_branch(noto):
    # What the engine did before 取付管 were counted: the whole town's density over a 60 m strip.
    SewerPipe.objects.update(house_connections=None)
    run = run_execute(run_create(principal=None, region=noto, overrides=OVERRIDES).pk)
    rows = verdicts(run)
    assert rows and {(r[0], r[1]) for r in rows} == {("convert_to_septic", "density")}
