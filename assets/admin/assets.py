from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.gis import admin as gis_admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from assets import access, selectors, services
from assets.admin.widgets import LocalOSMWidget
from assets.geometry import check_in_area, to_storage
from assets.history import Action, Actor, record_change
from assets.kinds import KINDS, format_global_id, spec_for
from assets.models import Asset, Bridge, Kind, Manhole, Municipality, RoadSegment, SepticTank, SewerPipe, Via


def _detail_inline(model_cls):
    class Inline(admin.StackedInline):
        model = model_cls
        can_delete = False
        min_num = 1
        max_num = 1
        extra = 0
        fk_name = "asset"
        raw_id_fields = [f.name for f in model_cls._meta.fields if f.is_relation and f.name != "asset"]

        def has_view_permission(self, request, obj=None):
            return True

        def has_add_permission(self, request, obj=None):
            return True

        def has_change_permission(self, request, obj=None):
            return obj is None or access.can_write_asset(request.user, obj)

    Inline.__name__ = f"{model_cls.__name__}Inline"
    return Inline


INLINES = {
    Kind.ROAD_SEGMENT: _detail_inline(RoadSegment),
    Kind.BRIDGE: _detail_inline(Bridge),
    Kind.SEWER_PIPE: _detail_inline(SewerPipe),
    Kind.MANHOLE: _detail_inline(Manhole),
    Kind.SEPTIC_TANK: _detail_inline(SepticTank),
}


class OwnerFilter(admin.SimpleListFilter):
    title = _("owner (管理者)")
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        return [(m.code, str(m)) for m in selectors.municipality_choices(principal=request.user)]

    def queryset(self, request, queryset):
        return queryset.filter(owner_id=self.value()) if self.value() else queryset


@admin.register(Asset)
class AssetAdmin(gis_admin.GISModelAdmin):
    gis_widget = LocalOSMWidget
    list_display = ("global_id", "name", "kind", "owner", "status", "built_fiscal_year", "updated_at")
    list_filter = (OwnerFilter, "kind", "status", "serves_important_facility", "source")
    search_fields = ("=global_id", "name", "=external_id", "=owner__code", "owner__name")
    list_select_related = ("owner",)
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = ("global_id", "version", "source_srid", "created_at", "updated_at")
    autocomplete_fields = ()
    actions = ["retire_selected"]
    fieldsets = (
        (None, {"fields": ("global_id", "kind", "owner", "operator", "name", "status", "retired_on")}),
        (_("Ledger"), {"fields": ("source", "external_id", "built_fiscal_year", "built_year_text")}),
        (_("Importance"), {"fields": ("serves_important_facility", "important_facility_note")}),
        (_("Geometry"), {"fields": ("geom", "source_srid")}),
        (_("Record"), {"fields": ("version", "created_at", "updated_at")}),
    )

    # ---- scope -------------------------------------------------------------------------------------
    def get_queryset(self, request):
        return access.assets_visible(request.user, super().get_queryset(request))

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return request.user.is_staff and bool(access.scope_for(request.user).write or
                                              access.scope_for(request.user).is_admin)

    def has_change_permission(self, request, obj=None):
        if not request.user.is_staff:
            return False
        return access.can_write_asset(request.user, obj) if obj else self.has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        # Assets are retired, not deleted; only administrators may purge a record entered by mistake.
        return access.scope_for(request.user).is_admin

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            kwargs["queryset"] = access.municipalities_writable(request.user)
        elif db_field.name == "operator":
            kwargs["queryset"] = Municipality.objects.all()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("kind")
            # An operator who does not write for the owner may edit the asset but never hand it elsewhere.
            if not access.scope_for(request.user).can_write(obj.owner_id, obj.source):
                fields.append("owner")
        return fields

    def get_inlines(self, request, obj):
        kind = obj.kind if obj else request.GET.get("kind")
        return [INLINES[kind]] if kind in INLINES else []

    def add_view(self, request, form_url="", extra_context=None):
        if request.method == "GET" and request.GET.get("kind") not in KINDS:
            return render(request, "admin/assets/asset/choose_kind.html", {
                **self.admin_site.each_context(request), "opts": self.model._meta,
                "kinds": [(k, Kind(k).label) for k in KINDS], "title": _("Choose the kind of asset"),
            })
        return super().add_view(request, form_url, extra_context)

    def get_changeform_initial_data(self, request):
        data = super().get_changeform_initial_data(request)
        if request.GET.get("kind") in KINDS:
            data["kind"] = request.GET["kind"]
        return data

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        class ValidatedForm(form):
            def clean(self):
                cleaned = super().clean()
                kind = cleaned.get("kind") or (obj.kind if obj else None)
                geom = cleaned.get("geom")
                if kind and geom is not None:
                    try:
                        cleaned["geom"], srid = to_storage(geom, allowed_types=spec_for(kind).geom_types)
                        if cleaned.get("owner") is not None:
                            check_in_area(cleaned["geom"], cleaned["owner"].boundary, source_srid=srid,
                                          owner_name=str(cleaned["owner"]))
                    except ValidationError as exc:
                        self.add_error("geom", exc.message_dict["geom"])
                owner = cleaned.get("owner")
                if owner is not None:
                    try:
                        if obj is not None:
                            access.ensure_can_change_owner(request.user, old_owner=obj.owner_id,
                                                           new_owner=owner.code, source=obj.source)
                        access.ensure_can_write(request.user, owner_code=owner.code,
                                                source=cleaned.get("source", obj.source if obj else None))
                    except PermissionDenied as exc:
                        self.add_error("owner", str(exc))
                return cleaned

        return ValidatedForm

    # ---- writes with history ---------------------------------------------------------------------
    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST":
            request._asset_before = services.asset_snapshot(obj)
        return obj

    def save_model(self, request, obj, form, change):
        if not change:
            obj.global_id = format_global_id(obj.owner_id, obj.kind, services.allocate_serials(obj.owner_id, obj.kind))
        else:
            obj.version += 1
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        actor = Actor(request.user, Via.ADMIN)
        if change:
            before = getattr(request, "_asset_before", {})
            after = services.asset_snapshot(obj)
            for snap in (before, after):
                snap.pop("version", None)
            if record_change(actor=actor, obj=obj, action=Action.UPDATE, before=before, after=after) is None:
                # Nothing really changed: keep the version as it was.
                Asset.objects.filter(pk=obj.pk).update(version=obj.version - 1)
        else:
            record_change(actor=actor, obj=obj, action=Action.CREATE, after=services.asset_snapshot(obj))

    def delete_model(self, request, obj):
        record_change(actor=Actor(request.user, Via.ADMIN), obj=obj, action=Action.DELETE,
                      before=services.asset_snapshot(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.action(description=_("Retire selected assets"))
    def retire_selected(self, request, queryset):
        actor = Actor(request.user, Via.ADMIN)
        done = 0
        for asset in access.assets_writable(request.user, queryset):
            services.asset_retire(actor=actor, asset=asset)
            done += 1
        skipped = queryset.count() - done
        self.message_user(request, _("%(done)d retired, %(skipped)d not yours to change")
                          % {"done": done, "skipped": skipped}, messages.SUCCESS if not skipped else messages.WARNING)

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        records = selectors.asset_history(principal=request.user, asset=obj)[:200]
        return TemplateResponse(request, "admin/assets/asset/change_history.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "object": obj,
            "records": records, "title": _("Change history: %s") % obj,
        })
