import datetime
import functools
import hashlib
import secrets

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assets.models.municipality import Municipality, Region

__all__ = ["ApiToken", "Membership", "Role"]


class Role(models.TextChoices):
    ENGINEER = "engineer", _("Municipal engineer")
    COORDINATOR = "coordinator", _("Regional coordinator")
    VIEWER = "viewer", _("Viewer")


class Membership(models.Model):
    """What one person does for one body. Rows, not per-object permissions: scoping is by organisation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    municipality = models.ForeignKey(Municipality, verbose_name=_("municipality"), null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="memberships")
    region = models.ForeignKey(Region, verbose_name=_("region"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(role="engineer", municipality__isnull=False, region__isnull=True)
                    | models.Q(role="coordinator", municipality__isnull=True, region__isnull=False)
                    | models.Q(role="viewer", municipality__isnull=False, region__isnull=True)
                    | models.Q(role="viewer", municipality__isnull=True, region__isnull=False)
                ),
                name="membership_role_scope",
                violation_error_message=_(
                    "An engineer belongs to a municipality, a coordinator to a region, "
                    "a viewer to one municipality or one region"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_role_display()} {self.municipality or self.region}"


# How exactly ApiToken.last_used_at follows use (it says when a token was last used, for revoking stale ones).
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class ApiToken(models.Model):
    """A ledger system's key: one municipality, one ledger source. Only a hash is kept."""

    name = models.CharField(_("name"), max_length=100)
    municipality = models.ForeignKey(Municipality, verbose_name=_("municipality"), on_delete=models.CASCADE,
                                     related_name="api_tokens")
    source = models.CharField(_("ledger source"), max_length=32)
    can_write = models.BooleanField(_("may write"), default=True)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.municipality_id}/{self.source})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, name: str, municipality: Municipality, source: str, can_write: bool = True,
              created_by=None) -> tuple["ApiToken", str]:
        """Create a token and return it with the plain key, which is never stored and shown once."""
        prefix = secrets.token_hex(4)
        key = f"gm_{prefix}_{secrets.token_urlsafe(32)}"
        token = cls.objects.create(name=name, municipality=municipality, source=source, can_write=can_write,
                                   prefix=prefix, key_hash=cls.hash_key(key), created_by=created_by)
        return token, key

    @classmethod
    @functools.cache
    def _lookup_sql(cls) -> str:
        """A live token by prefix, with the regions its municipality belongs to or leads: the token's scope
        (assets.access) then costs no query of its own, so a read by token is this query and the read's. Written
        once per process: composing it through the ORM on every request cost more than running it."""
        from django.db import connection

        q = connection.ops.quote_name
        members, regions = Region.members.through._meta, Region._meta
        return (f"SELECT t.*, ARRAY(SELECT m.{q('region_id')} FROM {q(members.db_table)} m "
                f"WHERE m.{q('municipality_id')} = t.{q('municipality_id')} UNION SELECT r.{q('id')} "
                f"FROM {q(regions.db_table)} r WHERE r.{q('lead_id')} = t.{q('municipality_id')}) AS region_id_list "
                f"FROM {q(cls._meta.db_table)} t WHERE t.{q('prefix')} = %s AND t.{q('revoked_at')} IS NULL")

    @classmethod
    def authenticate(cls, key: str) -> "ApiToken | None":
        parts = key.split("_")
        if len(parts) < 3 or parts[0] != "gm":
            return None
        token = next(iter(cls.objects.raw(cls._lookup_sql(), [parts[1]])), None)
        if token is None or not secrets.compare_digest(token.key_hash, cls.hash_key(key)):
            return None
        token.region_ids = frozenset(token.region_id_list)
        now = timezone.now()
        # At most once a minute: a ledger system's burst of reads costs no write (and commit) per request.
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])

    @property
    def is_authenticated(self) -> bool:
        return self.revoked_at is None
