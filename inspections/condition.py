"""Asset condition and due dates, rebuilt set-based from the latest graded inspection and the legal cycle."""

from django.db import connection, transaction

from assets.signals import Change, IdTable

SQL = """
WITH latest AS (
    SELECT DISTINCT ON (i.asset_id) i.asset_id, i.id, i.grade_id, i.inspected_on, i.scheme_id
    FROM inspections_inspection i
    JOIN inspections_gradingscheme s ON s.id = i.scheme_id AND s.record_type = 'inspection'
    -- A withdrawn inspection (entered in error, kept for the history) says nothing about the asset.
    WHERE i.withdrawn_at IS NULL AND {inspection_filter}
    ORDER BY i.asset_id, i.inspected_on DESC, i.id DESC
),
-- The latest completed measure that resolves a deadline (補修, 更新, 管更生, 布設替え …): when it comes on or after
-- the latest inspection, the asset was treated and its measures are no longer due. Interim measures (通行規制,
-- 応急措置) keep the deadline.
treated AS (
    SELECT DISTINCT ON (m.asset_id) m.asset_id, m.id, m.completed_on
    FROM inspections_measure m
    JOIN inspections_measurekind k ON k.id = m.kind_id AND k.effect = 'resolve'
    WHERE m.completed_on IS NOT NULL AND {measure_filter}
    ORDER BY m.asset_id, m.completed_on DESC, m.id DESC
),
default_scheme AS (
    SELECT DISTINCT ON (k.kind) k.kind, s.id
    FROM inspections_gradingscheme s, unnest(s.kinds) AS k(kind)
    WHERE s.is_current AND s.record_type = 'inspection'
    ORDER BY k.kind, s.id
),
target AS (
    SELECT a.id AS asset_id, a.kind, a.built_fiscal_year AS built, l.id AS inspection_id, l.grade_id,
           l.inspected_on, g.score, g.action_months, g.guidance_months, t.id AS treated_by_id, s.cycle_months,
           s.cycle_only_if,
           s.params -> 'legal' -> 'first_due' AS first_due,
           coalesce(sp.is_corrosion_prone, false) AS corrosion_prone,
           coalesce(rd.road_class IN ('national', 'prefectural', 'municipal_1') OR rd.is_emergency_route, false)
               AS major_road
    FROM {assets} a
    LEFT JOIN latest l ON l.asset_id = a.id
    LEFT JOIN inspections_grade g ON g.id = l.grade_id
    LEFT JOIN default_scheme d ON d.kind = a.kind
    LEFT JOIN inspections_gradingscheme s ON s.id = coalesce(l.scheme_id, d.id)
    LEFT JOIN assets_sewerpipe sp ON sp.asset_id = a.id{sp_range}
    LEFT JOIN assets_roadsegment rd ON rd.asset_id = a.id{rd_range}
    LEFT JOIN treated t ON t.asset_id = a.id AND t.completed_on >= l.inspected_on
    WHERE a.status <> 'removed' AND {asset_filter}
)
INSERT INTO inspections_assetcondition
    (asset_id, inspection_id, grade_id, inspected_on, score, next_due_on, action_due_on, guidance_due_on,
     treated_by_id, updated_at)
SELECT asset_id, inspection_id, grade_id, inspected_on, score,
    CASE
        WHEN cycle_months IS NULL THEN NULL
        WHEN cycle_only_if = 'is_corrosion_prone' AND NOT corrosion_prone THEN NULL
        WHEN cycle_only_if = 'is_major_road' AND NOT major_road THEN NULL
        WHEN inspected_on IS NOT NULL THEN (inspected_on + make_interval(months => cycle_months))::date
        -- Never inspected: due the later of (a) opening (1 April of the built fiscal year) plus the scheme's
        -- first-inspection months (浄化槽法 7条: 8; else one cycle) and (b) one cycle after the legal cycle
        -- began (catalogue params.legal.first_due.from: bridges 2014-07-01). (b) keeps an old asset from being
        -- "due" decades before the law asked for it; a prefecture's variant is a new scheme version.
        ELSE greatest(
            make_date(coalesce(built, 1), 4, 1) + make_interval(
                months => coalesce((first_due ->> 'after_opening_months')::int, cycle_months)),
            coalesce((first_due ->> 'from')::date, date '2014-07-01') + make_interval(months => cycle_months)
        )::date
    END,
    CASE WHEN action_months IS NOT NULL AND treated_by_id IS NULL
         THEN (inspected_on + make_interval(months => action_months))::date END,
    -- Guidance (浄化槽 不適正: 浄化槽法12条 指導・助言) is a date to follow up by, not a legal deadline.
    CASE WHEN guidance_months IS NOT NULL AND treated_by_id IS NULL
         THEN (inspected_on + make_interval(months => guidance_months))::date END,
    treated_by_id,
    now()
FROM target
{on_conflict}
"""

