"""The asset pages: the list (registry rows with their condition; sortable, as cards on a phone, downloadable)
and one asset with all that is recorded for it (what the ledger knows, a small map, each inspection with its
detail, measures, and the history in words)."""

import re

from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Collate, NullIf
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assets import access
from assets import selectors as asset_selectors
from assets.kinds import KINDS
from assets.models import Asset, ChangeRecord, Municipality
from assets.models.history import Action
from assets.sources import source_name
from clusters.models import AssetScore
from core.basemap import basemap_config
from inspections import selectors as inspection_selectors
from inspections.grading import label as observation_label
from inspections.measure_selectors import measure_list
from inspections.models import AssetCondition, Grade, Inspection
from inspections.views import asset_or_404
from ledger.completeness import completeness, totals
from web.listfiles import table_file

# Sort keys people may ask for (?sort=…, a leading "-" reverses); anything else is refused, never passed on.
ASSET_SORTS = {"id": ("global_id",), "name": ("name_key", "global_id"), "kind": ("kind", "global_id"),
               "municipality": ("owner__name", "global_id"), "route": ("route", "global_id"),
               "ledger": ("ledger_key", "global_id"),
               "grade": ("condition__grade__rank", "global_id"), "due": ("condition__next_due_on", "global_id")}
ASSET_COLUMNS = [("id", gettext_lazy("asset")), ("kind", gettext_lazy("kind")),
                 ("municipality", gettext_lazy("municipality")), ("route", gettext_lazy("route name")),
                 ("ledger", gettext_lazy("ledger number")),
                 ("grade", gettext_lazy("grade")), ("due", gettext_lazy("next inspection due"))]
MAX_FILE_ROWS = 50_000
# The 路線名 of a road, a bridge or a road structure (the only kinds a road ledger gives one); blank is none. Names,
# routes and ledger numbers sort with their numbers as numbers (市道2号線 before 市道10号線, 大場2号橋 before
# 大場10号橋: the ja_numeric collation, assets migration 0014).
ROUTE = Collate(Coalesce(*(NullIf(F(f"{d}__route_name"), Value("")) for d in ("road_segment", "bridge",
                                                                                "road_structure"))), "ja_numeric")


def sort_order(raw: str | None, allowed: dict, default: str) -> tuple[str, list]:
    """The whitelisted sort key and its ORDER BY; an unknown key falls back to the default."""
    key = raw or default
    name = key.lstrip("-")
    if name not in allowed:
        key, name = default, default.lstrip("-")
    desc = key.startswith("-")
    order = []
    for i, col in enumerate(allowed[name]):
        expr = F(col)
        order.append((expr.desc(nulls_last=True) if desc else expr.asc(nulls_last=True)) if i == 0 else col)
    return key, order


def _asset_rows(request):
    f = {k: request.GET.get(k) or None for k in ("municipality", "kind", "status", "q")}
    sort, order = sort_order(request.GET.get("sort"), ASSET_SORTS, "id")
    qs = asset_selectors.asset_list(principal=access.principal_of(request), **f).select_related(
        "condition__grade").annotate(route=ROUTE, name_key=Collate(NullIf("name", Value("")), "ja_numeric"),
                                     ledger_key=Collate("external_id", "ja_numeric")).order_by(*order)
    return f, sort, qs


@login_required
def asset_list(request):
    f, sort, qs = _asset_rows(request)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    kinds = [(k, str(v)) for k, v in Asset._meta.get_field("kind").flatchoices]
    statuses = [(k, str(v)) for k, v in Asset._meta.get_field("status").flatchoices]
    query = "&".join(f"{k}={v}" for k, v in f.items() if v)
    columns = [{"key": k, "label": label, "sort": (f"-{k}" if sort == k else k),
                "arrow": "▲" if sort == k else ("▼" if sort == f"-{k}" else "")} for k, label in ASSET_COLUMNS]
    municipalities = asset_selectors.municipality_choices(principal=access.principal_of(request))
    return render(request, "web/asset_list.html", {
        "page": page, "filters": f, "kinds": kinds, "statuses": statuses, "query": query, "sort": sort,
        "columns": columns, "municipalities": municipalities,
        "completeness": _completeness(f, municipalities)})


