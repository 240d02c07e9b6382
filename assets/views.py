"""The registry's pages: the map of a region and the asset list."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from assets import selectors
from assets.models import Asset


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
