from django.contrib.gis.forms.widgets import OSMWidget

from core.basemap import basemap_config


class LocalOSMWidget(OSMWidget):
    """The stock map widget with OpenLayers served from our own static files: the admin must work on a
    closed municipal network. Background tiles are the basemap's (地理院タイル, settings.MAP_TILE_URL) when
    reachable, none with MAP_BASEMAP=local; the geometry shows either way. Django's template starts the
    widget with an inline script, which the Content-Security-Policy forbids: ours hands the options over as
    JSON and static/js/mapwidget.js starts it."""

    template_name = "gis/openlayers-local.html"
    default_lon = 139.84
    default_lat = 35.85
    default_zoom = 12

    class Media:
        extend = False
        css = {"all": ("vendor/ol/ol.css", "gis/css/ol3.css")}
        js = ("vendor/ol/ol.js", "gis/js/OLMapWidget.js", "js/basemap.js", "js/mapwidget.js")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget_options"] = {
            "geom_name": context["geom_type"], "id": context["id"], "map_id": f"{context['id']}_map",
            "map_srid": context["map_srid"], "name": context["name"], "module": context["module"],
            "default_lon": self.attrs["default_lon"], "default_lat": self.attrs["default_lat"],
            "default_zoom": self.attrs["default_zoom"],
            "basemap": basemap_config(),
        }
        context["options_id"] = f"{context['id']}_mapwidget_options"
        return context
