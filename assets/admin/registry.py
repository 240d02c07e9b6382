from django.contrib import admin, messages
from django.contrib.gis import admin as gis_admin
from django.utils.translation import gettext_lazy as _

from assets import access
from assets.admin.scoped import ScopedReadAdmin, SuperuserOnlyAdmin
from assets.admin.widgets import LocalOSMWidget
from assets.models import ApiToken, ChangeRecord, Membership, Municipality, Region, SewerPlanArea

admin.site.site_header = _("群マネ registry administration")
admin.site.site_title = _("群マネ")
admin.site.index_title = _("Registry")


@admin.register(Municipality)
class MunicipalityAdmin(ScopedReadAdmin, gis_admin.GISModelAdmin):
    gis_widget = LocalOSMWidget
    list_display = ("code", "name", "name_kana", "kind", "prefecture", "population", "valid_to")
    list_filter = ("kind", "prefecture")
    search_fields = ("=code", "=code5", "name", "name_kana")
    readonly_fields = ("code5",)

    def get_queryset(self, request):
        return access.municipalities_visible(request.user, super().get_queryset(request))


@admin.register(SewerPlanArea)
class SewerPlanAreaAdmin(ScopedReadAdmin, gis_admin.GISModelAdmin):
    """下水道計画区域: tanks inside are 接続指導 cases (下水道法 第10条), not conversions. Staff read, administrators
    edit."""

    gis_widget = LocalOSMWidget
    list_display = ("id", "municipality", "name", "source", "updated_at")
    list_filter = ("source",)
    search_fields = ("name", "=municipality__code")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            municipality__in=access.municipalities_visible(request.user))


@admin.register(Region)
class RegionAdmin(ScopedReadAdmin):
    list_display = ("slug", "name", "lead")
    filter_horizontal = ("members",)
    search_fields = ("slug", "name")

    def get_queryset(self, request):
        return access.regions_visible(request.user, super().get_queryset(request))


@admin.register(Membership)
class MembershipAdmin(SuperuserOnlyAdmin):
    list_display = ("user", "role", "municipality", "region")
    list_filter = ("role",)
    search_fields = ("user__username", "municipality__name", "region__name")
    raw_id_fields = ("municipality",)


@admin.register(ApiToken)
class ApiTokenAdmin(SuperuserOnlyAdmin):
    list_display = ("name", "municipality", "source", "can_write", "prefix", "created_at", "revoked_at",
                    "last_used_at")
    list_filter = ("source", "can_write")
    raw_id_fields = ("municipality",)
    readonly_fields = ("prefix", "created_at", "last_used_at")
    actions = ["revoke"]
    fields = ("name", "municipality", "source", "can_write", "prefix", "created_at", "revoked_at", "last_used_at")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, key = ApiToken.issue(name=obj.name, municipality=obj.municipality, source=obj.source,
                                    can_write=obj.can_write, created_by=request.user)
        obj.pk = token.pk
        obj.refresh_from_db()
        self.message_user(request, _("Key (shown only now, store it in the ledger system): %s") % key,
                          messages.WARNING)

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            token.revoke()


@admin.register(ChangeRecord)
class ChangeRecordAdmin(SuperuserOnlyAdmin):
    list_display = ("time", "actor_name", "via", "action", "content_type", "object_repr")
    list_filter = ("via", "action", "content_type")
    ordering = ("-id",)  # the primary key orders the list: no index on time is kept for it
    search_fields = ("=object_repr", "actor_name", "message")
    show_full_result_count = False
    readonly_fields = [f.name for f in ChangeRecord._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
