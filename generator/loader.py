"""Writes a generated region with COPY, in one transaction: all of it lands or none of it does.

`load` lists the steps; each is timed (the benchmarks report the laps). Rows other apps keep for the region's
earlier generated assets go through those apps' own purge helpers; history through `assets.history`; the
condition rebuild through the asset-changed signal."""

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction
from django.utils import timezone

from assets.history import Action, Actor, record_changes
from assets.kinds import KINDS
from assets.models import Asset, Region
from assets.purge import purge_assets
from assets.services import allocate_serials
from assets.signals import Change, notify
from clusters.purge import purge_for_assets as purge_scores
from clusters.reference_roads import Road, replace_reference_roads
from core.bulk import Clock, bulk_mode
from inspections.models import Grade
from inspections.purge import purge_for_assets as purge_inspections

DEMO_SOURCE = "demo"
DEMO_REFERENCE_SOURCE = "demo generator"
CHUNK = 200_000
# Below this many assets, building indexes row by row beats dropping and rebuilding them.
REBUILD_INDEXES_FROM = 50_000

DETAIL_COLUMNS = {
    "road_segment": ("assets_roadsegment", ["road_class", "route_name", "is_emergency_route", "length_m",
                                            "width_m", "pavement_type", "traffic_volume"]),
    "bridge": ("assets_bridge", ["length_m", "width_m", "deck_area_m2", "structure_type", "span_count",
                                 "crosses", "crosses_name", "detour_length_m", "route_name"]),
    "sewer_pipe": ("assets_sewerpipe", ["drainage_system", "material", "diameter_mm", "length_m",
                                        "cover_depth_m", "upstream_manhole_id", "downstream_manhole_id",
                                        "is_trunk", "is_regional", "is_corrosion_prone", "road_segment_id",
                                        "house_connections"]),
    "manhole": ("assets_manhole", ["manhole_type", "depth_m", "cover_type", "cover_installed_fy",
                                   "drainage_system"]),
    "septic_tank": ("assets_septictank", ["treatment", "capacity_persons", "households_served", "ownership",
                                          "in_sewer_planning_area", "treatment_method"]),
    "ped_overpass": ("assets_roadstructure", ["length_m", "width_m", "height_m", "structure_form", "route_name",
                                              "is_emergency_route"]),
}
TEXT_COLUMNS = {"grade_input", "legal_basis", "route_name", "crosses_name", "manhole_type", "cover_type",
                "treatment_method", "name", "structure_form",
                "built_year_text", "important_facility_note", "notes", "inspector", "method"}
INTEGER_COLUMNS = ("traffic_volume", "cover_installed_fy", "diameter_mm", "span_count", "capacity_persons",
                   "households_served", "house_connections")
# Detail columns holding another generated asset, by the local key the layout gave it.
KEY_COLUMNS = (("up_key", "upstream_manhole_id"), ("down_key", "downstream_manhole_id"),
               ("road_key", "road_segment_id"))
# Tables a load may double; their constraint-free indexes are rebuilt once after the COPY.
INDEXED_TABLES = ("assets_asset", "assets_changerecord", "inspections_inspection")
ANALYZED_TABLES = ("assets_asset", "inspections_inspection", "inspections_assetcondition",
                   *dict.fromkeys(t for t, _ in DETAIL_COLUMNS.values()))


@dataclass(frozen=True)
class Slot:
    """Where a generated region lands: asset ids first … first + n - 1, every row stamped `now`."""

    first: int
    n: int
    now: str

    @property
    def last(self) -> int:
        return self.first + self.n - 1

    def ids(self, keys: pd.Series) -> pd.Series:
        return self.first + keys


def load(region: Region, gen, *, message: str) -> dict:
    clock = Clock()
    with transaction.atomic():
        result = _load(region, gen, message=message, clock=clock)
    clock.lap("commit")
    result["timings"] = clock.laps
    return result


