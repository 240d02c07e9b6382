from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.gis import admin as gis_admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from assets import access, selectors, services
from assets.admin.widgets import LocalOSMWidget
from assets.history import Actor
from assets.kinds import KINDS
from assets.models import (
    Asset,
    AssetStatus,
    Bridge,
    Kind,
    Manhole,
    Municipality,
    RoadSegment,
    RoadStructure,
    SepticTank,
    SewerPipe,
    Via,
)

# What the add form hands to services.asset_create (the rest of the form is read-only or the detail inline).
CREATE_FIELDS = ("owner", "operator", "kind", "geom", "source", "external_id", "name", "built_fiscal_year",
                 "built_year_text", "status", "serves_important_facility", "important_facility_note")


class Refused(Exception):
    """The services refused what the form let through: their errors go back onto the same form."""

    def __init__(self, exc: ValidationError | PermissionDenied):
        super().__init__(str(exc))
        if isinstance(exc, PermissionDenied):
            # Every write refusal the form can provoke is about whom the asset belongs to.
            self.errors = {"owner": [str(exc)]}
        else:
            self.errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _refused(request, *, detail: bool) -> dict[str, list[str]]:
    """The services' errors of the refused first try of this request: the detail's (prefix "detail.") or the
    asset's."""
    errors = getattr(request, "_asset_refused", None) or {}
    return {k.removeprefix("detail."): v for k, v in errors.items() if k.startswith("detail.") == detail}


def _add_errors(form, errors: dict[str, list[str]]) -> None:
    for name, msgs in errors.items():
        if name in form.fields:
            form.add_error(name, msgs)
        else:
            form.add_error(None, [m if name == "__all__" else f"{name}: {m}" for m in msgs])


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

        def get_formset(self, request, obj=None, **kwargs):
            formset = super().get_formset(request, obj, **kwargs)
            refused = _refused(request, detail=True)
            if not refused:
                return formset

            class RefusedFormSet(formset):
                def clean(self):
                    super().clean()
                    if self.forms:
                        _add_errors(self.forms[0], refused)

            return RefusedFormSet

    Inline.__name__ = f"{model_cls.__name__}Inline"
    return Inline


INLINES = {
    Kind.ROAD_SEGMENT: _detail_inline(RoadSegment),
    Kind.BRIDGE: _detail_inline(Bridge),
    Kind.SEWER_PIPE: _detail_inline(SewerPipe),
    Kind.MANHOLE: _detail_inline(Manhole),
    Kind.SEPTIC_TANK: _detail_inline(SepticTank),
}
INLINES.update(dict.fromkeys((Kind.TUNNEL, Kind.SHED_CULVERT, Kind.PED_OVERPASS, Kind.GANTRY_SIGN),
                             _detail_inline(RoadStructure)))


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
    # retired_on is set by retiring (the action, the status "removed", a completed 撤去), never typed in.
    readonly_fields = ("global_id", "retired_on", "version", "source_srid", "created_at", "updated_at")
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

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        # The detail inline is the one of the kind chosen before the form opened: the kind stays that one.
        if db_field.name == "kind" and request.GET.get("kind") in KINDS:
            kwargs["choices"] = [(request.GET["kind"], Kind(request.GET["kind"]).label)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # The ledger source decides which machine client may write the record: it is fixed once created.
            fields += ["kind", "source"]
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
        refused = _refused(request, detail=False)
        if not refused:
            return form

        class RefusedForm(form):
            def clean(self):
                cleaned = super().clean()
                _add_errors(self, refused)
                return cleaned

        return RefusedForm

    # ---- writes: through assets.services, like every other entry point ------------------------------
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Refused as exc:
            # Nothing was written (the view's transaction rolled back): show the form again, as posted, with
            # the services' reasons on its fields.
            request._asset_refused = exc.errors
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        """Written in save_related, where the kind's detail (the inline) is at hand, by one service call."""

    def save_related(self, request, form, formsets, change):
        actor = Actor(request.user, Via.ADMIN)
        detail_form = next((f for fs in formsets for f in fs.forms), None)
        detail = {} if detail_form is None else {
            k: v for k, v in detail_form.cleaned_data.items()
            if k not in ("asset", "id", "DELETE") and (not change or k in detail_form.changed_data)}
        try:
            if change:
                asset = self._update(actor, form, detail)
            else:
                asset = services.asset_create(actor=actor, detail=detail, **{
                    f: form.cleaned_data[f] for f in CREATE_FIELDS if f in form.cleaned_data})
        except (ValidationError, PermissionDenied) as exc:
            raise Refused(exc) from exc
        obj = form.instance
        for f in Asset._meta.concrete_fields:
            setattr(obj, f.attname, getattr(asset, f.attname))
        obj._state.adding = False

    @staticmethod
    def _update(actor: Actor, form, detail: dict) -> Asset:
        data = {f: form.cleaned_data[f] for f in form.changed_data if f in services.CORE_UPDATABLE}
        retire = data.get("status") == AssetStatus.REMOVED
        if retire:
            del data["status"]
        asset = services.asset_update(actor=actor, asset=form.instance, data=data, detail=detail)
        return services.asset_retire(actor=actor, asset=asset) if retire else asset

    def construct_change_message(self, request, form, formsets, add=False):
        # The detail went through the services with the asset, not through the inline's own save.
        return super().construct_change_message(request, form, [], add)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # State derived from the asset (an admin with `deleted_with_asset`, like the condition row) goes with
        # it and needs no right of its own; records of work on it (inspections, measures) still do.
        derived = {str(model._meta.verbose_name) for model, model_admin in self.admin_site._registry.items()
                   if getattr(model_admin, "deleted_with_asset", False)}
        return deleted, counts, perms_needed - derived, protected

    def delete_model(self, request, obj):
        services.asset_delete(actor=Actor(request.user, Via.ADMIN), asset=obj)

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
