"""Writes a generated region with COPY, in one transaction: all of it lands or none of it does."""

import io

import numpy as np
import pandas as pd
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from assets.kinds import KINDS
from assets.models import Asset, Region
from assets.services import allocate_serials
from core.bulk import Clock, bulk_mode
from inspections.condition import refresh_conditions
from inspections.models import Grade

DEMO_SOURCE = "demo"
CHUNK = 200_000

DETAIL_COLUMNS = {
    "road_segment": ("assets_roadsegment", ["road_class", "route_name", "is_emergency_route", "length_m",
                                            "width_m", "pavement_type", "traffic_volume"]),
    "bridge": ("assets_bridge", ["length_m", "width_m", "deck_area_m2", "structure_type", "span_count",
                                 "crosses", "crosses_name", "detour_length_m", "route_name"]),
    "sewer_pipe": ("assets_sewerpipe", ["drainage_system", "material", "diameter_mm", "length_m",
                                        "cover_depth_m", "upstream_manhole_id", "downstream_manhole_id",
                                        "is_trunk", "is_regional", "is_corrosion_prone", "road_segment_id"]),
    "manhole": ("assets_manhole", ["manhole_type", "depth_m", "cover_type", "cover_installed_fy",
                                   "drainage_system"]),
    "septic_tank": ("assets_septictank", ["treatment", "capacity_persons", "households_served", "ownership",
                                          "in_sewer_planning_area", "treatment_method"]),
}
TEXT_COLUMNS = {"grade_input", "legal_basis", "route_name", "crosses_name", "manhole_type", "cover_type",
                "treatment_method", "name",
                "built_year_text", "important_facility_note", "notes", "inspector", "method"}


def _copy(cur, table: str, df: pd.DataFrame) -> None:
    cols = list(df.columns)
    not_null = [c for c in cols if c in TEXT_COLUMNS]
    opts = "FORMAT csv"
    if not_null:
        opts += ", FORCE_NOT_NULL (" + ", ".join(not_null) + ")"
    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN WITH ({opts})") as cp:
        for start in range(0, len(df), CHUNK):
            buf = io.StringIO()
            df.iloc[start:start + CHUNK].to_csv(buf, header=False, index=False)
            cp.write(buf.getvalue())


def delete_generated(member_codes: list[str]) -> int:
    """Set-based delete of earlier generated data for these owners (cascades by hand, in FK order)."""
    asset_ct = ContentType.objects.get_for_model(Asset).id
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE _gone ON COMMIT DROP AS SELECT id FROM assets_asset "
                    "WHERE source = %s AND owner_id = ANY(%s)", [DEMO_SOURCE, member_codes])
        cur.execute("SELECT count(*) FROM _gone")
        n = cur.fetchone()[0]
        if n == 0:
            cur.execute("DROP TABLE _gone")
            return 0
        cur.execute("DELETE FROM clusters_assetscore WHERE asset_id IN (SELECT id FROM _gone)")
        cur.execute("DELETE FROM inspections_assetcondition WHERE asset_id IN (SELECT id FROM _gone)")
        cur.execute("DELETE FROM inspections_inspectionphoto WHERE inspection_id IN "
                    "(SELECT id FROM inspections_inspection WHERE asset_id IN (SELECT id FROM _gone))")
        cur.execute("DELETE FROM inspections_inspection WHERE asset_id IN (SELECT id FROM _gone)")
        for table, _cols in DETAIL_COLUMNS.values():
            cur.execute(f"DELETE FROM {table} WHERE asset_id IN (SELECT id FROM _gone)")
        for col in ("upstream_manhole_id", "downstream_manhole_id", "road_segment_id"):
            cur.execute(f"UPDATE assets_sewerpipe SET {col} = NULL WHERE {col} IN (SELECT id FROM _gone)")
        cur.execute("DELETE FROM assets_changerecord WHERE content_type_id = %s AND object_id IN "
                    "(SELECT id::text FROM _gone)", [asset_ct])
        cur.execute("DELETE FROM assets_asset WHERE id IN (SELECT id FROM _gone)")
        cur.execute("DROP TABLE _gone")
    return n


