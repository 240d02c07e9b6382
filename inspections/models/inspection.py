import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.gis.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from assets.models import Asset
from inspections.models.catalogue import Grade, GradingScheme
from inspections.models.record import RecordOfWork

__all__ = ["Inspection", "InspectionPhoto", "Method"]


class Method(models.TextChoices):
    CLOSE_VISUAL = "近接目視", _("Close visual (近接目視)")
    DRONE = "ドローン", _("Drone")
    TV_CAMERA = "TVカメラ", _("TV camera")
    WALK_THROUGH = "潜行目視", _("Walk-through visual")
    MANHOLE_CAMERA = "管口カメラ", _("Manhole camera")
    MMS = "MMS", _("Mobile mapping (MMS)")
    SURFACE_SURVEY = "路面性状調査", _("Road surface survey")
    VISUAL = "目視", _("Visual")
    STATUTORY = "法定検査", _("Statutory inspection (法定検査)")
    MAINTENANCE = "保守点検", _("Maintenance check")
    CLEANING = "清掃", _("Cleaning")
    OTHER = "その他", _("Other")


class Inspection(RecordOfWork):
    """One inspection (or maintenance record) of one asset in the kind's own scheme, with raw observations
    kept so the grade can be recomputed when a rule changes."""

    asset = models.ForeignKey(Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="inspections")
    scheme = models.ForeignKey(GradingScheme, verbose_name=_("grading scheme"), on_delete=models.PROTECT)
    grade = models.ForeignKey(Grade, verbose_name=_("grade"), on_delete=models.PROTECT)
    grade_input = models.CharField(_("grade as entered"), max_length=32, blank=True)
    inspected_on = models.DateField(_("inspected on"))
    legal_basis = models.CharField(_("legal basis"), max_length=16, blank=True, help_text=_("e.g. 7条 / 11条"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    inspector = models.CharField(_("inspector"), max_length=100, blank=True)
    observations = models.JSONField(_("observations"), default=dict, blank=True)
    # Withdrawn, not deleted: the record stays (with who withdrew it and why) for the history, but no longer
    # drives the asset's condition (inspections.condition skips it). db_default: the generator COPYs rows.
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("withdrawn by"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    withdraw_reason = models.TextField(_("reason for withdrawal"), blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-inspected_on", "-id"]
        indexes = [
            models.Index(fields=["asset", "inspected_on"], name="inspection_asset_date_idx"),
            models.Index(fields=["inspected_on"], name="inspection_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.asset.global_id} {self.inspected_on} {self.grade.label}"


def _stored_name(folder: str, filename: str) -> str:
    # A random name: stored files are never guessable from a date, an asset or what the phone called them.
    ext = PurePosixPath(filename).suffix.lower()[:8]
    ext = ext if ext[1:].isalnum() else ""
    return f"{folder}/{uuid.uuid4().hex}{ext}"


def photo_path(instance, filename: str) -> str:
    return _stored_name("inspections/photos", filename)


def thumbnail_path(instance, filename: str) -> str:
    return _stored_name("inspections/thumbs", filename)


class InspectionPhoto(models.Model):
    """Photos live on disk (MEDIA_ROOT), not in the database; a thumbnail is made on upload. They are served
    only through `inspections.views.photo_file`, which checks that the asset is visible to the requester."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("photo"), upload_to=photo_path)
    thumbnail = models.FileField(_("thumbnail"), upload_to=thumbnail_path)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=40)
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["id"]

    @property
    def url(self) -> str:
        return reverse("photo-file", args=[self.pk])

    @property
    def thumbnail_url(self) -> str:
        return reverse("photo-thumbnail", args=[self.pk])
