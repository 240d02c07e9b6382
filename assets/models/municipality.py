from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from assets.codes import validate_lg_code

__all__ = ["Municipality", "MunicipalityKind", "Region"]


class MunicipalityKind(models.TextChoices):
    PREFECTURE = "prefecture", _("Prefecture")
    DESIGNATED_CITY = "designated_city", _("Designated city")
    WARD = "ward", _("Ward")
    CITY = "city", _("City")
    TOWN = "town", _("Town")
    VILLAGE = "village", _("Village")


class Municipality(models.Model):
    """A local public body (prefectures included: they own 流域下水道 trunks and prefectural roads)."""

    code = models.CharField(
        _("municipal code"), max_length=6, primary_key=True, validators=[validate_lg_code],
        help_text=_("6-digit 全国地方公共団体コード with check digit"),
    )
    code5 = models.CharField(_("5-digit code"), max_length=5, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=MunicipalityKind.choices)
    name = models.CharField(_("name"), max_length=64)
    name_kana = models.CharField(_("name (kana)"), max_length=128, blank=True)
    prefecture = models.CharField(_("prefecture"), max_length=8)
    boundary = models.MultiPolygonField(_("boundary"), srid=6668, null=True, blank=True)
    hall_location = models.PointField(_("town hall"), srid=6668, null=True, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(_("population year"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True, help_text=_("set when merged away"))
    successor = models.ForeignKey(
        "self", verbose_name=_("successor"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="predecessors",
    )

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="municipality_validity_ordered",
                violation_error_message=_("valid to must not be before valid from"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        self.code5 = self.code[:5]
        super().save(*args, **kwargs)


class Region(models.Model):
    """A 広域 partnership: municipalities (possibly across prefectures) that pool their assets."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    lead = models.ForeignKey(
        Municipality, verbose_name=_("lead body"), on_delete=models.PROTECT, related_name="led_regions"
    )
    members = models.ManyToManyField(Municipality, verbose_name=_("members"), related_name="regions")
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name
