from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.utils.translation import gettext_lazy as _

__all__ = ["Grade", "GradingScheme", "MemberKind", "RecordType"]


class RecordType(models.TextChoices):
    INSPECTION = "inspection", _("Inspection")
    MAINTENANCE = "maintenance", _("Maintenance record")


class GradingScheme(models.Model):
    """A legal grading scheme, versioned, loaded from fixtures/catalogue: a prefecture's variant is a new row,
    not a code change. Native grades are kept; only the engine maps them to a normalized score."""

    code = models.CharField(_("code"), max_length=32)
    version = models.CharField(_("version"), max_length=16)
    rule = models.CharField(_("rule"), max_length=16, help_text=_("how a grade is derived: direct, pavement, "
                                                                  "sewer, septic or record"))
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    kinds = ArrayField(models.CharField(max_length=16), verbose_name=_("asset kinds"))
    cycle_months = models.PositiveSmallIntegerField(_("legal cycle (months)"), null=True, blank=True)
    cycle_only_if = models.CharField(_("cycle applies only if"), max_length=32, blank=True)
    record_type = models.CharField(_("record type"), max_length=16, choices=RecordType.choices)
    source = models.TextField(_("legal source"), blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    lists = models.JSONField(_("code lists"), default=dict, blank=True)
    is_current = models.BooleanField(_("current version"), default=True)

    class Meta:
        verbose_name = _("grading scheme")
        verbose_name_plural = _("grading schemes")
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="scheme_code_version")]

    def __str__(self) -> str:
        return f"{self.name} ({self.version})"


class Grade(models.Model):
    scheme = models.ForeignKey(GradingScheme, on_delete=models.CASCADE, related_name="grades")
    code = models.CharField(_("code"), max_length=16)
    label = models.CharField(_("label"), max_length=64)
    label_en = models.CharField(_("English label"), max_length=64)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("0 = best state of this scheme"))
    score = models.FloatField(_("normalized condition"), help_text=_("1 = as new; for the engine only"))
    action_months = models.PositiveSmallIntegerField(
        _("act within (months)"), null=True, blank=True, help_text=_("measures due this long after the inspection")
    )
    # Guidance, not a legal deadline (浄化槽 不適正 → 浄化槽法12条 指導・助言): a date to follow up by, never a
    # constraint of the plan.
    guidance_months = models.PositiveSmallIntegerField(
        _("guidance within (months)"), null=True, blank=True,
        help_text=_("improvement guidance expected this long after the inspection; not a legal deadline"))
    aliases = ArrayField(models.CharField(max_length=32), default=list, blank=True, verbose_name=_("aliases"))

    class Meta:
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        ordering = ["scheme", "rank", "code"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="grade_scheme_code")]

    def __str__(self) -> str:
        return self.label


class MemberKind(models.Model):
    """A member (部材) of a structure with its code from the 点検要領 (道路橋: 主桁 Mg, 床版 Ds, 支承本体 Bh …), loaded
    from fixtures/catalogue/bridge_members.json. Whether it is a 主要部材 decides whether its 健全性 speaks for the
    whole structure (道路橋毎の健全性の診断), so it is data a prefecture's variant can change."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64)
    group = models.CharField(_("group"), max_length=16)
    is_main_member = models.BooleanField(_("main member (主要部材)"), default=False)
    kinds = ArrayField(models.CharField(max_length=16), default=list, verbose_name=_("asset kinds"))
    verified = models.BooleanField(_("verified against a source"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("member kind")
        verbose_name_plural = _("member kinds")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
