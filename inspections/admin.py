from django.contrib import admin

from assets import access
from inspections.models import Inspection


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = ("asset", "inspected_on", "scheme", "grade", "method", "inspector")
    list_filter = ("scheme", "grade")
    search_fields = ("=asset__global_id",)
    raw_id_fields = ("asset",)
    show_full_result_count = False
    list_select_related = ("asset",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(asset__in=access.assets_visible(request.user))

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
