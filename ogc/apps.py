from django.apps import AppConfig


class OgcConfig(AppConfig):
    """OGC API – Features (Parts 1, 2 and 3) over the registry, for QGIS, ArcGIS and GDAL. No models: it reads
    through the scoped selectors of the apps below it, like the web pages."""

    name = "ogc"
