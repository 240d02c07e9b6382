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
                                   related_name="+", db_index=False)
    grade = models.ForeignKey(Grade, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("grade"),
                              db_index=False)
    inspected_on = models.DateField(_("last inspected"), null=True, blank=True)
    score = models.FloatField(_("normalized condition"), null=True, blank=True)
    next_due_on = models.DateField(_("next inspection due"), null=True, blank=True)
    action_due_on = models.DateField(_("measures due"), null=True, blank=True)
    # 改善指導の目安 (浄化槽 不適正, 浄化槽法12条): shown, never a legal deadline of the plan.
    guidance_due_on = models.DateField(_("improvement guidance due (not a legal deadline)"), null=True, blank=True)
    # Septic tanks: 保守点検 (浄化槽法施行規則6条) and 清掃 (同7条) due by the septic_maintenance scheme's table.
    maintenance_due_on = models.DateField(_("maintenance check due"), null=True, blank=True)
    cleaning_due_on = models.DateField(_("cleaning due"), null=True, blank=True)
    # The completed measure (補修, 更新 …) after the latest inspection that cleared the measures deadline.
    treated_by = models.ForeignKey("inspections.Measure", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("treated by"), db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("asset condition")
        verbose_name_plural = _("asset conditions")
        # A new asset has only its first due date (never inspected, nothing treated, septic dates only for
        # tanks): the other columns are indexed where given, so a ledger import of 100,000 pipes writes two
        # index entries per row, not eight. Which query uses each index:
        # - next_due_on, action_due_on, maintenance_due_on, cleaning_due_on: the work list (selectors.work_list,
        #   `next_due_on <= day` and the like: a date compared, so never empty). A new sewer pipe mostly has no
        #   next_due_on: only pipes "腐食するおそれが大きい" have a legal cycle (2015 下水道法 維持修繕基準);
        # - grade, inspection, treated_by: SET_NULL when a grade, an inspection or a measure is deleted.
        indexes = [
            models.Index(fields=["next_due_on"], name="condition_next_due_idx",
                         condition=models.Q(next_due_on__isnull=False)),
            models.Index(fields=["action_due_on"], name="condition_action_due_idx",
                         condition=models.Q(action_due_on__isnull=False)),
            models.Index(fields=["maintenance_due_on"], name="condition_maint_due_idx",
                         condition=models.Q(maintenance_due_on__isnull=False)),
            models.Index(fields=["cleaning_due_on"], name="condition_cleaning_due_idx",
                         condition=models.Q(cleaning_due_on__isnull=False)),
            models.Index(fields=["grade"], name="condition_grade_idx", condition=models.Q(grade__isnull=False)),
            models.Index(fields=["inspection"], name="condition_inspection_idx",
                         condition=models.Q(inspection__isnull=False)),
            models.Index(fields=["treated_by"], name="condition_treated_by_idx",
                         condition=models.Q(treated_by__isnull=False)),
        ]