UPSERT = """ON CONFLICT (asset_id) DO UPDATE SET
    inspection_id = EXCLUDED.inspection_id, grade_id = EXCLUDED.grade_id, inspected_on = EXCLUDED.inspected_on,
    score = EXCLUDED.score, next_due_on = EXCLUDED.next_due_on, action_due_on = EXCLUDED.action_due_on,
    guidance_due_on = EXCLUDED.guidance_due_on,
    treated_by_id = EXCLUDED.treated_by_id, updated_at = EXCLUDED.updated_at"""

# Septic 保守点検 and 清掃 (浄化槽法 第10条; 施行規則 第6条 the maintenance table, 第7条 cleaning), from the current
# septic_maintenance scheme's params: the tank's free-text 処理方式 is matched to a method key by the first alias
# it contains (NFKC, spaces removed), then the first table row for its 処理 (合併/単独), method and 人槽 gives the
# interval; no match → params.default (conservative, see the catalogue). Counted from the latest record of each
# kind (any version of the scheme), or from opening (1 April of the built fiscal year) when there is none.
SEPTIC_SQL = """
WITH sch AS (
    SELECT params FROM inspections_gradingscheme
    WHERE code = 'septic_maintenance' AND is_current ORDER BY id DESC LIMIT 1
), alias AS (
    SELECT m.ord, m.value ->> 'key' AS key, a.alias
    FROM sch, jsonb_array_elements(sch.params -> 'methods') WITH ORDINALITY AS m(value, ord),
         jsonb_array_elements_text(m.value -> 'aliases') AS a(alias)
), rule AS (
    SELECT r.ord, r.value FROM sch, jsonb_array_elements(sch.params -> 'maintenance') WITH ORDINALITY AS r(value, ord)
), clean AS (
    SELECT r.ord, r.value FROM sch, jsonb_array_elements(sch.params -> 'cleaning') WITH ORDINALITY AS r(value, ord)
), records AS (
    SELECT i.asset_id, max(i.inspected_on) FILTER (WHERE g.code = 'maintenance') AS maintained,
           max(i.inspected_on) FILTER (WHERE g.code = 'cleaning') AS cleaned
    FROM inspections_inspection i
    JOIN inspections_gradingscheme s ON s.id = i.scheme_id AND s.code = 'septic_maintenance'
    JOIN inspections_grade g ON g.id = i.grade_id
    WHERE {inspection_filter}
    GROUP BY i.asset_id
), tank AS (
    SELECT a.id AS asset_id, st.treatment, st.capacity_persons AS persons,
           make_date(coalesce(a.built_fiscal_year, 1), 4, 1) AS opened, r.maintained, r.cleaned,
           (SELECT al.key FROM alias al
            WHERE position(al.alias IN regexp_replace(normalize(st.treatment_method, NFKC), '\\s', '', 'g')) > 0
            ORDER BY al.ord LIMIT 1) AS method
    FROM {assets} a
    JOIN assets_septictank st ON st.asset_id = a.id{st_range}
    LEFT JOIN records r ON r.asset_id = a.id
    WHERE a.status <> 'removed' AND {asset_filter}
), due AS (
    SELECT t.asset_id,
           coalesce(t.maintained, t.opened) + coalesce(
               (SELECT make_interval(months => coalesce((r.value ->> 'months')::int, 0),
                                     weeks => coalesce((r.value ->> 'weeks')::int, 0))
                FROM rule r
                WHERE r.value ->> 'method' = t.method
                  AND coalesce(r.value ->> 'treatment', t.treatment) = t.treatment
                  AND t.persons >= coalesce((r.value ->> 'min_persons')::int, 0)
                  AND t.persons <= coalesce((r.value ->> 'max_persons')::int, 32767)
                ORDER BY r.ord LIMIT 1),
               (SELECT make_interval(months => coalesce((sch.params -> 'default' ->> 'months')::int, 0),
                                     weeks => coalesce((sch.params -> 'default' ->> 'weeks')::int, 0)) FROM sch))
               AS maintenance_due_on,
           coalesce(t.cleaned, t.opened) + coalesce(
               (SELECT make_interval(months => coalesce((c.value ->> 'months')::int, 0),
                                     weeks => coalesce((c.value ->> 'weeks')::int, 0))
                FROM clean c WHERE c.value ->> 'method' = t.method ORDER BY c.ord LIMIT 1),
               (SELECT make_interval(months => coalesce((sch.params -> 'cleaning_default' ->> 'months')::int, 12))
                FROM sch))
               AS cleaning_due_on
    FROM tank t
)
UPDATE inspections_assetcondition c
SET maintenance_due_on = d.maintenance_due_on::date, cleaning_due_on = d.cleaning_due_on::date
FROM due d WHERE d.asset_id = c.asset_id AND EXISTS (SELECT 1 FROM sch)
"""


