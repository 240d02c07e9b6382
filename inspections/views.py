"""The engineer's screens: pick an asset (search or map), log an inspection, see overdue work. The asset page,
which shows all that is recorded for one asset, is in web/assets.py."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from assets import access
from assets import selectors as asset_selectors
from assets.history import Actor
from assets.models import ApiToken, Asset, Via
from core.basemap import basemap_config
from core.files import stored_file_response
from inspections import selectors, services
from inspections.catalogue import schemes_for_kind
from inspections.forms import SPAN_ITEMS, error_label, member_rows, observations_from_post, pipe_rows
from inspections.models import Inspection, InspectionPhoto, MemberKind, Method


def asset_or_404(request, gid: str) -> Asset:
    return access.get_or_404(asset_selectors.asset_get, principal=access.principal_of(request), global_id=gid)


@login_required
def pick_asset(request):
    q = request.GET.get("q", "").strip()
    results = []
    if q:
        results = list(access.assets_writable(access.principal_of(request)).filter(global_id__istartswith=q)[:20]) or list(
            asset_selectors.asset_list(principal=access.principal_of(request), q=q).filter(
                pk__in=access.assets_writable(access.principal_of(request)).values("pk"))[:20])
    scope = access.scope_for(access.principal_of(request))
    home = access.municipalities_writable(access.principal_of(request)).exclude(hall_location=None).first()
    center = [home.hall_location.x, home.hall_location.y] if home else [139.84, 35.85]
    return render(request, "inspections/pick.html", {"q": q, "results": results, "center": center,
                                                     "basemap": basemap_config(),
                                                     "can_write": scope.is_admin or bool(scope.write)})


@login_required
def new_inspection(request, gid: str):
    asset = asset_or_404(request, gid)
    if not access.can_write_asset(access.principal_of(request), asset):
        raise PermissionDenied(_("You may read this asset but not record inspections for it"))
    schemes = list(schemes_for_kind(asset.kind).prefetch_related("grades").order_by("record_type", "code"))
    chosen = next((s for s in schemes if s.code == request.POST.get("scheme", request.GET.get("scheme"))),
                  schemes[0] if schemes else None)
    errors: dict = {}
    if request.method == "POST" and chosen is not None:
        try:
            insp = services.inspection_record(
                actor=Actor(access.principal_of(request), Via.UI), asset=asset, scheme=chosen.code,
                inspected_on=request.POST.get("inspected_on"), grade=request.POST.get("grade") or None,
                method=request.POST.get("method"), inspector=request.POST.get("inspector", ""),
                notes=request.POST.get("notes", ""), legal_basis=request.POST.get("legal_basis", ""),
                observations=observations_from_post(chosen.rule, chosen.code, request.POST),
                photos=request.FILES.getlist("photos"),
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        except PermissionDenied as exc:
            errors = {"__all__": [str(exc)]}
        else:
            messages.success(request, _("Saved: the inspection of %(asset)s on %(day)s, grade %(grade)s.") % {
                "asset": f"{asset.global_id} {asset.name}".strip(), "day": f"{insp.inspected_on:%Y-%m-%d}",
                "grade": insp.grade.label_en if _english() else insp.grade.label})
            return redirect("asset-detail", gid=asset.global_id)
    return render(request, "inspections/form.html", {
        "asset": asset, "schemes": schemes, "scheme": chosen, "errors": errors, "post": request.POST,
        "error_list": [(None if k == "__all__" else error_label(k), msgs) for k, msgs in errors.items()],
        "today": timezone.localdate().isoformat(), "methods": Method.choices,
        "member_rows": member_rows(request.POST), "pipe_rows": pipe_rows(request.POST),
        "span_items": [(k, request.POST.get(f"span_{k}", "")) for k in SPAN_ITEMS],
        "default_method": services.DEFAULT_METHOD.get(chosen.code) if chosen else "",
        "inspector": request.user.get_full_name() or request.user.get_username(),
        # The 点検要領's member codes (主桁 Mg …) offered as the engineer types; only a kind that has a list.
        "member_kinds": MemberKind.objects.filter(kinds__contains=[asset.kind]) if asset.kind == "bridge" else [],
    }, status=422 if errors else 200)


def _english() -> bool:
    from django.utils import translation

    return (translation.get_language() or "ja").startswith("en")


def _work_filters(request) -> dict:
    """The work list's filters from the query string; a missing municipality means the person's default."""
    raw = request.GET.get("within", "0") or "0"
    try:
        within = int(raw)
    except ValueError:
        raise ValidationError({"within": _("days ahead must be a whole number from 0 (overdue only) to %(max)d")
                               % {"max": selectors.MAX_WITHIN_DAYS}}) from None
    return {"municipality": request.GET.get("municipality") or None, "kind": request.GET.get("kind") or None,
            "work": request.GET.get("work") or None, "within": within, "sort": request.GET.get("sort") or "due"}


@login_required
def overdue(request):
    """The work list: inspections and measures due, most overdue first, on the person's own municipality."""
    errors: dict = {}
    try:
        filters = _work_filters(request)
        qs = selectors.work_list(principal=access.principal_of(request), **filters)
    except ValidationError as exc:
        errors = exc.message_dict
        filters = {"municipality": None, "kind": None, "work": None, "within": 0, "sort": "due"}
        qs = selectors.work_list(principal=access.principal_of(request))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    page.object_list = selectors.work_items(page.object_list)
    municipality = filters["municipality"] or selectors.work_list_default_municipality(access.principal_of(request)) or "all"
    query = {k: v for k, v in {**filters, "municipality": municipality}.items() if v not in (None, "")}
    return render(request, "inspections/overdue.html", {
        "page": page, "errors": errors, "municipalities":
        asset_selectors.municipality_choices(principal=access.principal_of(request)),
        "f": {**filters, "municipality": municipality}, "query": urlencode(query),
        "base_query": urlencode({k: v for k, v in query.items() if k != "sort"}),
        "kinds": [(k, str(v)) for k, v in Asset._meta.get_field("kind").flatchoices],
        "works": [(selectors.WORK_INSPECTION, _("inspection (点検)")), (selectors.WORK_MEASURE, _("measures (措置)")),
                  (selectors.WORK_MAINTENANCE, _("septic maintenance check (保守点検)")),
                  (selectors.WORK_CLEANING, _("septic cleaning (清掃)")),
                  (selectors.WORK_GUIDANCE, _("improvement guidance target (not a legal deadline)"))],
        "windows": [(0, _("overdue only")), (30, _("due within 30 days")), (90, _("due within 90 days")),
                    (365, _("due within a year"))],
        "sorts": [("due", _("most overdue first")), ("-due", _("latest due first")), ("name", _("name")),
                  ("municipality", _("municipality")), ("kind", _("kind"))],
    }, status=400 if errors else 200)


