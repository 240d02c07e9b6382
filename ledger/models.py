from django.db import models
from django.utils.translation import gettext_lazy as _

from assets.models import Kind, Municipality

__all__ = ["LedgerMapping"]


class LedgerMapping(models.Model):
    """How one municipality's ledger of one kind names its columns ({ledger header: registry field}, "" to
    ignore one) and its values ({field: {ledger word: registry value}}, e.g. 木橋 → other). Used before the
    built-in header names and vocabularies; saved from the upload page, edited in the admin or through the API."""

    owner = models.ForeignKey(Municipality, verbose_name=_("municipality"), on_delete=models.CASCADE)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    source = models.CharField(_("ledger source"), max_length=40, default="ledger")
    columns = models.JSONField(_("columns (ledger header → registry field)"), default=dict)
    value_mapping = models.JSONField(_("values (field → ledger word → registry value)"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ledger column mapping")
        verbose_name_plural = _("ledger column mappings")
        constraints = [models.UniqueConstraint(fields=["owner", "kind", "source"], name="ledger_mapping_unique")]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.kind} {self.source}"
