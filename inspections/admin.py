from django.contrib import admin
from django.utils.html import format_html_join

from assets import access
from assets.admin.scoped import ScopedReadAdmin
from inspections.models import (
    AssetCondition,
    Grade,
    GradingScheme,
    Inspection,
    InspectionPhoto,
    Measure,
    MeasureKind,
    MemberKind,
)
from inspections.models.record import RecordOfWork

RECORD_FIELDS = {f.name for f in RecordOfWork._meta.fields}


class ScopedInspectionAdmin(admin.ModelAdmin):
    """Everyone sees what their scope allows; entering goes through the field form or the API so that
    validation, condition and history are never bypassed."""

    def get_queryset(self, request):
        return access.of_visible_assets(request.user, super().get_queryset(request))

    def get_fields(self, request, obj=None):
        # What was done first, then the notes and bookkeeping (RecordOfWork's fields: as a base, they would lead).
        fields = super().get_fields(request, obj)
        return [f for f in fields if f not in RECORD_FIELDS] + [f for f in fields if f in RECORD_FIELDS]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PhotoInline(admin.TabularInline):
    model = InspectionPhoto
    fields = ("preview", "original_name", "content_type", "width", "height", "size_bytes")
    readonly_fields = fields
    extra = 0

    @admin.display(description="")
    def preview(self, obj):
        return format_html_join("", '<a href="{}"><img src="{}" style="height:64px"></a>',
                                [(obj.url, obj.thumbnail_url)])


@admin.register(Inspection)
class InspectionAdmin(ScopedInspectionAdmin):
    list_display = ("asset", "inspected_on", "scheme", "grade", "legal_basis", "method", "inspector")
    list_filter = ("scheme", "grade", "method", "legal_basis")
    search_fields = ("=asset__global_id", "=asset__external_id", "inspector")
    date_hierarchy = "inspected_on"
    raw_id_fields = ("asset",)
    show_full_result_count = False
    list_select_related = ("asset", "scheme", "grade")
    inlines = [PhotoInline]


@admin.register(AssetCondition)
class AssetConditionAdmin(ScopedInspectionAdmin):
    # Derived, rebuilt from the inspections: deleting an asset takes its row along (see AssetAdmin).
    deleted_with_asset = True
    list_display = ("asset", "grade", "inspected_on", "next_due_on", "action_due_on", "score")
    list_filter = ("grade__scheme", "grade")
    search_fields = ("=asset__global_id",)
    date_hierarchy = "next_due_on"
    show_full_result_count = False
    list_select_related = ("asset", "grade")


class GradeInline(admin.TabularInline):
    model = Grade
    extra = 0
    fields = ("code", "label", "label_en", "rank", "score", "action_months", "guidance_months", "aliases")


@admin.register(GradingScheme)
class GradingSchemeAdmin(ScopedReadAdmin):
    list_display = ("code", "version", "name", "kinds", "cycle_months", "record_type", "is_current")
    list_filter = ("record_type", "is_current")
    inlines = [GradeInline]

    def get_queryset(self, request):
        return GradingScheme.objects.all()


@admin.register(Measure)
class MeasureAdmin(ScopedInspectionAdmin):
    list_display = ("asset", "kind", "started_on", "completed_on", "cost_yen", "contractor")
    list_filter = ("kind", "kind__effect")
    search_fields = ("=asset__global_id", "=asset__external_id", "contractor")
    date_hierarchy = "started_on"
    raw_id_fields = ("asset", "cluster")
    show_full_result_count = False
    list_select_related = ("asset", "kind")


@admin.register(MeasureKind)
class MeasureKindAdmin(ScopedReadAdmin):
    """The catalogue is data (fixtures/catalogue/measure_kinds.json); everyone on staff may read it."""

    list_display = ("code", "label", "label_en", "effect", "changes_condition", "kinds", "order")

    def get_queryset(self, request):
        return MeasureKind.objects.all()


@admin.register(MemberKind)
class MemberKindAdmin(ScopedReadAdmin):
    """The 点検要領's member codes (fixtures/catalogue/bridge_members.json); everyone on staff may read them."""

    list_display = ("code", "name", "name_en", "group", "is_main_member", "kinds", "verified", "order")
    list_filter = ("group", "is_main_member", "verified")
    search_fields = ("=code", "name", "name_en")

    def get_queryset(self, request):
        return MemberKind.objects.all()
