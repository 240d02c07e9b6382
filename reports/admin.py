from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from assets import access
from clusters.admin import RegionScopedReadOnly
from reports.models import Plan, PlanProfile
from reports.selectors import plan_list


@admin.register(Plan)
class PlanAdmin(RegionScopedReadOnly):
    """Plans are made through the API or `plan_pdf`; here they are listed and their PDFs downloaded."""

    region_path = "run__region"
    list_display = ("id", "run", "municipality", "strategy", "horizon_years", "status", "duration_s", "created_at",
                    "pdf_link")
    list_filter = ("status", "strategy")
    exclude = ("result",)

    def get_queryset(self, request):
        return plan_list(principal=request.user)

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        if obj.status != Plan.Status.DONE or not obj.pdf:
            return "—"
        return format_html('<a href="/api/v1/plans/{}/pdf">{}</a>', obj.pk, _("download"))


@admin.register(PlanProfile)
class PlanProfileAdmin(admin.ModelAdmin):
    """The coordinators set the region's row (new technology and consolidation targets, PDCA year); a
    municipality's staff set its own row (department, own text)."""

    list_display = ("region", "municipality", "department", "review_fiscal_year", "updated_at")
    list_filter = ("region",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(region__in=access.regions_visible(request.user))

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return request.user.is_active and request.user.is_staff
        if access.regions_coordinated(request.user).filter(pk=obj.region_id).exists():
            return True
        return obj.municipality_id is not None and access.scope_for(request.user).can_write(obj.municipality_id)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not self.has_change_permission(request, obj):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        super().save_model(request, obj, form, change)
