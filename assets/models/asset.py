from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from assets.models.municipality import Municipality

__all__ = ["Asset", "AssetSerial", "AssetStatus", "Kind"]


class Kind(models.TextChoices):
    # The value is stable API vocabulary; the two-letter code used in global ids lives in assets.kinds.
    ROAD_SEGMENT = "road_segment", _("Road segment")
    BRIDGE = "bridge", _("Bridge")
    SEWER_PIPE = "sewer_pipe", _("Sewer pipe")
    MANHOLE = "manhole", _("Manhole")
    SEPTIC_TANK = "septic_tank", _("Septic tank")
    # The other road structures 平成26年国土交通省告示第426号 grades Ⅰ–Ⅳ beside bridges (each with its own 定期点検要領).
    TUNNEL = "tunnel", _("Tunnel")
    SHED_CULVERT = "shed_culvert", _("Shed / large culvert")
    PED_OVERPASS = "ped_overpass", _("Pedestrian overpass")
    GANTRY_SIGN = "gantry_sign", _("Gantry sign")


class AssetStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_SERVICE = "in_service", _("In service")
    OUT_OF_SERVICE = "out_of_service", _("Out of service")
    REMOVED = "removed", _("Removed")


class Asset(models.Model):
    """The core every kind shares; kind-specific attributes live in a one-to-one detail row."""

    global_id = models.CharField(
        _("global id"), max_length=32, unique=True, editable=False,
        help_text=_("Stable id embedding the original owner's code, e.g. 112348-SP-000123"),
    )
    # No index of its own (nor its LIKE twin): asset_owner_kind_idx and the unique (owner, source, external_id)
    # both begin with owner_id, so every query by owner uses one of them; a third index only slowed imports.
    owner = models.ForeignKey(
        Municipality, verbose_name=_("owner (管理者)"), on_delete=models.PROTECT, related_name="owned_assets",
        db_index=False,
    )
    # Indexed where given only (asset_operator_idx): most assets have no separate operator.
    operator = models.ForeignKey(
        Municipality, verbose_name=_("operator"), on_delete=models.PROTECT, related_name="operated_assets",
        null=True, blank=True, db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    source = models.CharField(
        _("ledger source"), max_length=32, default="registry",
        help_text=_("Which ledger the record comes from, e.g. gesuido-daicho"),
    )
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    geom = models.GeometryField(_("geometry"), srid=6668)
    source_srid = models.PositiveIntegerField(
        _("source CRS"), null=True, blank=True, help_text=_("EPSG code the geometry was delivered in")
    )
    built_fiscal_year = models.SmallIntegerField(
        _("fiscal year built"), null=True, blank=True,
        validators=[MinValueValidator(1868), MaxValueValidator(2100)],
    )
    built_year_text = models.CharField(
        _("year built (as written)"), max_length=40, blank=True, help_text=_("original text, e.g. 昭和48年度")
    )
    status = models.CharField(_("status"), max_length=16, choices=AssetStatus.choices,
                              default=AssetStatus.IN_SERVICE)
    retired_on = models.DateField(_("retired on"), null=True, blank=True)
    serves_important_facility = models.BooleanField(
        _("serves an important facility"), default=False,
        help_text=_("Shelter, hospital or other 重要施設 depends on it (Noto lesson)"),
    )
    important_facility_note = models.CharField(_("important facility"), max_length=200, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        ordering = ["global_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "source", "external_id"],
                name="asset_unique_external_id_per_owner_source",
                violation_error_message=_("This owner already has an asset with that ledger source and external id"),
            ),
            models.CheckConstraint(
                condition=models.Q(built_fiscal_year__isnull=True)
                | models.Q(built_fiscal_year__gte=1868, built_fiscal_year__lte=2100),
                name="asset_built_fiscal_year_range",
                violation_error_message=_("fiscal year built must be between 1868 and 2100"),
            ),
        ]
        # Which query uses each index (issue 16: every index is paid for by each asset a ledger import writes,
        # so an index no query uses only slows it):
        # - the primary key and the unique global_id (its LIKE twin is dropped by migration 0012: the only
        #   prefix search, selectors.asset_list `q`, is case-insensitive and cannot use it): look-ups, the
        #   default ordering;
        # - the unique (owner, source, external_id): the ledger import's match of file rows to assets, and
        #   ledger/national.py's bridges by (owner, source, national id) (the (source, external_id) index it
        #   used without the owner is dropped);
        # - asset_kind_owner_idx: lists and counts by municipality and kind (selectors.asset_list,
        #   reports/document.py `owner_id = ANY(..) AND kind`), and an administrator's `kind` filter, who sees
        #   every municipality (kind leads, so one index serves both); a query by owner alone uses the unique
        #   (owner, source, external_id), whose first column is the owner;
        # - asset_operator_idx (partial: only assets with an operator): the scope's `owner_id = ANY(..) OR
        #   operator_id = ANY(..)` (clusters/data.py, ledger/feed.py, assets.access) and PROTECT on a
        #   municipality's deletion;
        # - asset_status_idx (partial: only assets not in service): selectors.asset_list's `status` filter for
        #   planned, out-of-service and removed assets; in service is nearly every asset, read in order anyway,
        #   and a new asset (in service) writes no entry;
        # - updated_at: selectors.asset_list `updated_since` (the sync clients' incremental reads);
        # - geom (GiST): bbox filters, tiles, the import's area check.
        indexes = [
            models.Index(fields=["kind", "owner"], name="asset_kind_owner_idx"),
            models.Index(fields=["status"], name="asset_status_idx", condition=~models.Q(status=AssetStatus.IN_SERVICE)),
            models.Index(fields=["operator"], name="asset_operator_idx", condition=models.Q(operator__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.global_id} {self.name}".strip()


class AssetSerial(models.Model):
    """Last serial handed out per (owner, kind): global ids are allocated here, never reused."""

    owner = models.ForeignKey(Municipality, on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    last = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "kind"], name="asset_serial_owner_kind")]
