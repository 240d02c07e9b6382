from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = _("Inspections")

    def ready(self):
        from assets.signals import assets_changed, reference_data_loaded
        from inspections.catalogue import on_reference_data_loaded
        from inspections.condition import on_assets_changed

        assets_changed.connect(on_assets_changed, dispatch_uid="inspections.condition")
        reference_data_loaded.connect(on_reference_data_loaded, dispatch_uid="inspections.catalogue")
