"""Re-derive stored inspections' `observations.derived` with the current catalogue rules.

The inspector's grade is the legal record and is never touched: only what the rule computes beside it
(computed_grade, ranks, MCI …) is rewritten. Set-based: one read of the inspections concerned, then one
UPDATE and one history INSERT per batch, all in one transaction. A row changed by someone else while this ran
(its version moved) is left alone and counted."""

import json
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils.translation import gettext as _

from assets.history import Action, Actor, record_changes
from assets.models import Via
from inspections.catalogue import scheme_dict
from inspections.grading import GradeError, derive_grade
from inspections.models import GradingScheme, Inspection

BATCH = 2000
MAX_ERRORS = 20


@dataclass
class SchemeCounts:
    examined: int = 0
    changed: int = 0          # observations.derived rewritten
    grade_changed: int = 0    # … and the derived grade itself is another
    differ: int = 0           # derived grade ≠ the inspector's (stored) grade, after the run
    differ_not_given: int = 0  # … of which no grade was given: the stored one came from an older rule
    skipped: int = 0          # changed concurrently, left alone
    failed: int = 0           # the observations no longer pass the rule; left alone


@dataclass
class Report:
    dry_run: bool
    by_scheme: dict[str, SchemeCounts] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def total(self) -> SchemeCounts:
        total = Counter()
        for c in self.by_scheme.values():
            total.update(vars(c))
        return SchemeCounts(**total)


def rederive(*, schemes: list[str] | None = None, dry_run: bool = False, batch: int = BATCH) -> Report:
    report = Report(dry_run=dry_run)
    qs = Inspection.objects.exclude(observations={})
    if schemes:
        qs = qs.filter(scheme__code__in=schemes)
    rows = qs.order_by("id").values_list(
        "id", "version", "scheme_id", "scheme__code", "grade__code", "grade_input", "observations",
        "asset__road_segment__pavement_type", "asset__kind")
    with transaction.atomic():
        pending: list[tuple[int, int, dict, dict, str, bool]] = []
        for pk, version, scheme_id, code, grade, grade_input, obs, pavement_type, kind in rows.iterator(
                chunk_size=batch):
            counts = report.by_scheme.setdefault(code, SchemeCounts())
            counts.examined += 1
            if not isinstance(obs, dict):  # written around the services, e.g. by hand in the database
                counts.failed += 1
                if len(report.errors) < MAX_ERRORS:
                    report.errors.append(f"inspection {pk} ({code}) observations: "
                                         + _("not an object of observation values"))
                continue
            old = obs.get("derived") or {}
            raw = {k: v for k, v in obs.items() if k != "derived"}
            context = {"pavement_type": pavement_type} if pavement_type else {"kind": kind}
            try:
                _code, new = derive_grade(scheme_dict(scheme_id), grade, raw, context)
            except GradeError as exc:
                counts.failed += 1
                if len(report.errors) < MAX_ERRORS:
                    report.errors.append(f"inspection {pk} ({code}) {exc.field}: {exc.message}")
                continue
            computed = new.get("computed_grade")
            if computed and computed != grade:
                counts.differ += 1
                counts.differ_not_given += not grade_input
            if new == old:
                continue
            regraded = old.get("computed_grade") != computed
            counts.changed += 1
            counts.grade_changed += regraded
            after = {**raw, "derived": new} if new else raw
            pending.append((pk, version, obs, after, code, regraded))
            if len(pending) >= batch:
                _flush(pending, report, dry_run)
        _flush(pending, report, dry_run)
    return report


def _flush(pending: list, report: Report, dry_run: bool) -> None:
    if not pending or dry_run:
        pending.clear()
        return
    ids = [p[0] for p in pending]
    params = {"ids": ids, "versions": [p[1] for p in pending], "before": [json.dumps(p[2]) for p in pending],
              "after": [json.dumps(p[3]) for p in pending]}
    with connection.cursor() as cur:
        # Compare-and-set on the version: an edit that landed since the read keeps its own derived values.
        cur.execute("""
            UPDATE inspections_inspection i
               SET observations = v.after::jsonb, version = i.version + 1, updated_at = now()
              FROM unnest(%(ids)s::bigint[], %(versions)s::int[], %(after)s::text[]) AS v(id, version, after)
             WHERE i.id = v.id AND i.version = v.version
         RETURNING i.id""", params)
        done = {r[0] for r in cur.fetchall()}
        record_changes(
            cur, actor=Actor.system(Via.SYSTEM), model=Inspection, action=Action.UPDATE,
            rows_sql="""
                SELECT i.id, a.global_id || ' ' || i.inspected_on::text || ' ' || g.label,
                       jsonb_build_object('observations', v.before::jsonb),
                       jsonb_build_object('observations', i.observations)
                FROM unnest(%(ids)s::bigint[], %(before)s::text[]) AS v(id, before)
                JOIN inspections_inspection i ON i.id = v.id
                JOIN assets_asset a ON a.id = i.asset_id
                JOIN inspections_grade g ON g.id = i.grade_id
                WHERE i.id = ANY(%(done)s::bigint[])""",
            params={**params, "done": sorted(done)},
            message=_("Derived values recomputed with the current catalogue rules (rederive_observations)"))
    for pk, _version, _before, _after, code, regraded in pending:
        if pk not in done:
            counts = report.by_scheme[code]
            counts.skipped += 1
            counts.changed -= 1
            counts.grade_changed -= regraded
    pending.clear()


def scheme_codes() -> list[str]:
    return sorted(set(GradingScheme.objects.values_list("code", flat=True)))
