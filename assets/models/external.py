from django.db import models
from django.utils.translation import gettext_lazy as _

from assets.models.asset import Asset

__all__ = ["ExternalId", "ExternalSystem"]


class ExternalSystem(models.TextChoices):
    # 全国道路施設点検データベース (MLIT; xROAD's bridge API calls the BR-style id `shisetsu_bangou`, domain.md §4.4).
    XROAD = "xroad", _("National road structure inspection database (全国道路施設点検DB)")


class ExternalId(models.Model):
    """An asset's id in another system (a national database), beside its own ledger's external id: a bridge
    kept in a municipal 橋梁台帳 under 'B-012' is 'BR0-112348-00012' in the national database. One id per asset and
    system; an id names one asset."""

    asset = models.ForeignKey(Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="external_ids")
    system = models.CharField(_("system"), max_length=16, choices=ExternalSystem.choices)
    value = models.CharField(_("id in that system"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("id in another system")
        verbose_name_plural = _("ids in other systems")
        constraints = [
            models.UniqueConstraint(fields=["system", "value"], name="external_id_unique_value",
                                    violation_error_message=_("This id is already given to another asset")),
            models.UniqueConstraint(fields=["asset", "system"], name="external_id_one_per_system",
                                    violation_error_message=_("The asset already has an id in this system")),
        ]

    def __str__(self) -> str:
        return f"{self.system}:{self.value}"
