from django.apps import AppConfig


class WebConfig(AppConfig):
    """Pages that combine apps (the map, the run page with its plans, the asset pages). No models: it only reads
    through the selectors of the apps below it."""

    name = "web"
