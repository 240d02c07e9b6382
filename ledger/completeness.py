"""How complete the registry's data are (issue 16, "take incomplete records, and show the gaps"): per municipality
and kind, the share of assets whose ledger gives a built year, a size, a material, traffic, and an inspection.

A new asset needs only its ledger id, its place and its kind; everything else may be unknown (stored empty). The
engine then estimates from documented defaults (clusters.engine.defaults), so a plan is only as good as these
shares: each run stores them (EngineRun.summary["completeness"]) and the run page, the PDF and the asset list show
them. One set-based query, grouped in SQL; never a query per asset."""

from django.db import connection
from django.utils.translation import gettext_lazy as _

from assets.kinds import DETAIL_JOINS

# What each aspect means per kind (SQL over a = asset, rd/br/sp/mh/st/rs = detail rows, as assets.kinds.DETAIL_JOINS
# joins them). A kind without the aspect (a manhole has no material in its ledger, a pipe no traffic) has None: not
# applicable, shown as "—".
ASPECTS = ("built", "size", "material", "traffic", "inspected")
ASPECT_LABELS = {"built": _("built year"), "size": _("size"), "material": _("material / type"),
                 "traffic": _("traffic"), "inspected": _("inspection")}
_STRUCTURE = {"size": "rs.length_m IS NOT NULL AND rs.width_m IS NOT NULL",
              "material": "coalesce(rs.structure_form, '') <> ''", "traffic": "rs.traffic_volume IS NOT NULL"}
RULES: dict[str, dict[str, str | None]] = {
    "road_segment": {"size": "rd.length_m IS NOT NULL AND rd.width_m IS NOT NULL",
                     "material": "rd.road_class IS NOT NULL", "traffic": "rd.traffic_volume IS NOT NULL"},
    "bridge": {"size": "br.length_m IS NOT NULL AND br.width_m IS NOT NULL", "material": "br.structure_type IS NOT NULL",
               "traffic": None},
    "sewer_pipe": {"size": "sp.diameter_mm IS NOT NULL AND sp.length_m IS NOT NULL",
                   "material": "sp.material IS NOT NULL", "traffic": None},
    "manhole": {"size": "mh.depth_m IS NOT NULL", "material": None, "traffic": None},
    "septic_tank": {"size": "st.capacity_persons IS NOT NULL", "material": "st.treatment IS NOT NULL",
                    "traffic": None},
    **{k: _STRUCTURE for k in ("tunnel", "shed_culvert", "ped_overpass", "gantry_sign")},
}

# The attributes whose absence an import names in a warning (stored empty, estimated by the engine): what the
# engine or a plan reads. Road class stands for the road's "material" aspect: it decides its inspection regime.
WARN_FIELDS = {
    "road_segment": ("road_class", "length_m", "width_m"),
    "bridge": ("length_m", "width_m", "structure_type", "crosses"),
    "sewer_pipe": ("drainage_system", "material", "diameter_mm", "length_m"),
    "manhole": (),
    "septic_tank": ("treatment", "capacity_persons"),
    **{k: ("length_m",) for k in ("tunnel", "shed_culvert", "ped_overpass", "gantry_sign")},
}


def _filter(aspect: str) -> str:
    cases = " ".join(f"WHEN '{kind}' THEN ({rules[aspect]})" for kind, rules in RULES.items() if rules.get(aspect))
    return f"count(*) FILTER (WHERE CASE a.kind {cases} ELSE false END)"


def _applies(aspect: str) -> list[str]:
    return [kind for kind, rules in RULES.items() if rules.get(aspect)]


QUERY = f"""
SELECT a.owner_id, m.name, a.kind, count(*) AS n,
       count(*) FILTER (WHERE a.built_fiscal_year IS NOT NULL) AS built,
       {_filter("size")} AS size, {_filter("material")} AS material, {_filter("traffic")} AS traffic,
       count(*) FILTER (WHERE c.inspected_on IS NOT NULL) AS inspected
FROM assets_asset a
JOIN assets_municipality m ON m.code = a.owner_id
{DETAIL_JOINS}
LEFT JOIN inspections_assetcondition c ON c.asset_id = a.id
WHERE a.status <> 'removed' AND a.owner_id = ANY(%(codes)s) AND (%(kinds)s::text[] IS NULL OR a.kind = ANY(%(kinds)s))
GROUP BY a.owner_id, m.name, a.kind
ORDER BY a.owner_id, a.kind
"""


def completeness(codes, kinds=None) -> list[dict]:
    """One row per (municipality, kind) with assets: {"owner", "owner_name", "kind", "assets", and per aspect the
    share 0–1 of assets that have it (None where the aspect does not apply to the kind)}."""
    with connection.cursor() as cur:
        cur.execute(QUERY, {"codes": list(codes), "kinds": list(kinds) if kinds else None})
        rows = cur.fetchall()
    out = []
    for owner, name, kind, n, *counts in rows:
        row = {"owner": owner, "owner_name": name, "kind": kind, "assets": n}
        for aspect, count in zip(ASPECTS, counts, strict=True):
            applies = aspect in ("built", "inspected") or kind in _applies(aspect)
            row[aspect] = round(count / n, 4) if applies and n else None
        out.append(row)
    return out


def totals(rows: list[dict]) -> dict:
    """The shares over all rows, weighted by their assets (None where no row's kind has the aspect)."""
    out: dict = {"assets": sum(r["assets"] for r in rows)}
    for aspect in ASPECTS:
        used = [r for r in rows if r.get(aspect) is not None]
        n = sum(r["assets"] for r in used)
        out[aspect] = round(sum(r[aspect] * r["assets"] for r in used) / n, 4) if n else None
    return out


__all__ = ["ASPECTS", "ASPECT_LABELS", "WARN_FIELDS", "completeness", "totals"]