@login_required
def asset_list_download(request):
    """The filtered asset list, every page, as xlsx or CP932 CSV (format=xlsx|csv), in the visible scope."""
    f, _sort, qs = _asset_rows(request)
    fmt = request.GET.get("format", "xlsx")
    n = qs.count()
    if n > MAX_FILE_ROWS:
        return HttpResponse(_("%(n)d rows is more than one file holds (at most %(max)d); narrow the list")
                            % {"n": n, "max": MAX_FILE_ROWS}, status=400, content_type="text/plain; charset=utf-8")
    with translation.override("ja"):
        kinds = {k: str(v) for k, v in Asset._meta.get_field("kind").flatchoices}
    header = ["共通ID", "名称", "種別", "団体コード", "団体名", "路線名", "台帳番号", "建設年度", "判定区分",
              "最終点検日", "次回点検期限"]
    rows = []
    for a in qs.iterator(chunk_size=2000):
        c = getattr(a, "condition", None)
        rows.append([a.global_id, a.name, kinds.get(a.kind, a.kind), a.owner_id, a.owner.name, a.route or "",
                     a.external_id or "",
                     a.built_fiscal_year, c.grade.label if c and c.grade else "", c.inspected_on if c else None,
                     c.next_due_on if c else None])
    return _file_response("施設一覧", header, rows, fmt, f"assets-{f['municipality'] or 'all'}")


# ---- one asset ---------------------------------------------------------------------------------------------
def _plain(label) -> str:
    """A field's name without its unit, for sentences: 橋長 (m) → 橋長."""
    return re.sub(r"\s*[（(][^()（）]*[)）]\s*$", "", str(label)).strip() or str(label)


def _show(field, value, names: dict[str, str]) -> str:
    """A stored value as a person reads it: choices by their label, yes/no, municipalities and related assets
    by name, dates as dates."""
    if value is None or value == "":
        return _("(blank)")
    if field is None:
        return str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if field.is_relation and field.related_model is Municipality:
        return names.get(str(value), str(value))
    if field.is_relation and field.related_model is Asset:
        return names.get(f"asset:{value}", str(value))
    return str(value)


def asset_facts(asset: Asset) -> list[tuple[str, str]]:
    """The kind's attributes from its detail row: (label with unit, value shown), in the model's order."""
    spec = KINDS.get(asset.kind)
    accessor = spec.detail_model._meta.get_field("asset").remote_field.get_accessor_name() if spec else None
    detail = getattr(asset, accessor, None) if accessor else None
    if detail is None:
        return []
    names = {}
    for f in detail._meta.concrete_fields:
        if f.is_relation and f.related_model is Asset and f.name != "asset" and getattr(detail, f.attname):
            names[f"asset:{getattr(detail, f.attname)}"] = ""
    if names:
        ids = [int(k.split(":")[1]) for k in names]
        names = {f"asset:{pk}": f"{gid} {name}".strip()
                 for pk, gid, name in Asset.objects.filter(pk__in=ids).values_list("pk", "global_id", "name")}
    out = []
    for f in detail._meta.concrete_fields:
        if f.name == "asset":
            continue
        value = getattr(detail, f.attname)
        if value in (None, "") and not f.choices:
            continue
        out.append((str(f.verbose_name), _show(f, value, names)))
    return out


def _field_of(model, key: str):
    try:
        return model._meta.get_field(key)
    except Exception:  # noqa: BLE001 - a key from an older schema: shown by its name
        return None


def _asset_field(asset: Asset, key: str):
    if key.startswith("detail."):
        spec = KINDS.get(asset.kind)
        return _field_of(spec.detail_model, key[len("detail."):]) if spec else None
    return _field_of(Asset, key)


SKIP_KEYS = {"version", "id", "global_id", "created_at", "updated_at", "source_srid"}


