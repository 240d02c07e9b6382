"""What the OGC API serves: one collection per asset kind (its detail attributes and its condition), the clusters
of each visible region's latest run, and inspections. Each collection names its properties once — the output
columns, the queryables and the CQL2 field mapping all come from this list, so a filter can only reach the
properties a client sees (never an arbitrary ORM path)."""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from assets import access
from assets.kinds import KINDS
from assets.models import Asset, Kind
from clusters.models import Cluster, EngineRun
from inspections.models import Inspection

JSON_TYPES = {
    "CharField": "string", "TextField": "string", "FloatField": "number", "DecimalField": "number",
    "IntegerField": "integer", "PositiveIntegerField": "integer", "PositiveSmallIntegerField": "integer",
    "SmallIntegerField": "integer", "BigIntegerField": "integer", "PositiveBigIntegerField": "integer",
    "AutoField": "integer", "BigAutoField": "integer", "BooleanField": "boolean", "DateField": "string",
    "DateTimeField": "string", "ForeignKey": "string",
}
FORMATS = {"DateField": "date", "DateTimeField": "date-time"}


@dataclass(frozen=True)
class Prop:
    name: str  # as clients see it
    path: str  # the ORM path it is read (and filtered) through
    type: str  # JSON Schema type
    format: str | None = None
    choices: tuple = ()  # ((code, label), …): a `<name>_label` column beside it, and an enum in the queryables
    title: str = ""


@dataclass(frozen=True)
class Collection:
    id: str
    title: object
    description: object
    base: Callable  # principal -> scoped queryset
    props: tuple[Prop, ...]
    geom_path: str
    id_path: str  # the feature id clients see (global id, or the record's number)
    temporal: str  # the property `datetime` filters
    geometry_types: tuple[str, ...] = field(default=())

    def prop(self, name: str) -> Prop | None:
        return next((p for p in self.props if p.name == name), None)

    @property
    def mapping(self) -> dict[str, str]:
        return {p.name: p.path for p in self.props} | {"geometry": self.geom_path, "geom": self.geom_path}


def _prop(name: str, model, path: str, attr: str | None = None) -> Prop:
    """A property read through `path`, typed from the model field `attr` (default: the last step of the path)."""
    f = model._meta.get_field(attr or path.split("__")[-1])
    kind = f.get_internal_type()
    choices = tuple((str(c), str(lbl)) for c, lbl in f.choices) if f.choices else ()
    return Prop(name, path, JSON_TYPES.get(kind, "string"), FORMATS.get(kind), choices, str(f.verbose_name))


def _asset_props(spec) -> tuple[Prop, ...]:
    from inspections.models import AssetCondition, Grade

    core = [_prop(n, Asset, p) for n, p in (
        ("global_id", "global_id"), ("name", "name"), ("kind", "kind"), ("source", "source"),
        ("external_id", "external_id"), ("status", "status"), ("built_fiscal_year", "built_fiscal_year"),
        ("built_year_text", "built_year_text"), ("serves_important_facility", "serves_important_facility"),
        ("version", "version"), ("updated_at", "updated_at"))]
    core[2:2] = [Prop("owner", "owner_id", "string", title=str(_("owner (管理者)"))),
                 Prop("owner_name", "owner__name", "string"),
                 Prop("operator", "operator_id", "string", title=str(_("operator")))]
    detail = spec.detail_model
    rel = detail._meta.get_field("asset").remote_field.related_name
    details = []
    for f in detail._meta.concrete_fields:
        if f.primary_key:
            continue
        if f.is_relation:  # upstream/downstream manhole, road above: their global ids
            details.append(Prop(f.name, f"{rel}__{f.name}__global_id", "string", title=str(f.verbose_name)))
        else:
            details.append(_prop(f.name, detail, f"{rel}__{f.name}", f.name))
    condition = [
        _prop("grade", Grade, "condition__grade__code", "code"),
        _prop("grade_label", Grade, "condition__grade__label", "label"),
        _prop("last_inspected_on", AssetCondition, "condition__inspected_on", "inspected_on"),
        _prop("next_due_on", AssetCondition, "condition__next_due_on", "next_due_on"),
        _prop("action_due_on", AssetCondition, "condition__action_due_on", "action_due_on"),
    ]
    return tuple(core + details + condition)


def _asset_base(kind):
    return lambda principal: access.assets_visible(principal, Asset.objects.filter(kind=kind))


def _latest_runs(principal):
    """The latest finished run of each region the principal may see: what maps and plans show by default."""
    return (EngineRun.objects.filter(region__in=access.regions_visible(principal), status=EngineRun.Status.DONE)
            .order_by("region_id", "-finished_at", "-id").distinct("region_id").values("id"))


def _cluster_props() -> tuple[Prop, ...]:
    props = [Prop("region", "run__region__slug", "string"), Prop("region_name", "run__region__name", "string"),
             Prop("run", "run_id", "integer"), Prop("run_finished_at", "run__finished_at", "string", "date-time")]
    props += [_prop(n, Cluster, n) for n in (
        "rank", "seq", "name", "work_type", "member_count", "municipality_count", "total_cost", "cost_members",
        "mobilization", "dig_once_saving", "bundling_saving", "risk_removed", "risk_per_myen")]
    return tuple(props)


def _inspection_props() -> tuple[Prop, ...]:
    from inspections.models import Grade, GradingScheme

    return (
        _prop("asset", Asset, "asset__global_id", "global_id"), _prop("asset_kind", Asset, "asset__kind", "kind"),
        _prop("asset_name", Asset, "asset__name", "name"), Prop("owner", "asset__owner_id", "string"),
        _prop("inspected_on", Inspection, "inspected_on"), _prop("scheme", GradingScheme, "scheme__code", "code"),
        _prop("grade", Grade, "grade__code", "code"), _prop("grade_label", Grade, "grade__label", "label"),
        _prop("method", Inspection, "method"), _prop("legal_basis", Inspection, "legal_basis"),
    )


def all_collections() -> dict[str, Collection]:
    """Built once per language (labels follow the request's language); no queries. Read only."""
    from django.utils import translation

    return _built(translation.get_language())


@functools.lru_cache(maxsize=8)
def _built(language: str | None) -> dict[str, Collection]:
    out = {}
    for kind, spec in KINDS.items():
        label = Kind(kind).label
        out[kind] = Collection(
            id=kind, title=label,
            description=_("%(kind)s of the registry with their ledger attributes and current condition "
                          "(latest grade, next inspection due)") % {"kind": label},
            base=_asset_base(kind), props=_asset_props(spec), geom_path="geom", id_path="global_id",
            temporal="updated_at", geometry_types=spec.geom_types)
    out["clusters"] = Collection(
        id="clusters", title=_("Clusters (latest run)"),
        description=_("Works clusters of the latest finished engine run of each region, with rank and costs"),
        base=lambda p: Cluster.objects.filter(run__in=_latest_runs(p)), props=_cluster_props(), geom_path="geom",
        id_path="pk", temporal="run_finished_at", geometry_types=("MultiPolygon",))
    out["inspections"] = Collection(
        id="inspections", title=_("Inspections"),
        description=_("Inspections with their grade, drawn at the inspected asset"),
        base=lambda p: access.of_visible_assets(p, Inspection.objects.all()), props=_inspection_props(),
        geom_path="asset__geom", id_path="pk", temporal="inspected_on")
    return out


def get(collection_id: str) -> Collection | None:
    return all_collections().get(collection_id)


__all__ = ["Collection", "Prop", "all_collections", "get"]
