"""The ledger upload page: choose a file, check it (dry run) or load it, read the report."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _

from assets import selectors
from assets.history import Actor
from assets.kinds import KINDS
from assets.models import Asset, Via
from ledger.importer import import_ledger
from ledger.readers import MAX_UPLOAD_BYTES


@login_required
def ledger_import(request):
    municipalities = selectors.municipality_choices(principal=request.user, writable=True)
    kinds = [(k, str(v)) for k, v in Asset._meta.get_field("kind").flatchoices if k in KINDS]
    ctx = {"municipalities": municipalities, "kinds": kinds, "report": None, "error": None, "form": request.POST}
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ValidationError({"file": _("Choose a file")})
            if upload.size > MAX_UPLOAD_BYTES:
                raise ValidationError({"file": _("At most %d MB per file") % (MAX_UPLOAD_BYTES // 2**20)})
            srid = request.POST.get("srid") or None
            ctx["report"] = import_ledger(
                actor=Actor(request.user, Via.UI), data=upload.read(), filename=upload.name,
                kind=request.POST.get("kind", ""), municipality=request.POST.get("municipality") or None,
                source=request.POST.get("source") or "ledger", srid=int(srid) if srid else None,
                dry_run=request.POST.get("action") != "load")
        except ValidationError as exc:
            ctx["error"] = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()) \
                if hasattr(exc, "error_dict") else " ".join(exc.messages)
        except PermissionDenied as exc:
            ctx["error"] = str(exc)
        except ValueError:
            ctx["error"] = _("srid: give an EPSG number such as 6677")
    return render(request, "assets/ledger_import.html", ctx, status=200)


@login_required
def region_map(request):
    from django.conf import settings
    from django.urls import reverse

    from assets import access
    from clusters.selectors import run_latest_done, run_list

    regions = list(access.regions_visible(request.user).order_by("name"))
    region = next((r for r in regions if r.slug == request.GET.get("region")), regions[0] if regions else None)
    run = run_latest_done(run_list(principal=request.user, region=region.slug)) if region else None
    config = {
        "boundaries": f"/api/v1/regions/{region.slug}/boundaries" if region else "",
        "clusters": f"/api/v1/runs/{run.pk}/clusters.geojson" if run else "",
        "assets": "/api/v1/assets.geojson?limit=3000",
        "assetUrl": reverse("asset-detail", args=["GID"]),
        "clusterUrl": reverse("cluster-detail", args=[run.pk, 0]) if run else "",
        "minZoom": 14, "tiles": settings.MAP_TILE_URL, "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
        "labels": {"assets": _("assets"), "clusters": _("lots (群)"), "rank": _("rank"), "members": _("assets"),
                   "myen": _("million yen"), "open": _("open"), "zoomIn": _("Zoom in to see assets"),
                   "loading": _("loading…"), "shown": _("assets shown"), "more": _("zoom in for all"),
                   "uninspected": _("not inspected")},
    }
    return render(request, "assets/map.html", {"regions": regions, "region": region, "run": run,
                                               "map_config": config})


@login_required
def asset_list(request):
    from django.core.paginator import Paginator

    f = {k: request.GET.get(k) or None for k in ("municipality", "kind", "status", "q")}
    qs = selectors.asset_list(principal=request.user, **f).select_related("condition__grade").order_by("global_id")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    kinds = [(k, str(v)) for k, v in Asset._meta.get_field("kind").flatchoices]
    statuses = [(k, str(v)) for k, v in Asset._meta.get_field("status").flatchoices]
    query = "&".join(f"{k}={v}" for k, v in f.items() if v)
    return render(request, "assets/list.html", {"page": page, "filters": f, "kinds": kinds, "statuses": statuses,
                                                "municipalities": selectors.municipality_choices(principal=request.user),
                                                "query": query})