def septic_method(treatment_method: str, methods: list[dict]) -> str | None:
    """The 処理方式 key a tank's free text names, as SEPTIC_SQL matches it (for forms and tests): the first method
    with an alias contained in the NFKC-normalised text without spaces; None when none matches."""
    import re
    import unicodedata

    text = re.sub(r"\s", "", unicodedata.normalize("NFKC", treatment_method or ""))
    for m in methods:
        if any(a in text for a in m.get("aliases", [])):
            return m["key"]
    return None


# Above this many ids the ids go into a temporary table the statements join (with its statistics), rather than
# into an array literal: a 100,000-element constant costs the planner half a second per statement and hides the
# batch's size from it, and every statement would scan the whole registry to filter by it.
ID_TABLE_FROM = 1000


def refresh_conditions(asset_ids: list[int] | None = None, *, min_asset_id: int | None = None,
                       new: bool = False) -> int:
    """Rebuild the condition rows of the given assets (or of all assets from min_asset_id, or of all).

    `new`: the assets were created in this transaction, so nothing is recorded for them yet (no inspection, no
    measure): their rows are the first-due rule alone, computed by the same statement with the inspection and
    measure look-ups left out (set-based: one INSERT … SELECT for a whole ledger import)."""
    params: dict = {}
    joins = {"assets": "assets_asset", "sp_range": "", "rd_range": "", "st_range": ""}
    dense = False
    with transaction.atomic(), connection.cursor() as cur:
        table = None
        if isinstance(asset_ids, IdTable):  # already in a table of this transaction, indexed and analyzed
            table, column = asset_ids.table, asset_ids.column
            count, lo, hi = asset_ids.count, asset_ids.lo, asset_ids.hi
        elif asset_ids is not None and len(asset_ids) >= ID_TABLE_FROM:
            cur.execute("DROP TABLE IF EXISTS _condition_ids")
            # One array literal, sent as text: psycopg would otherwise adapt the list element by element.
            cur.execute("CREATE TEMP TABLE _condition_ids ON COMMIT DROP AS "
                        "SELECT DISTINCT unnest(%s::bigint[]) AS id", ["{" + ",".join(map(str, map(int, asset_ids)))
                                                                      + "}"])
            cur.execute("CREATE UNIQUE INDEX ON _condition_ids (id)")
            cur.execute("ANALYZE _condition_ids")
            table, column = "_condition_ids", "id"
            count, lo, hi = len(set(asset_ids)), min(asset_ids), max(asset_ids)
        if table is not None:
            ids = f"(SELECT {column} FROM {table})"
            inspection_filter, measure_filter, asset_filter = f"i.asset_id IN {ids}", f"m.asset_id IN {ids}", "true"
            # Joined first, so the plan starts from the batch rather than filtering the whole registry by it.
            joins["assets"] = f"(SELECT x.* FROM {table} ci JOIN assets_asset x ON x.id = ci.{column}{{a_range}})"
            # A batch of new assets whose ids fill most of their range (one narrow range at the end of the table)
            # states that range on every table joined by asset id, so a hash join reads the batch's rows rather
            # than the whole registry's assets, pipes and roads (PostgreSQL does not carry a range through a join).
            # Nested loops are then off for these statements: the statistics are older than the new rows, the
            # planner takes the range for a few rows and would scan it again on every turn of a loop (100,000 ×
            # 100,000 rows: one import took 109 s instead of 4; tests/inspections/test_condition_plans.py). Any
            # other batch keeps plain key joins, which any plan looks up row by row, and its inspections and
            # measures by their index.
            dense = new and count >= ID_TABLE_FROM and hi - lo < 2 * count
            within = " AND {t}.{c} BETWEEN %(lo)s AND %(hi)s"
            joins["assets"] = joins["assets"].format(a_range=within.format(t="x", c="id") if dense else "")
            if dense:
                params |= {"lo": lo, "hi": hi}
                joins |= {f"{t}_range": within.format(t=t, c="asset_id") for t in ("sp", "rd", "st")}
                cur.execute("SELECT current_setting('enable_nestloop'), set_config('enable_nestloop', 'off', true)")
                nestloop = cur.fetchone()[0]
        elif asset_ids is not None:
            inspection_filter, asset_filter = "i.asset_id = ANY(%(ids)s::bigint[])", "a.id = ANY(%(ids)s::bigint[])"
            measure_filter = "m.asset_id = ANY(%(ids)s::bigint[])"
            params["ids"] = "{" + ",".join(map(str, map(int, asset_ids))) + "}"
        elif min_asset_id is not None:
            inspection_filter, asset_filter = "i.asset_id >= %(min)s", "a.id >= %(min)s"
            measure_filter = "m.asset_id >= %(min)s"
            params["min"] = min_asset_id
        else:
            inspection_filter = asset_filter = measure_filter = "true"
        if new:
            inspection_filter = measure_filter = "false"
        else:
            # A retired asset has no condition: nothing falls due for it.
            cur.execute(f"DELETE FROM inspections_assetcondition c USING {joins['assets']} a "
                        f"WHERE a.id = c.asset_id AND a.status = 'removed' AND {asset_filter}", params)
        # A new asset has no condition row yet: a plain INSERT (an upsert pays a speculative insertion per row).
        cur.execute(SQL.format(inspection_filter=inspection_filter, asset_filter=asset_filter,
                               measure_filter=measure_filter, on_conflict="" if new else UPSERT, **joins), params)
        n = cur.rowcount
        cur.execute(SEPTIC_SQL.format(inspection_filter=inspection_filter, asset_filter=asset_filter, **joins),
                    params)
        if dense:
            cur.execute("SELECT set_config('enable_nestloop', %s, true)", [nestloop])
        return n


def on_assets_changed(sender, *, change, asset_ids, min_asset_id=None, **kwargs) -> None:
    """Receiver of assets.signals.assets_changed, inside the registry's writing transaction: a new asset falls
    due by its scheme's first-due rule, a changed one (place, built year, kind details) gets its due dates
    again, a retired one leaves the condition table and with it the work list."""
    refresh_conditions(asset_ids, min_asset_id=min_asset_id, new=change == Change.CREATED and asset_ids is not None)