def _reserve_ids(cur, n: int) -> int:
    cur.execute("LOCK TABLE assets_asset IN SHARE ROW EXCLUSIVE MODE")
    cur.execute("SELECT pg_get_serial_sequence('assets_asset', 'id')")
    seq = cur.fetchone()[0]
    cur.execute("SELECT nextval(%s)", [seq])
    first = cur.fetchone()[0]
    cur.execute("SELECT setval(%s, %s)", [seq, first + n - 1])
    return first


def _global_ids(assets: pd.DataFrame) -> np.ndarray:
    out = np.empty(len(assets), dtype=object)
    for (owner, kind), idx in assets.groupby(["owner", "kind"]).indices.items():
        first = allocate_serials(owner, kind, len(idx))
        code = KINDS[kind].code
        out[idx] = [f"{owner}-{code}-{first + i:06d}" for i in range(len(idx))]
    return out


def load(region: Region, gen, *, message: str) -> dict:
    clock = Clock()
    with transaction.atomic():
        result = _load(region, gen, message=message, clock=clock)
    clock.lap("commit")
    result["timings"] = clock.laps
    return result


VERIFY = [
    ("asset owner", "SELECT count(*) FROM assets_asset a LEFT JOIN assets_municipality m ON m.code = a.owner_id "
                    "WHERE a.id >= %(first)s AND m.code IS NULL"),
    *[(f"{table} asset", f"SELECT count(*) FROM {table} d LEFT JOIN assets_asset a ON a.id = d.asset_id "
                         "WHERE d.asset_id >= %(first)s AND a.id IS NULL") for table, _c in DETAIL_COLUMNS.values()],
    *[(f"sewer pipe {col}", f"SELECT count(*) FROM assets_sewerpipe s LEFT JOIN assets_asset a ON a.id = s.{col} "
                            f"WHERE s.asset_id >= %(first)s AND s.{col} IS NOT NULL AND a.id IS NULL")
      for col in ("upstream_manhole_id", "downstream_manhole_id", "road_segment_id")],
    ("inspection asset", "SELECT count(*) FROM inspections_inspection i LEFT JOIN assets_asset a ON a.id = i.asset_id "
                         "WHERE i.asset_id >= %(first)s AND a.id IS NULL"),
]


def _verify(cur, first: int) -> None:
    for what, sql in VERIFY:
        cur.execute(sql, {"first": first})
        bad = cur.fetchone()[0]
        if bad:
            raise RuntimeError(f"generated data failed the {what} reference check ({bad} rows); nothing was saved")


def _secondary_indexes(cur, table: str) -> list[tuple[str, str]]:
    """Indexes that back no constraint: they can be dropped for a bulk load and rebuilt after it."""
    cur.execute(
        """
        SELECT i.relname, pg_get_indexdef(x.indexrelid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = %s AND NOT x.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """,
        [table],
    )
    return cur.fetchall()


def _estimated_rows(cur, table: str) -> float:
    cur.execute("SELECT greatest(reltuples, 0) FROM pg_class WHERE relname = %s", [table])
    return cur.fetchone()[0]


