from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.gis.db import models
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["ChangeRecord", "Via"]


class Via(models.TextChoices):
    ADMIN = "admin", _("Admin")
    UI = "ui", _("Web UI")
    API = "api", _("API")
    IMPORT = "import", _("Import")
    TASK = "task", _("Background task")
    SYSTEM = "system", _("System")


class Action(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    RETIRE = "retire", _("Retired")
    DELETE = "delete", _("Deleted")


class ChangeRecord(models.Model):
    """Who changed what, when, through which entry point, with the values before and after."""

    time = models.DateTimeField(_("time"), default=timezone.now)
    # Indexed where given only (change_user_idx): imports by the system or an API token name no user.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
                             on_delete=models.SET_NULL, db_index=False)
    # Kept as text too so the record survives the user's deletion and names API tokens.
    actor_name = models.CharField(_("actor"), max_length=150)
    via = models.CharField(_("via"), max_length=8, choices=Via.choices)
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    # No index of its own: change_object_time_idx and change_feed_idx both begin with it.
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, db_index=False,
                                     verbose_name=_("record type"))
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(_("object"), max_length=200)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True)
    request_id = models.UUIDField(null=True, blank=True)
    # The writing transaction's id, set by the database: the change feed orders by (txid, id) and serves only
    # transactions older than every one still running, so a late commit can never slip behind a cursor.
    txid = models.BigIntegerField(db_default=RawSQL("pg_current_xact_id()::text::bigint", []), editable=False)

    class Meta:
        verbose_name = _("change record")
        verbose_name_plural = _("change records")
        # Recording order: the identity is given as rows are written (time is when their transaction began).
        ordering = ["-id"]
        # Which query uses each index (a ledger import writes one row per asset, into every index):
        # - change_object_time_idx: an asset's history (selectors.asset_history, the asset page), and
        #   assets.history.forget_changes;
        # - the primary key: the default ordering (-id), the admin's list;
        # - change_feed_idx: the change feed (ledger/feed.py) by content type, (txid, id);
        # - change_user_idx (partial): SET_NULL when a user is deleted.
        indexes = [
            models.Index(fields=["content_type", "object_id", "time"], name="change_object_time_idx"),
            models.Index(fields=["content_type", "txid", "id"], name="change_feed_idx"),
            models.Index(fields=["user"], name="change_user_idx", condition=models.Q(user__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"

    @property
    def changed_fields(self) -> list[str]:
        keys = set(self.before or {}) | set(self.after or {})
        return sorted(keys)
