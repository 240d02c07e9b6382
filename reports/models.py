import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from assets.models import Municipality, Region
from clusters.models import EngineRun
from core.jobs import Job

__all__ = ["Plan", "PlanPin", "PlanProfile"]


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


class PlanPin(models.Model):
    """A coordinator's hand on the plan: this lot in this 年度, or not at all, with the reason. Kept per region,
    across engine runs.

    A lot's key and rank change from run to run, so a pin names the lot by its member assets (`asset_ids`,
    sorted; `members_key` is their digest). A later run's lot is the pinned one when it holds more than half of
    the pinned assets (the one holding the most; see reports.pins.match_pins); otherwise the pin waits, reported
    as not found. A pin is never edited: a new one for the same lot ends the old one (`ended_at`), so the rows
    are the history (and every change is also in assets.ChangeRecord)."""

    class Mode(models.TextChoices):
        PIN = "pin", _("Pinned to a fiscal year")
        EXCLUDE = "exclude", _("Excluded from the plan")

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="plan_pins")
    members_key = models.CharField(max_length=40, db_index=True)
    asset_ids = models.JSONField(_("member assets"))
    label = models.CharField(_("lot"), max_length=200, help_text=_("the lot as it was named when pinned"))
    work_type = models.CharField(_("work type"), max_length=16)
    mode = models.CharField(_("setting"), max_length=8, choices=Mode.choices)
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("set by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("set at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("ended by"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("plan pin")
        verbose_name_plural = _("plan pins")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["region", "members_key"], condition=models.Q(ended_at__isnull=True),
                                    name="planpin_one_active_per_lot"),
            models.CheckConstraint(condition=models.Q(mode="exclude", fiscal_year__isnull=True)
                                   | models.Q(mode="pin", fiscal_year__isnull=False), name="planpin_mode_year"),
        ]

    def __str__(self) -> str:
        what = self.fiscal_year if self.mode == self.Mode.PIN else "excluded"
        return f"pin #{self.pk} {self.label}: {what}"


class PlanProfile(models.Model):
    """What a 個別施設計画 says that the registry does not hold: who writes it (体制), its own text, when it is
    reviewed (PDCA), and the targets for 新技術の活用 and 集約・撤去 that the 行動計画 asks each plan to set.
    One row for the region's own plan (municipality empty, set by the coordinators) and one per municipality;
    a municipality's plan falls back to the region's row for what its own leaves empty."""

    region = models.ForeignKey("assets.Region", verbose_name=_("region"), on_delete=models.CASCADE,
                               related_name="plan_profiles")
    municipality = models.ForeignKey(Municipality, verbose_name=_("municipality"), null=True, blank=True,
                                     on_delete=models.CASCADE, help_text=_("empty: the region's own plan"))
    department = models.CharField(_("responsible department (体制)"), max_length=200, blank=True,
                                  help_text=_("e.g. 建設部道路治水課; printed under 体制 and on the cover"))
    purpose = models.TextField(_("background and purpose (背景・目的)"), blank=True,
                               help_text=_("the plan's own text; empty: the standard text naming the author"))
    review_fiscal_year = models.PositiveSmallIntegerField(
        _("review fiscal year (PDCA)"), null=True, blank=True,
        help_text=_("年度 the plan is next reviewed; empty: five years after its first 年度"))
    new_technology = models.TextField(_("use of new technology (新技術の活用)"), blank=True,
                                      help_text=_("policy text, e.g. 点検支援技術（ドローン・画像解析）の活用"))
    new_technology_target = models.CharField(
        _("new technology target"), max_length=200, blank=True,
        help_text=_("e.g. 令和12年度までに管理する橋梁の約2割で新技術を活用し、費用を約1百万円縮減"))
    consolidation_target = models.CharField(
        _("consolidation and removal target (集約・撤去)"), max_length=200, blank=True,
        help_text=_("e.g. 令和12年度までに利用の少ない橋梁2橋の集約・撤去を検討"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("plan profile (個別施設計画の設定)")
        verbose_name_plural = _("plan profiles (個別施設計画の設定)")
        constraints = [
            models.UniqueConstraint(fields=["region", "municipality"], name="planprofile_region_municipality"),
            models.UniqueConstraint(fields=["region"], condition=models.Q(municipality__isnull=True),
                                    name="planprofile_one_region_row"),
        ]

    def __str__(self) -> str:
        return f"{self.region} / {self.municipality or '—'}"
