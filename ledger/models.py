import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from assets.models import ApiToken, Kind, Municipality
from core.jobs import Job

__all__ = ["LedgerImport", "LedgerMapping"]


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


def ledger_import_path(instance, filename: str) -> str:
    # Random: an uploaded ledger cannot be found by guessing; the person's file name is kept in `filename`.
    return f"ledger-imports/{uuid.uuid4().hex}"


class LedgerImport(Job):
    """One ledger import (file or records, checked only or loaded) and its report, whoever sent it and however:
    small ones run in the request, large ones (over settings.LEDGER_ASYNC_ROWS records) as a background job.
    Every import is kept, so a municipality can see who loaded what, when, and what it said."""

    municipality = models.ForeignKey(Municipality, verbose_name=_("municipality"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="ledger_imports",
                                     help_text=_("empty: the file names its municipalities (団体コード)"))
    token = models.ForeignKey(ApiToken, verbose_name=_("API token"), null=True, blank=True,
                              on_delete=models.SET_NULL)
    via = models.CharField(_("via"), max_length=16)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    source = models.CharField(_("ledger source"), max_length=40, default="ledger")
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    file = models.FileField(_("file"), upload_to=ledger_import_path, blank=True)
    srid = models.PositiveIntegerField(_("coordinates (EPSG)"), null=True, blank=True)
    dry_run = models.BooleanField(_("check only"), default=False)
    mapping = models.JSONField(_("columns and values chosen"), default=dict, blank=True)
    # Municipalities the file's records belong to (a multi-municipality file lists each; listed per municipality).
    owners = models.JSONField(_("municipalities"), default=list, blank=True)
    rows = models.PositiveIntegerField(_("records"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    warning_count = models.PositiveIntegerField(_("warnings"), default=0)
    result = models.JSONField(_("report"), default=dict, blank=True)  # LedgerReport.to_dict()

    lock_kind = 4703
    task = "ledger.tasks.ledger_import_task"
    label = _("Ledger import")
    dead_message = _("failed: the process importing it stopped (killed or crashed); send the file again")

    class Meta(Job.Meta):
        verbose_name = _("ledger import")
        verbose_name_plural = _("ledger imports")

    def __str__(self) -> str:
        return f"ledger import #{self.pk} {self.municipality_id or '-'} {self.kind} {self.filename}"
