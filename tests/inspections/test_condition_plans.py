"""The first due dates of a batch of new assets read each row of the batch once, whatever plan the statement gets.
Statistics older than the batch (no ANALYZE since a bulk load: autovacuum off, or not yet run) made the planner
take a batch of 100,000 new pipes for a few hundred rows and loop over it, scanning the batch's id range of the
pipes again on every turn: one ledger import took 109 s instead of 4 in `make bench`. The rows each table gave
are counted here (EXPLAIN ANALYZE of the statement as it runs), not the time."""

import json

from django.db import connection, transaction

from assets.history import Actor
from assets.models import Asset, Via
from assets.signals import IdTable, notify
from ledger.importer import import_ledger

N = 300


def _pipes(n: int) -> bytes:
    lines = ["管渠番号,管種,管径,延長,布設年度,排除方式,始点経度,始点緯度,終点経度,終点緯度"]
    for i in range(n):
        lon, lat = 139.8380 + (i % 20) * 0.0001, 35.8210 + (i // 20) * 0.0001
        lines.append(f"P-{i},ヒューム管,250,20.5,S50,汚水,{lon:.4f},{lat:.4f},{lon + 0.00005:.5f},{lat:.4f}")
    return "\r\n".join(lines).encode("cp932")


def _rows_read(plan: dict, tables: set[str]) -> dict[str, int]:
    """Rows each named table gave over the whole statement: actual rows × loops of every node reading it."""
    out: dict[str, int] = {}
    stack = [plan]
    while stack:
        node = stack.pop()
        if node.get("Relation Name") in tables:
            out[node["Relation Name"]] = out.get(node["Relation Name"], 0) + node["Actual Rows"] * node["Actual Loops"]
        stack.extend(node.get("Plans", []))
    return out


def _first_due_plan(plans):
    """A wrapper that records the plan of the first-due INSERT (measured in a savepoint) and then runs it."""

    def explain_first(execute, sql, params, many, context):
        if sql.lstrip().startswith("WITH latest AS"):
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                plan = cur.fetchone()[0]
                plans.append((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
                transaction.set_rollback(True)
        return execute(sql, params, many, context)

    return explain_first


def test_a_dense_batch_of_new_assets_reads_its_own_range_once_without_loops(world):
    """An import of 1,200 pipes after 1,200 others, statistics taken before it: the statement reads the new
    pipes' assets and details once each: not the earlier batch, not again per row."""
    import_ledger(actor=Actor.system(Via.IMPORT), data=_pipes(1200), filename="p.csv", kind="sewer_pipe",
                  municipality="112348", source="first")
    with connection.cursor() as cur:
        cur.execute("ANALYZE assets_asset")
        cur.execute("ANALYZE assets_sewerpipe")
    plans = []
    with connection.execute_wrapper(_first_due_plan(plans)):
        report = import_ledger(actor=Actor.system(Via.IMPORT), data=_pipes(1200), filename="p.csv",
                               kind="sewer_pipe", municipality="112348", source="second")
    assert report.created == 1200 and len(plans) == 1
    read = _rows_read(plans[0], {"assets_asset", "assets_sewerpipe", "_new"})
    assert read == {"assets_asset": 1200, "assets_sewerpipe": 1200, "_new": 1200}, read
    with connection.cursor() as cur:  # the planner's setting is as it was once the statements are done
        cur.execute("SHOW enable_nestloop")
        assert cur.fetchone()[0] == "on"
    assert Asset.objects.filter(source="second", condition__isnull=False).count() == 1200


def test_a_small_batch_is_looked_up_by_key_even_in_nested_loops(world):
    """Below 1,000 ids (refresh_conditions.ID_TABLE_FROM) the tables are joined by key alone: nested loops, forced
    here, look each row up once."""
    report = import_ledger(actor=Actor.system(Via.IMPORT), data=_pipes(N), filename="p.csv", kind="sewer_pipe",
                           municipality="112348", source="plan-test")
    assert report.ok and report.created == N, report.errors[:3]
    ids = list(Asset.objects.filter(source="plan-test").values_list("pk", flat=True))
    plans = []

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM inspections_assetcondition WHERE asset_id = ANY(%s)", [ids])
        cur.execute("CREATE TEMP TABLE _batch ON COMMIT DROP AS SELECT unnest(%s::bigint[]) AS id", [ids])
        cur.execute("CREATE UNIQUE INDEX ON _batch (id)")
        cur.execute("ANALYZE _batch")
        cur.execute("SET LOCAL enable_hashjoin = off")
        cur.execute("SET LOCAL enable_mergejoin = off")
        with connection.execute_wrapper(_first_due_plan(plans)):
            notify("created", IdTable.of("_batch", "id"))
        cur.execute("SELECT count(*) FROM inspections_assetcondition WHERE asset_id = ANY(%s)", [ids])
        assert cur.fetchone()[0] == N
        transaction.set_rollback(True)
    assert len(plans) == 1
    read = _rows_read(plans[0], {"assets_asset", "assets_sewerpipe", "assets_roadsegment", "_batch"})
    assert 0 < read["assets_sewerpipe"] <= N and read["assets_asset"] <= N and read["_batch"] <= N, read
