"""The region map: boundaries (registry), the latest finished run's lots (engine) and the assets where zoomed in.
The page only hands the map its configuration; static/js/regionmap.js fetches the layers from the API."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from assets import access
from clusters.selectors import run_latest_done, run_list


@login_required
def region_map(request):
    regions = list(access.regions_visible(access.principal_of(request)).order_by("name"))
    region = next((r for r in regions if r.slug == request.GET.get("region")), regions[0] if regions else None)
    run = run_latest_done(run_list(principal=access.principal_of(request), region=region.slug)) if region else None
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
    return render(request, "web/map.html", {"regions": regions, "region": region, "run": run,
                                            "map_config": config})
