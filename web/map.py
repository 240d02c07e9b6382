"""The region map: a basemap (地理院タイル, or drawn from our own data on a closed network), the latest finished
run's lots and every asset, as vector tiles (web/tiles.py) drawn by MapLibre GL inside Leaflet. The page only
hands the map its configuration; static/js/regionmap.js does the rest."""

from django.contrib.auth.decorators import login_required
from django.contrib.gis.db.models import Extent
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from assets import access
from assets.models import Kind
from clusters.labels import WORK_TYPE_LABELS
from clusters.selectors import run_latest_done, run_list
from core.basemap import basemap_config

# Kinds drawn as lines, and how: the legend and the style share this.
LINE_KINDS = ("road_segment", "sewer_pipe")


@login_required
def region_map(request):
    regions = list(access.regions_visible(access.principal_of(request)).order_by("name"))
    region = next((r for r in regions if r.slug == request.GET.get("region")), regions[0] if regions else None)
    run = run_latest_done(run_list(principal=access.principal_of(request), region=region.slug)) if region else None
    extent = (region.members.exclude(kind="prefecture").aggregate(e=Extent("boundary"))["e"] if region else None)
    config = {
        # The view to open on, before any layer arrives: MapLibre starts once Leaflet has one.
        "bounds": [[extent[1], extent[0]], [extent[3], extent[2]]] if extent else [[24, 123], [46, 146]],
        "boundaries": f"/api/v1/regions/{region.slug}/boundaries" if region else "",
        "assetTiles": "/tiles/assets/{z}/{x}/{y}.pbf",
        "lotTiles": f"/tiles/lots/{run.pk}/{{z}}/{{x}}/{{y}}.pbf" if run else "",
        "assetUrl": reverse("asset-detail", args=["GID"]),
        "clusterUrl": reverse("cluster-detail", args=[run.pk, 0]) if run else "",
        "kinds": [{"value": k.value, "label": str(k.label), "line": k.value in LINE_KINDS} for k in Kind],
        "workTypes": {k: str(v) for k, v in WORK_TYPE_LABELS.items()},
        "conditions": [_("sound"), _("early signs"), _("needs measures"), _("worst state"), _("not inspected")],
        "labels": {"assets": _("assets"), "clusters": _("lots (群)"), "rank": _("rank"), "members": _("assets"),
                   "myen": _("million yen"), "open": _("open"), "zoomIn": _("Zoom in to see assets"),
                   "loading": _("loading…"), "shown": _("assets shown"), "more": _("zoom in for all"),
                   "uninspected": _("not inspected"), "legend": _("Legend"), "condition": _("condition"),
                   "kind": _("kind"), "cells": _("zoomed out: one circle per area, larger for more assets"),
                   "localBase": _("basemap drawn from the registry (地理院タイル not reachable)"),
                   "grade": _("grade")},
    }
    return render(request, "web/map.html", {"regions": regions, "region": region, "run": run,
                                            "map_config": config, "basemap": basemap_config()})
