from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from assets.models import Asset
from inspections.models.catalogue import Grade

__all__ = ["AssetCondition"]


class AssetCondition(models.Model):
    """Derived from the latest graded inspection and the legal cycle; rebuilt set-based, never hand-edited.
    Kept beside the asset so an inspection does not bump the asset's ledger version."""

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, primary_key=True, related_name="condition")
    inspection = models.ForeignKey("inspections.Inspection", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    grade = models.ForeignKey(Grade, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("grade"))
    inspected_on = models.DateField(_("last inspected"), null=True, blank=True)
    score = models.FloatField(_("normalized condition"), null=True, blank=True)
    next_due_on = models.DateField(_("next inspection due"), null=True, blank=True, db_index=True)
    action_due_on = models.DateField(_("measures due"), null=True, blank=True, db_index=True)
    # 改善指導の目安 (浄化槽 不適正, 浄化槽法12条): shown, never a legal deadline of the plan.
    guidance_due_on = models.DateField(_("improvement guidance due (not a legal deadline)"), null=True, blank=True)
    # Septic tanks: 保守点検 (浄化槽法施行規則6条) and 清掃 (同7条) due by the septic_maintenance scheme's table.
    maintenance_due_on = models.DateField(_("maintenance check due"), null=True, blank=True, db_index=True)
    cleaning_due_on = models.DateField(_("cleaning due"), null=True, blank=True, db_index=True)
    # The completed measure (補修, 更新 …) after the latest inspection that cleared the measures deadline.
    treated_by = models.ForeignKey("inspections.Measure", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("treated by"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("asset condition")
        verbose_name_plural = _("asset conditions")