def _load(region: Region, gen, *, message: str, clock: Clock) -> dict:
    removed = clear_region(list(region.members.values_list("code", flat=True)))
    with connection.cursor() as cur:
        check_deferred_constraints(cur)
        clock.lap("delete_previous")
        bulk = bulk_mode(cur)
        slot = reserve_ids(cur, len(gen.assets))
        dropped = drop_secondary_indexes(cur, slot.n) if bulk else []
        copy_assets(cur, gen.assets, slot)
        clock.lap("copy_assets")
        copy_details(cur, gen.details, slot)
        clock.lap("copy_details")
        copy_inspections(cur, gen.inspections, slot)
        clock.lap("copy_inspections")
        write_history(cur, slot, message)
        clock.lap("copy_history")
        rebuild_indexes(cur, dropped)
        clock.lap("rebuild_indexes")
        if bulk:
            verify(cur, slot.first)
            clock.lap("verify")
        rebuild_conditions(slot.first)
        clock.lap("conditions")
        analyze(cur)
        clock.lap("analyze")
    roads = write_reference_roads(region, gen)
    clock.lap("reference_roads")
    return {"assets": slot.n, "inspections": len(gen.inspections), "removed": removed, "reference_roads": roads}


def clear_region(member_codes: list[str]) -> int:
    """Delete the earlier generated data of these owners, each app purging its own rows for them (set-based,
    with every foreign key enforced: a reference from elsewhere stops the whole run). Returns the assets gone."""
    gone = Asset.objects.filter(source=DEMO_SOURCE, owner_id__in=member_codes)
    n = gone.count()
    if n:
        purge_scores(gone)
        purge_inspections(gone)
        purge_assets(gone)
    return n


def write_reference_roads(region: Region, gen) -> int:
    """The region's generated 国道・県道 into the engine's reference road layer, replacing the earlier ones."""
    roads = [Road(GEOSGeometry(memoryview(shapely.to_wkb(r.geom)), srid=6668), r.road_class, r.name)
             for r in gen.reference_roads.itertuples(index=False)]
    return replace_reference_roads(roads, source=f"{DEMO_REFERENCE_SOURCE} ({region.slug})",
                                   source_date=timezone.localdate())[0]


def check_deferred_constraints(cur) -> None:
    """Fire the foreign-key checks the purge deferred now: indexes cannot be rebuilt with checks pending."""
    cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cur.execute("SET CONSTRAINTS ALL DEFERRED")


def reserve_ids(cur, n: int) -> Slot:
    """One block of n asset ids, so keys map to ids by addition and every reference is known before COPY."""
    cur.execute("LOCK TABLE assets_asset IN SHARE ROW EXCLUSIVE MODE")
    cur.execute("SELECT pg_get_serial_sequence('assets_asset', 'id')")
    seq = cur.fetchone()[0]
    cur.execute("SELECT nextval(%s)", [seq])
    first = cur.fetchone()[0]
    cur.execute("SELECT setval(%s, %s)", [seq, first + n - 1])
    return Slot(first, n, timezone.now().isoformat())


def drop_secondary_indexes(cur, n: int) -> list[tuple[str, str]]:
    """Building an index once after a large COPY is several times faster than growing it row by row: drop the
    constraint-free indexes of each table the load at least half-fills again. Returns (name, definition)."""
    if n <= REBUILD_INDEXES_FROM:
        return []
    dropped = []
    for table in INDEXED_TABLES:
        if n >= 0.5 * _estimated_rows(cur, table):
            dropped += _secondary_indexes(cur, table)
    for name, _definition in dropped:
        cur.execute(f"DROP INDEX {name}")
    return dropped


def copy_assets(cur, assets: pd.DataFrame, slot: Slot) -> None:
    important = assets["important"].astype(bool)
    _copy(cur.cursor, "assets_asset", pd.DataFrame({
        "id": slot.ids(assets["key"]).to_numpy(), "global_id": _global_ids(assets), "owner_id": assets["owner"],
        "operator_id": None, "kind": assets["kind"], "source": assets["source"],
        "external_id": assets["external_id"], "name": assets["name"], "geom": assets["geom"], "source_srid": None,
        "built_fiscal_year": assets["built_fy"].astype("Int64"), "built_year_text": assets["built_text"],
        "status": "in_service", "retired_on": None, "serves_important_facility": important,
        "important_facility_note": np.where(important, "避難所・庁舎", ""),
        "version": 1, "created_at": slot.now, "updated_at": slot.now,
    }))


def copy_details(cur, details: dict[str, pd.DataFrame], slot: Slot) -> None:
    for kind, (table, cols) in DETAIL_COLUMNS.items():
        d = details.get(kind)
        if d is None or d.empty:
            continue
        d = d.copy()
        d["asset_id"] = slot.ids(d["key"])
        for src, dst in KEY_COLUMNS:
            if src in d:
                d[dst] = pd.array(np.where(d[src] >= 0, slot.first + d[src], None), dtype="Int64")
        if kind == "bridge":
            d["deck_area_m2"] = (d["length_m"] * d["width_m"]).round(1)
        for c in INTEGER_COLUMNS:
            if c in d:
                d[c] = d[c].astype("Int64")
        _copy(cur.cursor, table, d[["asset_id", *cols]])