def history_in_words(asset: Asset, records: list[ChangeRecord], inspections: dict[int, Inspection]) -> list[dict]:
    """Each change as sentences: who changed what from what to what, with labels and values in the person's
    language (「2026-11-30 yashio が 橋長 を 12.0 から 12.5 に変更」), never the raw snapshot."""
    asset_ct = ContentType.objects.get_for_model(Asset)
    codes = {str(v) for r in records for snap in (r.before or {}, r.after or {}) for k, v in snap.items()
             if k in ("owner", "operator") and v}
    names = dict(Municipality.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    # Grade labels for the codes the records name: from the inspections at hand, the catalogue only for others.
    grades = {(i.scheme_id, i.grade.code): i.grade.label for i in inspections.values()}
    wanted = {(i.scheme_id, snap.get("grade")) for r in records if r.content_type_id != asset_ct.id
              and (i := inspections.get(int(r.object_id))) for snap in (r.before or {}, r.after or {})
              if snap.get("grade")}
    if wanted - grades.keys():
        grades |= {(g.scheme_id, g.code): g.label for g in Grade.objects.filter(
            scheme_id__in={s for s, _c in wanted - grades.keys()})}
    insp_ct = ContentType.objects.get_for_model(Inspection)
    out = []
    for r in records:
        day = timezone.localtime(r.time).strftime("%Y-%m-%d")
        who = {"day": day, "actor": r.actor_name}
        lines: list[str] = []
        if r.content_type_id == insp_ct.id:
            insp = inspections.get(int(r.object_id))
            on = insp.inspected_on.isoformat() if insp else r.object_repr
            what = {**who, "on": on}
            if r.action == Action.CREATE:
                g = grades.get((insp.scheme_id, (r.after or {}).get("grade")), (r.after or {}).get("grade")) if insp else ""
                lines.append(_("%(day)s %(actor)s recorded the inspection of %(on)s (grade %(grade)s)")
                             % {**what, "grade": g})
            elif r.action == Action.RETIRE:
                lines.append(_("%(day)s %(actor)s withdrew the inspection of %(on)s") % what)
            elif r.action == Action.DELETE:
                lines.append(_("%(day)s %(actor)s deleted the inspection of %(on)s") % what)
            else:
                for key in sorted((r.after or {}).keys() | (r.before or {}).keys()):
                    if key in SKIP_KEYS or key == "photos":
                        continue
                    before, after = (r.before or {}).get(key), (r.after or {}).get(key)
                    field = _field_of(Inspection, key)
                    if key == "grade" and insp:
                        before, after = (grades.get((insp.scheme_id, v), v) for v in (before, after))
                        field = None
                    if key == "observations":
                        lines.append(_("%(day)s %(actor)s changed the observations of the inspection of %(on)s") % what)
                        continue
                    lines.append(_("%(day)s %(actor)s changed %(field)s of the inspection of %(on)s from %(before)s "
                                   "to %(after)s") % {**what, "field": _plain(field.verbose_name if field else
                                                                            Inspection._meta.get_field(key).verbose_name),
                                                      "before": _show(field, before, names),
                                                      "after": _show(field, after, names)})
                if (r.after or {}).get("photos"):
                    lines.append(_("%(day)s %(actor)s added photos to the inspection of %(on)s: %(files)s")
                                 % {**what, "files": ", ".join(r.after["photos"])})
        elif r.action == Action.CREATE:
            lines.append(_("%(day)s %(actor)s registered the asset") % who)
        elif r.action == Action.RETIRE:
            lines.append(_("%(day)s %(actor)s retired the asset") % who)
        elif r.action == Action.DELETE:
            lines.append(_("%(day)s %(actor)s deleted the asset") % who)
        else:
            for key in sorted((r.after or {}).keys() | (r.before or {}).keys()):
                if key in SKIP_KEYS:
                    continue
                field = _asset_field(asset, key)
                label = _plain(field.verbose_name) if field else key
                if key == "geom":
                    lines.append(_("%(day)s %(actor)s moved the asset (changed its geometry)") % who)
                    continue
                before, after = (r.before or {}).get(key), (r.after or {}).get(key)
                if key == "source":  # a code: named as on the page (assets.sources)
                    before, after, field = source_name(before, asset.owner_id), source_name(after, asset.owner_id), None
                lines.append(_("%(day)s %(actor)s changed %(field)s from %(before)s to %(after)s") % {
                    **who, "field": label, "before": _show(field, before, names), "after": _show(field, after, names)})
        if not lines:
            lines.append(_("%(day)s %(actor)s saved the record without changes") % who)
        out.append({"time": r.time, "lines": lines, "via": r.get_via_display(), "reason": r.message})
    return out


def _observations(insp: Inspection, scheme_lists: dict) -> dict:
    """An inspection's observations as labelled values, member and pipe rows, for the asset page."""
    obs = insp.observations or {}
    derived = obs.get("derived") or {}
    measures = [(observation_label(k), v) for k, v in obs.items()
                if k not in ("members", "pipes", "span", "derived") and not isinstance(v, dict | list)]
    if "mci" in derived and "mci" not in obs:
        measures.append((_("MCI (computed)"), derived["mci"]))
    items = scheme_lists.get("items", {})
    span = [(items.get(k, k), v) for k, v in (obs.get("span") or {}).items()]
    damage = scheme_lists.get("damage_types", {})
    members = [{**m, "damage_name": damage.get(str(m.get("damage_type", "")), "")} for m in obs.get("members") or []
               if isinstance(m, dict)]
    pipes = [{**p, "item_name": items.get(p.get("item"), p.get("item"))} for p in obs.get("pipes") or []
             if isinstance(p, dict)]
    computed = derived.get("computed_grade")
    return {"measures": measures, "span": span, "members": members, "pipes": pipes, "computed": computed}


@login_required
def asset_detail(request, gid: str):
    principal = access.principal_of(request)
    asset = asset_or_404(request, gid)
    inspections = list(inspection_selectors.inspection_list(principal=principal, asset=asset.global_id)
                       .select_related("withdrawn_by").prefetch_related("photos")[:50])
    for i in inspections:
        i.detail = _observations(i, i.scheme.lists or {})
    # The asset's history and its inspections' in one query: both were read through the scoped selectors above
    # (asset_or_404, inspection_list), so nothing outside the person's scope can be named here.
    records = list(ChangeRecord.objects.filter(
        Q(content_type=ContentType.objects.get_for_model(Asset), object_id=str(asset.pk))
        | Q(content_type=ContentType.objects.get_for_model(Inspection), object_id__in=[str(i.pk) for i in inspections])
    ).order_by("-time", "-id")[:60])
    # One query for the condition and what the page shows of it (grade, the measure that treated it).
    condition = AssetCondition.objects.select_related("grade", "treated_by__kind").filter(asset=asset).first()
    measures = measure_list(principal=principal, asset=asset.global_id)[:50]
    geom = asset.geom.transform(4326, clone=True) if asset.geom.srid not in (4326, 6668) else asset.geom
    # The latest finished run's view of it: which attributes it estimated from defaults (既定値で推計).
    score = (AssetScore.objects.filter(asset=asset, run__status="done").select_related("run").order_by("-run_id")
             .only("defaulted", "run__id").first())
    return render(request, "web/asset.html", {
        "asset": asset, "inspections": inspections, "condition": condition, "measures": measures, "score": score,
        "history": history_in_words(asset, records, {i.pk: i for i in inspections}),
        "facts": asset_facts(asset), "map_geojson": geom.json, "source_name": source_name(asset.source, asset.owner_id),
        "basemap": basemap_config(),
        "can_write": access.can_write_asset(principal, asset),
        "can_correct": access.can_correct_records(principal, asset), "today": timezone.localdate(),
    })


# ---- inspections on record ---------------------------------------------------------------------------------
INSPECTION_SORTS = {"date": ("inspected_on", "id"), "asset": ("asset__global_id", "-inspected_on"),
                    "kind": ("asset__kind", "-inspected_on"), "municipality": ("asset__owner__name", "-inspected_on"),
                    "grade": ("grade__rank", "-inspected_on")}
INSPECTION_COLUMNS = [("date", gettext_lazy("inspected on")), ("asset", gettext_lazy("asset")),
                      ("kind", gettext_lazy("kind")), ("municipality", gettext_lazy("municipality")),
                      ("grade", gettext_lazy("grade"))]


def _inspection_rows(request):
    """The inspections in the person's scope, filtered (municipality, kind, from/to dates) and sorted by a
    whitelisted key; a bad date is named, never a 500."""
    from inspections.services import parse_date

    f = {k: request.GET.get(k) or None for k in ("municipality", "kind", "date_from", "date_to")}
    errors: dict = {}
    dates = {}
    for key in ("date_from", "date_to"):
        if f[key]:
            try:
                dates[key] = parse_date(f[key], key)
            except ValidationError as exc:
                errors.update(exc.message_dict)
                f[key] = None
    sort, order = sort_order(request.GET.get("sort"), INSPECTION_SORTS, "-date")
    qs = inspection_selectors.inspection_list(
        principal=access.principal_of(request), municipality=f["municipality"], kind=f["kind"],
        **dates).select_related("asset__owner").order_by(*order)
    return f, sort, qs, errors


@login_required
def inspection_list(request):
    f, sort, qs, errors = _inspection_rows(request)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in f.items() if v)
    columns = [{"key": k, "label": label, "sort": (f"-{k}" if sort == k else k),
                "arrow": "▲" if sort == k else ("▼" if sort == f"-{k}" else "")} for k, label in INSPECTION_COLUMNS]
    return render(request, "web/inspection_list.html", {
        "page": page, "filters": f, "query": query, "sort": sort, "columns": columns, "errors": errors,
        "kinds": [(k, str(v)) for k, v in Asset._meta.get_field("kind").flatchoices],
        "municipalities": asset_selectors.municipality_choices(principal=access.principal_of(request))},
        status=400 if errors else 200)