def _load(region: Region, gen, *, message: str, clock: Clock) -> dict:
    members = list(region.members.values_list("code", flat=True))
    # Deleting runs with every foreign key enforced, so a reference from elsewhere stops the whole run.
    removed = delete_generated(members)
    with connection.cursor() as cur:
        # Fire the deferred checks of the delete now; indexes cannot be rebuilt with checks pending.
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("SET CONSTRAINTS ALL DEFERRED")
        clock.lap("delete_previous")
        bulk = bulk_mode(cur)
    now = timezone.now().isoformat()
    a = gen.assets
    n = len(a)
    with connection.cursor() as cur:
        first = _reserve_ids(cur, n)
        # Building an index once after a large COPY is several times faster than growing it row by row.
        rebuild = []
        if bulk and n > 50_000:
            for table in ("assets_asset", "assets_changerecord", "inspections_inspection"):
                if n >= 0.5 * _estimated_rows(cur, table):
                    rebuild += _secondary_indexes(cur, table)
        for name, _definition in rebuild:
            cur.execute(f"DROP INDEX {name}")
        ids = first + a["key"].to_numpy()
        core = pd.DataFrame({
            "id": ids, "global_id": _global_ids(a), "owner_id": a["owner"], "operator_id": None,
            "kind": a["kind"], "source": a["source"], "external_id": a["external_id"], "name": a["name"],
            "geom": a["geom"], "source_srid": None, "built_fiscal_year": a["built_fy"].astype("Int64"),
            "built_year_text": a["built_text"], "status": "in_service", "retired_on": None,
            "serves_important_facility": a["important"].astype(bool),
            "important_facility_note": np.where(a["important"].astype(bool), "避難所・庁舎", ""),
            "version": 1, "created_at": now, "updated_at": now,
        })
        _copy(cur.cursor, "assets_asset", core)
        clock.lap("copy_assets")
        for kind, (table, cols) in DETAIL_COLUMNS.items():
            d = gen.details.get(kind)
            if d is None or d.empty:
                continue
            d = d.copy()
            d["asset_id"] = first + d["key"]
            for src, dst in (("up_key", "upstream_manhole_id"), ("down_key", "downstream_manhole_id"),
                             ("road_key", "road_segment_id")):
                if src in d:
                    d[dst] = pd.array(np.where(d[src] >= 0, first + d[src], None), dtype="Int64")
            if kind == "bridge":
                d["deck_area_m2"] = (d["length_m"] * d["width_m"]).round(1)
            for c in ("traffic_volume", "cover_installed_fy", "diameter_mm", "span_count", "capacity_persons",
                      "households_served"):
                if c in d:
                    d[c] = d[c].astype("Int64")
            _copy(cur.cursor, table, d[["asset_id", *cols]])
        clock.lap("copy_details")
        insp = gen.inspections
        if len(insp):
            current = Grade.objects.filter(scheme__is_current=True)
            grades = {(s, g): (sid, gid) for s, g, sid, gid in
                      current.values_list("scheme__code", "code", "scheme_id", "id")}
            ids = [grades[(s, g)] for s, g in zip(insp["scheme"], insp["grade"], strict=True)]
            _copy(cur.cursor, "inspections_inspection", pd.DataFrame({
                "asset_id": first + insp["asset_key"], "scheme_id": [i[0] for i in ids],
                "grade_id": [i[1] for i in ids], "grade_input": insp["grade"],
                "inspected_on": insp["inspected_on"].astype(str), "legal_basis": insp["legal_basis"],
                "method": insp["method"], "inspector": insp["inspector"], "notes": "",
                "observations": insp["observations"], "version": 1, "created_at": now, "updated_at": now,
            }))
        clock.lap("copy_inspections")
        # One history row per asset, built in SQL from what was just stored.
        cur.execute(
            """
            INSERT INTO assets_changerecord (time, user_id, actor_name, via, action, content_type_id, object_id,
                                             object_repr, before, after, message, request_id)
            SELECT now(), NULL, 'system', 'task', 'create', %(ct)s, a.id::text, a.global_id, NULL,
                   jsonb_build_object('global_id', a.global_id, 'kind', a.kind, 'owner', a.owner_id,
                                      'source', a.source, 'external_id', a.external_id,
                                      'built_fiscal_year', a.built_fiscal_year),
                   %(message)s, NULL
            FROM assets_asset a WHERE a.id BETWEEN %(first)s AND %(last)s
            """,
            {"ct": ContentType.objects.get_for_model(Asset).id, "message": message, "first": first,
             "last": first + n - 1},
        )
        clock.lap("copy_history")
        for _name, definition in rebuild:
            cur.execute(definition)
        clock.lap("rebuild_indexes")
        if bulk:
            _verify(cur, first)
            clock.lap("verify")
        refresh_conditions(min_asset_id=first)
        clock.lap("conditions")
        analyzed = ("assets_asset", "inspections_inspection", "inspections_assetcondition",
                    *(t for t, _ in DETAIL_COLUMNS.values()))
        for table in analyzed:
            cur.execute(f"ANALYZE {table}")
        clock.lap("analyze")
    return {"assets": n, "inspections": len(insp), "removed": removed}