def copy_inspections(cur, insp: pd.DataFrame, slot: Slot) -> None:
    if not len(insp):
        return
    current = Grade.objects.filter(scheme__is_current=True)
    grades = {(s, g): (sid, gid) for s, g, sid, gid in current.values_list("scheme__code", "code", "scheme_id", "id")}
    ids = [grades[(s, g)] for s, g in zip(insp["scheme"], insp["grade"], strict=True)]
    _copy(cur.cursor, "inspections_inspection", pd.DataFrame({
        "asset_id": slot.ids(insp["asset_key"]), "scheme_id": [i[0] for i in ids],
        "grade_id": [i[1] for i in ids], "grade_input": insp["grade"],
        "inspected_on": insp["inspected_on"].astype(str), "legal_basis": insp["legal_basis"],
        "method": insp["method"], "inspector": insp["inspector"], "notes": "",
        "observations": insp["observations"], "version": 1, "created_at": slot.now, "updated_at": slot.now,
    }))


def write_history(cur, slot: Slot, message: str) -> int:
    """One history row per asset, built in SQL from what was just stored."""
    return record_changes(
        cur, actor=Actor.system(), model=Asset, action=Action.CREATE, message=message,
        rows_sql="""
            SELECT a.id, a.global_id, NULL::jsonb,
                   jsonb_build_object('global_id', a.global_id, 'kind', a.kind, 'owner', a.owner_id,
                                      'source', a.source, 'external_id', a.external_id,
                                      'built_fiscal_year', a.built_fiscal_year)
            FROM assets_asset a WHERE a.id BETWEEN %(first)s AND %(last)s
        """,
        params={"first": slot.first, "last": slot.last},
    )


def rebuild_indexes(cur, dropped: list[tuple[str, str]]) -> None:
    for _name, definition in dropped:
        cur.execute(definition)


VERIFY = [
    ("asset owner", "SELECT count(*) FROM assets_asset a LEFT JOIN assets_municipality m ON m.code = a.owner_id "
                    "WHERE a.id >= %(first)s AND m.code IS NULL"),
    *[(f"{table} asset", f"SELECT count(*) FROM {table} d LEFT JOIN assets_asset a ON a.id = d.asset_id "
                         "WHERE d.asset_id >= %(first)s AND a.id IS NULL") for table, _c in DETAIL_COLUMNS.values()],
    *[(f"sewer pipe {col}", f"SELECT count(*) FROM assets_sewerpipe s LEFT JOIN assets_asset a ON a.id = s.{col} "
                            f"WHERE s.asset_id >= %(first)s AND s.{col} IS NOT NULL AND a.id IS NULL")
      for _key, col in KEY_COLUMNS],
    ("inspection asset", "SELECT count(*) FROM inspections_inspection i LEFT JOIN assets_asset a ON a.id = i.asset_id "
                         "WHERE i.asset_id >= %(first)s AND a.id IS NULL"),
]


def verify(cur, first: int) -> None:
    """The reference checks bulk mode skipped, set-based, before anything commits."""
    for what, sql in VERIFY:
        cur.execute(sql, {"first": first})
        bad = cur.fetchone()[0]
        if bad:
            raise RuntimeError(f"generated data failed the {what} reference check ({bad} rows); nothing was saved")


def rebuild_conditions(first: int) -> None:
    # Inspections' receiver rebuilds the condition table from `first` on, in this transaction.
    notify(Change.IMPORTED, None, min_asset_id=first)


def analyze(cur) -> None:
    for table in ANALYZED_TABLES:
        cur.execute(f"ANALYZE {table}")


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


def _global_ids(assets: pd.DataFrame) -> np.ndarray:
    out = np.empty(len(assets), dtype=object)
    for (owner, kind), idx in assets.groupby(["owner", "kind"]).indices.items():
        first = allocate_serials(owner, kind, len(idx))
        code = KINDS[kind].code
        out[idx] = [f"{owner}-{code}-{first + i:06d}" for i in range(len(idx))]
    return out


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
