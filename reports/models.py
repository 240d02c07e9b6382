import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from assets.models import Municipality
from clusters.models import EngineRun
from core.jobs import Job

__all__ = ["Plan"]


def plan_pdf_path(instance, filename: str) -> str:
    # Random: a plan's PDF cannot be found by counting plan ids; it is served only through the plans API.
    return f"plans/{uuid.uuid4().hex}.pdf"


class Plan(Job):
    """A multi-year maintenance plan drawn from one engine run, its scenarios, and the PDF that prints it."""

    class Strategy(models.TextChoices):
        PREVENTIVE = "preventive", _("Preventive maintenance (予防保全)")
        CORRECTIVE = "corrective", _("Corrective maintenance (事後保全)")

    class BudgetMode(models.TextChoices):
        POOLED = "pooled", _("Pooled for the region")
        PER_MUNICIPALITY = "per_municipality", _("Per municipality, by cost shares")

    run = models.ForeignKey(EngineRun, verbose_name=_("engine run"), on_delete=models.CASCADE, related_name="plans")
    municipality = models.ForeignKey(Municipality, verbose_name=_("municipality"), null=True, blank=True,
                                     on_delete=models.CASCADE, help_text=_("empty: the whole region"))
    horizon_years = models.PositiveSmallIntegerField(_("horizon (years)"), default=10)
    strategy = models.CharField(_("strategy"), max_length=12, choices=Strategy.choices, default=Strategy.PREVENTIVE)
    budget_mode = models.CharField(_("budget"), max_length=20, choices=BudgetMode.choices, default=BudgetMode.POOLED)
    budget_per_year = models.FloatField(_("budget per year (yen)"), null=True, blank=True,
                                        help_text=_("empty: the levelled need"))
    budget_by_municipality = models.JSONField(_("budget per year by municipality (yen)"), default=dict, blank=True)
    levels = models.JSONField(_("budget levels compared"), default=list, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    pdf = models.FileField(_("PDF"), upload_to=plan_pdf_path, blank=True)

    lock_kind = 4702
    task = "reports.tasks.plan_execute_task"
    label = _("Plan")
    dead_message = _("failed: the process making it stopped (killed or crashed); start a new plan")

    class Meta(Job.Meta):
        verbose_name = _("maintenance plan")
        verbose_name_plural = _("maintenance plans")

    def __str__(self) -> str:
        where = self.municipality_id or self.run.region.slug
        return f"plan #{self.pk} {where} (run #{self.run_id})"
