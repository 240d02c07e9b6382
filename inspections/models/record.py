from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["RecordOfWork"]


class RecordOfWork(models.Model):
    """What an inspection and a measure both keep beside what was done: notes, who entered it, the version a
    change must name (409 when stale), and when it was stored and changed."""

    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   verbose_name=_("entered by"))
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True
