from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from assets.models import Asset, Region
from core.jobs import Job

__all__ = ["ACTIONS", "AssetScore", "Cluster", "EngineRun", "ReferenceRoad", "RegionParams", "WORK_TYPES"]

# Stored as small integers so a million scores go to the database as one binary COPY.
ACTIONS = ("monitor", "repair", "renew")
WORK_TYPES = ("road", "sewer", "bridge", "septic", "road_sewer")


class RegionParams(models.Model):
    """A region's own engine parameters; missing keys fall back to the documented defaults."""

    region = models.OneToOneField(Region, on_delete=models.CASCADE, primary_key=True, related_name="engine_params")
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("region engine parameters")
        verbose_name_plural = _("region engine parameters")


class EngineRun(Job):
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="runs")
    params = models.JSONField(_("parameters (frozen)"))
    data_timestamp = models.DateTimeField(_("data as of"), null=True, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)

    lock_kind = 4701
    task = "clusters.tasks.run_execute_task"
    label = _("Engine run")
    dead_message = _("failed: the process running it stopped (killed or crashed); start a new run")

    class Meta(Job.Meta):
        verbose_name = _("engine run")
        verbose_name_plural = _("engine runs")

    def __str__(self) -> str:
        return f"#{self.pk} {self.region.name} {self.get_status_display()}"


class Cluster(models.Model):
    """A lot a contractor would take as one bundled contract, whoever owns its members."""

    run = models.ForeignKey(EngineRun, on_delete=models.CASCADE, related_name="clusters")
    key = models.CharField(max_length=40)  # the clustering's own label: for the engine, never shown
    # What people call the lot (clusters.labels.lot_name): work type, number within the run and work type by rank,
    # municipalities — 下水道-012（八潮市・草加市）.
    seq = models.PositiveIntegerField(_("number"), null=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, db_index=True)
    work_type = models.CharField(_("work type"), max_length=16)
    member_count = models.PositiveIntegerField(_("members"))
    municipality_count = models.PositiveSmallIntegerField(_("municipalities"))
    cost_shares = models.JSONField(_("cost shares by owner (yen)"), default=dict)
    action_mix = models.JSONField(_("actions"), default=dict)
    drivers = models.JSONField(_("risk removed by component"), default=dict)
    cost_members = models.FloatField(_("works cost (yen)"))
    mobilization = models.FloatField(_("mobilization (yen)"))
    dig_once_saving = models.FloatField(_("dig-once saving (yen)"))
    bundling_saving = models.FloatField(_("saving from bundling (yen)"))
    total_cost = models.FloatField(_("total cost (yen)"))
    # 設置者負担（参考）: the owners' part of 個人設置型 septic tanks' works, beside the municipality's 補助 share in
    # cost_members/total_cost; never in a plan's totals.
    owner_cost = models.FloatField(_("owners' share (reference)"), default=0)
    risk_removed = models.FloatField(_("risk removed"))
    risk_per_myen = models.FloatField(_("risk removed per million yen"))
    geom = models.MultiPolygonField(_("outline"), srid=6668, null=True)
    consolidation = models.JSONField(_("consolidation (集約・再編)"), default=dict, blank=True)
    # Year by year if left alone (risk, cost of acting): what the multi-year plan works from.
    outlook = models.JSONField(_("outlook"), default=dict, blank=True)
    # A lot of one work alone: the clustering distance it had nothing else within, and the other single-work lots
    # of its type within a contractor's reach that could be let with it (clusters.engine.lots.joinable_singles).
    bundling = models.JSONField(_("bundling"), default=dict, blank=True)

    class Meta:
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")
        ordering = ["run", "rank"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="cluster_run_key")]

    def __str__(self) -> str:
        return self.name or f"#{self.rank}"


class AssetScore(models.Model):
    """One asset's scores in one run, with the consequence components that explain them."""

    # The (run, asset) unique index serves run lookups; a separate run index would only slow the COPY.
    run = models.ForeignKey(EngineRun, on_delete=models.CASCADE, related_name="scores", db_index=False)
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="scores")
    cluster = models.ForeignKey(Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    expected_state = models.FloatField()
    lof = models.FloatField(_("likelihood of failure"))
    dlof = models.FloatField(_("likelihood removed by the action"))
    cof = models.FloatField(_("consequence"))
    risk = models.FloatField(_("risk"))
    action = models.PositiveSmallIntegerField(_("action"), choices=list(enumerate(ACTIONS)))
    cost = models.FloatField(_("cost (yen)"))
    risk_removed = models.FloatField(_("risk removed"))
    work_type = models.PositiveSmallIntegerField(choices=list(enumerate(WORK_TYPES)))
    dig_once_saving = models.FloatField(default=0)
    c_traffic = models.FloatField(default=0)
    c_emergency_route = models.FloatField(default=0)
    c_served = models.FloatField(default=0)
    c_depth = models.FloatField(default=0)
    c_road_above = models.FloatField(default=0)
    c_important_facility = models.FloatField(default=0)
    c_detour = models.FloatField(default=0)
    # Which attributes the engine estimated from documented defaults because the ledger left them empty: a bitmask
    # over clusters.engine.defaults.FIELDS (0: none). Shown as 既定値で推計 with the fields.
    defaulted = models.PositiveSmallIntegerField(_("estimated from defaults"), default=0, db_default=0)

    @property
    def defaulted_fields(self) -> list[str]:
        from clusters.engine.defaults import fields_of

        return fields_of(self.defaulted)

    class Meta:
        verbose_name = _("asset score")
        verbose_name_plural = _("asset scores")
        constraints = [models.UniqueConstraint(fields=["run", "asset"], name="score_run_asset")]


class ReferenceRoad(models.Model):
    """A road the registry does not hold — 国道 and 都道府県道 of administrators outside the region — kept so the
    engine's detour search sees the whole network (domain.md §7, bridge keep or remove). Reference data for the
    engine, not an asset: no owner among the members, no inspections, no history; each row says where it came
    from. Loaded by `load_reference_roads` or written by the demo generator."""

    class RoadClass(models.TextChoices):
        NATIONAL = "national", _("National road (国道)")
        PREFECTURAL = "prefectural", _("Prefectural road (都道府県道)")
        MUNICIPAL = "municipal", _("Municipal road (市町村道)")
        OTHER = "other", _("Other road (その他)")

    geom = models.LineStringField(_("centre line"), srid=6668)
    road_class = models.CharField(_("road class"), max_length=16, choices=RoadClass.choices)
    name = models.CharField(_("name"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=200, db_index=True,
                              help_text=_("e.g. 国土数値情報 道路データ (国土交通省), or demo generator"))
    source_date = models.DateField(_("source date"), null=True, blank=True)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reference road")
        verbose_name_plural = _("reference roads")

    def __str__(self) -> str:
        return self.name or self.get_road_class_display()