@login_required
def overdue_download(request):
    """The same list, every page, as xlsx or CP932 CSV (format=xlsx|csv)."""
    from inspections.exports import work_list_file

    try:
        body, content_type, filename = work_list_file(
            principal=access.principal_of(request), fmt=request.GET.get("format", "xlsx"), **_work_filters(request))
    except ValidationError as exc:
        return HttpResponse("\n".join(f"{k}: {m}" for k, ms in exc.message_dict.items() for m in ms),
                            status=400, content_type="text/plain; charset=utf-8")
    resp = HttpResponse(body, content_type=content_type)
    resp["Content-Disposition"] = content_disposition_header(True, filename)
    return resp


def photo_file(request, pk: int, thumbnail: bool = False):
    """A photo or its thumbnail, for whoever may see the inspected asset: a signed-in person (pages, admin) or
    an API token (`Authorization: Bearer …`, as the API's photo URLs say). Anyone else learns nothing: no
    sign-in → the login page (401 for a bad token), outside the scope → 404, as if there were no such photo."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        principal = ApiToken.authenticate(header[7:].strip())
        if principal is None:
            return JsonResponse({"detail": "Unauthorized"}, status=401)
    elif request.user.is_authenticated:
        principal = request.user
    else:
        return redirect_to_login(request.get_full_path())
    try:
        photo = selectors.photo_get(principal=principal, pk=pk)
    except InspectionPhoto.DoesNotExist:
        raise Http404 from None
    if thumbnail:
        return stored_file_response(photo.thumbnail, filename=_thumb_name(photo.original_name),
                                    content_type="image/jpeg")
    return stored_file_response(photo.image, filename=photo.original_name, content_type=photo.content_type)


def _thumb_name(original: str) -> str:
    return (original.rsplit(".", 1)[0] or "photo") + "_thumb.jpg"


def _inspection_for_correction(request, pk: int):
    """The inspection, if visible (else 404) and the person may correct it (else 403)."""
    try:
        insp = selectors.inspection_get(principal=access.principal_of(request), pk=pk)
    except Inspection.DoesNotExist:
        raise Http404 from None
    if not access.can_correct_records(access.principal_of(request), insp.asset):
        raise PermissionDenied(_("Only the engineers of the asset's municipality and its region's coordinators may "
                                 "correct or withdraw its inspections"))
    return insp


@login_required
def inspection_withdraw(request, pk: int):
    """Withdraw an inspection entered in error, with the reason (POST from the asset page)."""
    insp = _inspection_for_correction(request, pk)
    if request.method != "POST":
        return redirect("asset-detail", gid=insp.asset.global_id)
    try:
        services.inspection_withdraw(actor=Actor(access.principal_of(request), Via.UI), inspection=insp,
                                     reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        messages.error(request, " ".join(m if k == "__all__" else f"{error_label(k)}: {m}"
                                         for k, msgs in errors.items() for m in msgs))
    else:
        messages.success(request, _("Withdrawn: the inspection of %(day)s. The asset's condition now follows the "
                                    "inspections that still count.") % {"day": f"{insp.inspected_on:%Y-%m-%d}"})
    return redirect("asset-detail", gid=insp.asset.global_id)


@login_required
def inspection_correct(request, pk: int):
    """Correct a recorded inspection (date, grade, method, inspector, notes) with the reason; the history keeps
    the values before and after."""
    insp = _inspection_for_correction(request, pk)
    errors: dict = {}
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in ("inspected_on", "grade", "method", "inspector", "notes")}
        if insp.scheme.code in services.LEGAL_BASIS:
            data["legal_basis"] = request.POST.get("legal_basis", "")
        try:
            version = int(request.POST.get("version") or 0) or None
            services.inspection_correct(actor=Actor(access.principal_of(request), Via.UI), inspection=insp,
                                        data=data, reason=request.POST.get("reason", ""), expected_version=version)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        except services.VersionConflict:
            errors = {"__all__": [_("Someone changed this inspection meanwhile; reload the page and try again")]}
        else:
            messages.success(request, _("Corrected: the inspection of %(asset)s on %(day)s.") % {
                "asset": insp.asset.global_id, "day": data["inspected_on"]})
            return redirect("asset-detail", gid=insp.asset.global_id)
    return render(request, "inspections/correct.html", {
        "insp": insp, "asset": insp.asset, "post": request.POST, "errors": errors, "methods": Method.choices,
        "error_list": [(None if k == "__all__" else error_label(k), msgs) for k, msgs in errors.items()],
        "grades": insp.scheme.grades.all(), "legal": services.LEGAL_BASIS.get(insp.scheme.code, ()),
        "today": timezone.localdate().isoformat(),
    }, status=422 if errors else 200)
