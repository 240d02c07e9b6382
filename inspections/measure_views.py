"""The engineer's screens for measures (措置): record or complete one from the asset page, and the 措置着手率 /
措置完了率 per municipality and region."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from assets import access
from assets import selectors as asset_selectors
from assets.history import Actor
from assets.models import Asset, AssetStatus, Via
from assets.services import VersionConflict
from inspections import measure_selectors as selectors
from inspections import measure_services as services
from inspections.catalogue import measure_kinds_for
from inspections.models import Measure

FIELDS = ("kind", "started_on", "completed_on", "cost_yen", "contractor", "notes")


def _errors(exc: ValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


@login_required
def measure_form(request, gid: str | None = None, pk: int | None = None):
    """New measure for an asset (gid), or a change to one (pk) — typically entering its completion."""
    measure = None
    if pk is not None:
        try:
            measure = selectors.measure_get(principal=access.principal_of(request), pk=pk)
        except Measure.DoesNotExist:
            raise Http404(_("No such measure, or not one you may see")) from None
        asset = measure.asset
    else:
        try:
            asset = asset_selectors.asset_get(principal=access.principal_of(request), global_id=gid)
        except Asset.DoesNotExist:
            raise Http404(_("No such asset, or not one you may see")) from None
    if not access.can_write_asset(access.principal_of(request), asset):
        raise PermissionDenied(_("You may read this asset but not record measures for it"))
    if measure is None and asset.status == AssetStatus.REMOVED:
        raise PermissionDenied(_("%(gid)s is retired; no measure can be recorded for it") % {"gid": asset.global_id})
    errors: dict = {}
    if request.method == "POST":
        data = {f: request.POST.get(f, "").strip() for f in FIELDS}
        data["completed_on"] = data["completed_on"] or None
        data["cost_yen"] = data["cost_yen"] or None
        actor = Actor(access.principal_of(request), Via.UI)
        try:
            if measure is None:
                services.measure_record(actor=actor, asset=asset, **data)
            else:
                version = request.POST.get("version", "")
                services.measure_update(actor=actor, measure=measure, data=data,
                                        expected_version=int(version) if version.isdigit() else None)
        except ValidationError as exc:
            errors = _errors(exc)
        except VersionConflict as exc:
            errors = {"__all__": [str(exc) + " " + _("Reload the page to see the change, then enter yours again.")]}
        except PermissionDenied as exc:
            errors = {"__all__": [str(exc)]}
        else:
            return redirect("asset-detail", gid=asset.global_id)
    initial = request.POST if request.method == "POST" else ({
        "kind": measure.kind.code, "started_on": measure.started_on.isoformat(),
        "completed_on": measure.completed_on.isoformat() if measure.completed_on else "",
        "cost_yen": "" if measure.cost_yen is None else str(measure.cost_yen), "contractor": measure.contractor,
        "notes": measure.notes} if measure else {})
    return render(request, "inspections/measure_form.html", {
        "asset": asset, "measure": measure, "kinds": measure_kinds_for(asset.kind), "errors": errors,
        "post": initial, "today": timezone.localdate().isoformat(),
    }, status=422 if errors else 200)


@login_required
def measure_rates(request):
    regions = list(access.regions_visible(access.principal_of(request)).order_by("name"))
    municipalities = list(asset_selectors.municipality_choices(principal=access.principal_of(request)))
    slug = request.GET.get("region") or (regions[0].slug if regions else "")
    region = next((r for r in regions if r.slug == slug), None)
    municipality = request.GET.get("municipality") or None
    codes = list(region.members.values_list("code", flat=True)) if region else None
    if codes is not None:
        municipalities = [m for m in municipalities if m.code in codes]
    if municipality:
        codes = [municipality] if codes is None else [c for c in codes if c == municipality]
    rows = selectors.measure_rates(principal=access.principal_of(request), codes=codes, total_label=_("total"))
    by_muni: dict = {}
    for r in rows:
        by_muni.setdefault(r.municipality, []).append(r)
    total = by_muni.pop(None, [])
    return render(request, "inspections/measure_rates.html", {
        "regions": regions, "region": region, "municipalities": municipalities, "municipality": municipality,
        "total": total, "groups": list(by_muni.values()), "today": timezone.localdate(),
    })