@login_required
def inspection_list_download(request):
    """The filtered inspections, every page, as xlsx or CP932 CSV, in the person's scope."""
    f, _sort, qs, errors = _inspection_rows(request)
    fmt = request.GET.get("format", "xlsx")
    if errors:
        return HttpResponse("\n".join(m for ms in errors.values() for m in ms), status=400,
                            content_type="text/plain; charset=utf-8")
    n = qs.count()
    if n > MAX_FILE_ROWS:
        return HttpResponse(_("%(n)d rows is more than one file holds (at most %(max)d); narrow the list")
                            % {"n": n, "max": MAX_FILE_ROWS}, status=400, content_type="text/plain; charset=utf-8")
    with translation.override("ja"):
        kinds = {k: str(v) for k, v in Asset._meta.get_field("kind").flatchoices}
        methods = {k: str(v) for k, v in Inspection._meta.get_field("method").flatchoices}
    header = ["共通ID", "名称", "種別", "団体コード", "団体名", "点検日", "判定体系", "判定区分", "点検方法", "根拠条文",
              "点検者", "備考", "取り下げ日", "取り下げ理由"]
    rows = [[i.asset.global_id, i.asset.name, kinds.get(i.asset.kind, i.asset.kind), i.asset.owner_id,
             i.asset.owner.name, i.inspected_on, i.scheme.name, i.grade.label, methods.get(i.method, i.method),
             i.legal_basis, i.inspector, i.notes, timezone.localtime(i.withdrawn_at).date() if i.withdrawn_at else None,
             i.withdraw_reason] for i in qs.iterator(chunk_size=2000)]
    return _file_response("点検記録", header, rows, fmt, f"inspections-{f['municipality'] or 'all'}")


def _completeness(f: dict, municipalities) -> dict | None:
    """The data completeness line (issue 16) for the filtered municipality and/or kind: one grouped query, only
    once the list is narrowed (a municipality or a kind chosen) and only over municipalities the user may see."""
    if not (f["municipality"] or f["kind"]):
        return None
    visible = [m.code for m in municipalities]
    codes = [c for c in visible if c == f["municipality"]] if f["municipality"] else visible
    return totals(completeness(codes, [f["kind"]] if f["kind"] else None)) if codes else None


def _file_response(sheet: str, header: list, rows: list, fmt: str, stem: str) -> HttpResponse:
    """A list as xlsx or CP932 CSV for download; text CP932 cannot hold is a 400 naming it."""
    try:
        body, ctype, ext = table_file(sheet, header, rows, fmt)
    except ValidationError as exc:
        return HttpResponse("\n".join(m for ms in exc.message_dict.values() for m in ms), status=400,
                            content_type="text/plain; charset=utf-8")
    resp = HttpResponse(body, content_type=ctype)
    resp["Content-Disposition"] = content_disposition_header(True, f"{stem}-{timezone.localdate():%Y%m%d}.{ext}")
    return resp
