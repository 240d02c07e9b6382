from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from assets.models import Asset

__all__ = ["Inspection"]


class Inspection(models.Model):
    """One inspection of one asset, graded in the asset kind's own legal scheme (never compared raw)."""

    asset = models.ForeignKey(Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="inspections")
    inspected_on = models.DateField(_("inspected on"))
    scheme = models.CharField(_("grading scheme"), max_length=32)
    grade = models.CharField(_("grade"), max_length=16)
    method = models.CharField(_("method"), max_length=32, blank=True)
    inspector = models.CharField(_("inspector"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    observations = models.JSONField(_("observations"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-inspected_on", "-id"]
        indexes = [models.Index(fields=["asset", "inspected_on"], name="inspection_asset_date_idx")]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.inspected_on} {self.grade}"
