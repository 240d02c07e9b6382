from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from assets import access
from ledger.models import LedgerMapping


@admin.register(LedgerMapping)
class LedgerMappingAdmin(admin.ModelAdmin):
    """Column mappings: municipalities whose ledger the person may write see and edit their own."""

    list_display = ("owner", "kind", "source", "updated_at")
    list_filter = ("kind", "source")
    raw_id_fields = ("owner",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(owner__in=access.municipalities_writable(request.user))

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return obj is None or access.scope_for(request.user).can_write(obj.owner_id, obj.source)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not access.scope_for(request.user).can_write(obj.owner_id, obj.source):
            raise PermissionDenied(_("You may not change this municipality's ledger settings"))
        super().save_model(request, obj, form, change)
