from django.contrib.gis.forms.widgets import OSMWidget


class LocalOSMWidget(OSMWidget):
    """The stock map widget with OpenLayers served from our own static files: the admin must work on a
    closed municipal network. Background tiles still come from OSM when reachable; the geometry shows
    either way."""

    default_lon = 139.84
    default_lat = 35.85
    default_zoom = 12

    class Media:
        extend = False
        css = {"all": ("vendor/ol/ol.css", "gis/css/ol3.css")}
        js = ("vendor/ol/ol.js", "gis/js/OLMapWidget.js")
