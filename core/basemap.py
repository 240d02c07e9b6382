"""What every map needs to draw its basemap (static/js/basemap.js): 地理院タイル with its credit unless
MAP_BASEMAP=local, and the basemap drawn from our own data (web/tiles.py, /tiles/base/) that replaces it when
its tiles do not load. One place, so the region map, the asset and lot maps, the inspection picker and the
admin's geometry widget cannot drift apart (issue 17). Pages hand it over with json_script "basemap-config"."""

from django.conf import settings
from django.templatetags.static import static
from django.utils.translation import gettext as _


def basemap_config() -> dict:
    gsi = settings.MAP_BASEMAP == "gsi"
    return {
        "basemap": settings.MAP_BASEMAP,
        "tiles": settings.MAP_TILE_URL if gsi else "",
        "tileAttribution": settings.MAP_TILE_ATTRIBUTION, "tileAttributionUrl": settings.MAP_TILE_ATTRIBUTION_URL,
        "baseTiles": "/tiles/base/{z}/{x}/{y}.pbf",
        "worker": static("vendor/maplibre-gl/maplibre-gl-csp-worker.js"),
        "labels": {"localCredit": _("basemap drawn from the registry")},
    }
