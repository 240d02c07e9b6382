from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.utils.translation import gettext_lazy as _

from assets.models import Asset
from inspections.models.record import RecordOfWork

__all__ = ["Effect", "Measure", "MeasureKind"]


class Effect(models.TextChoices):
    RESOLVE = "resolve", _("Resolves the measures deadline")
    RETIRE = "retire", _("Retires the asset")
    INTERIM = "interim", _("Interim (the deadline stays)")


class MeasureKind(models.Model):
    """A kind of measure (措置), loaded from fixtures/catalogue/measure_kinds.json: what it does to the asset's
    condition is data, so a prefecture's own list is a fixture edit, not a code change."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    label = models.CharField(_("label"), max_length=64)
    label_en = models.CharField(_("English label"), max_length=64)
    effect = models.CharField(_("effect"), max_length=16, choices=Effect.choices)
    changes_condition = models.BooleanField(
        _("changes the condition"), default=True,
        help_text=_("inspections before and after it are not a pair for the deterioration estimate"))
    kinds = ArrayField(models.CharField(max_length=16), default=list, blank=True,
                       verbose_name=_("asset kinds"), help_text=_("empty = every kind"))
    aliases = ArrayField(models.CharField(max_length=32), default=list, blank=True, verbose_name=_("aliases"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("measure kind")
        verbose_name_plural = _("measure kinds")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.label

    def applies_to(self, asset_kind: str) -> bool:
        return not self.kinds or asset_kind in self.kinds


class Measure(RecordOfWork):
    """One measure taken on one asset; `cluster` links the measures of a whole lot of an engine run."""

    asset = models.ForeignKey(Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="measures")
    kind = models.ForeignKey(MeasureKind, verbose_name=_("measure"), on_delete=models.PROTECT)
    cluster = models.ForeignKey("clusters.Cluster", verbose_name=_("lot"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="measures")
    started_on = models.DateField(_("started on"))
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    cost_yen = models.BigIntegerField(_("cost (yen)"), null=True, blank=True)
    contractor = models.CharField(_("contractor"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["-started_on", "-id"]
        indexes = [
            models.Index(fields=["asset", "completed_on"], name="measure_asset_done_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(completed_on__isnull=True)
                                   | models.Q(completed_on__gte=models.F("started_on")),
                                   name="measure_completed_after_start"),
            models.CheckConstraint(condition=models.Q(cost_yen__isnull=True) | models.Q(cost_yen__gte=0),
                                   name="measure_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.asset.global_id} {self.kind.label} {self.started_on}"

    @property
    def cost_display(self) -> str:
        return "—" if self.cost_yen is None else f"{self.cost_yen:,}"

    @property
    def is_completed(self) -> bool:
        return self.completed_on is not None
