from django.contrib import admin
from django.contrib.gis import admin as gis_admin
from django.utils.translation import gettext_lazy as _

from assets import access
from assets.admin.scoped import ScopedReadAdmin
from assets.admin.widgets import LocalOSMWidget
from clusters.labels import label
from clusters.models import Cluster, EngineRun, ReferenceRoad, RegionParams


class RegionScopedReadOnly(admin.ModelAdmin):
    """Results are read here; runs are started through the API or `rank`, so parameters are always frozen."""

    region_path = "region"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(**{f"{self.region_path}__in": access.regions_visible(request.user)})

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return access.scope_for(request.user).is_admin

    def get_exclude(self, request, obj=None):
        # A failed job's traceback (paths, SQL, settings) is for the operators only.
        exclude = list(super().get_exclude(request, obj) or ())
        if "error" in {f.name for f in self.model._meta.fields} and not request.user.is_superuser:
            exclude.append("error")
        return exclude


class VisibleRegionFilter(admin.RelatedFieldListFilter):
    """The region choices a person may see, not every region in the registry."""

    def field_choices(self, field, request, model_admin):
        return [(r.pk, str(r)) for r in access.regions_visible(request.user).order_by("name")]


class VisibleRunFilter(admin.RelatedFieldListFilter):
    """The runs of the regions a person may see, newest first (the stock filter listed every region's runs)."""

    def field_choices(self, field, request, model_admin):
        runs = EngineRun.objects.filter(region__in=access.regions_visible(request.user)).select_related("region")
        return [(r.pk, str(r)) for r in runs.order_by("-pk")[:200]]


@admin.register(EngineRun)
class EngineRunAdmin(RegionScopedReadOnly):
    list_display = ("id", "region", "status_text", "created_at", "duration_s", "created_by")
    list_filter = ("status", ("region", VisibleRegionFilter))

    @admin.display(description=_("status"), ordering="status")
    def status_text(self, obj):
        return obj.progress_text


@admin.register(Cluster)
class ClusterAdmin(RegionScopedReadOnly):
    region_path = "run__region"
    list_display = ("run", "rank", "name", "work_type_label", "member_count", "municipality_count", "total_cost",
                    "risk_removed", "risk_per_myen")
    search_fields = ("name",)

    @admin.display(description=_("work type"), ordering="work_type")
    def work_type_label(self, obj):
        return label("work_type", obj.work_type)
    list_filter = ("work_type", ("run", VisibleRunFilter))
    show_full_result_count = False


@admin.register(RegionParams)
class RegionParamsAdmin(RegionScopedReadOnly):
    list_display = ("region", "updated_at")


@admin.register(ReferenceRoad)
class ReferenceRoadAdmin(ScopedReadAdmin, gis_admin.GISModelAdmin):
    """Public reference data (国土数値情報 or the demo generator): staff read it, administrators correct it
    (a missing junction, a closed road). Whole files are loaded with `load_reference_roads`."""

    gis_widget = LocalOSMWidget
    list_display = ("id", "name", "road_class", "source", "source_date", "loaded_at")
    list_filter = ("road_class", "source")
    search_fields = ("name", "source")
    readonly_fields = ("loaded_at",)
    show_full_result_count = False
