"""Admin permissions come from assets.access, not from Django's per-model permission tables."""

from django.contrib import admin

from assets import access


class SuperuserOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.is_active and request.user.is_superuser
    )


class ScopedReadAdmin(admin.ModelAdmin):
    """Everyone signed in as staff sees what their scope allows; only administrators change it."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        if not (request.user.is_active and request.user.is_staff):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request, obj=None):
        return access.scope_for(request.user).is_admin

    def has_change_permission(self, request, obj=None):
        return access.scope_for(request.user).is_admin

    def has_delete_permission(self, request, obj=None):
        return access.scope_for(request.user).is_admin
