"""Per-kind attributes. Adding a kind = one model here + one KindSpec in assets.kinds.

A new asset needs only its ledger id, its place and its kind (issue 16): every other attribute may be unknown
and is stored empty (NULL), never guessed here; the engine fills what it needs from documented defaults
(clusters.engine.defaults) and says so per asset. Invalid values are still refused; only absence is allowed."""

from django.contrib.gis.db import models
from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy as _

from assets.models.asset import Asset

__all__ = ["Bridge", "Manhole", "RoadSegment", "RoadStructure", "SepticTank", "SewerPipe", "SewerPlanArea"]

POSITIVE = [MinValueValidator(0)]


class RoadClass(models.TextChoices):
    NATIONAL = "national", _("National road (国道)")
    PREFECTURAL = "prefectural", _("Prefectural road (都道府県道)")
    MUNICIPAL_1 = "municipal_1", _("Municipal road class 1 (市町村道1級)")
    MUNICIPAL_2 = "municipal_2", _("Municipal road class 2 (市町村道2級)")
    MUNICIPAL_OTHER = "municipal_other", _("Other municipal road (その他市町村道)")


class PavementType(models.TextChoices):
    ASPHALT = "asphalt", _("Asphalt")
    CONCRETE = "concrete", _("Concrete")
    BLOCK = "block", _("Interlocking block")
    GRAVEL = "gravel", _("Gravel")
    UNPAVED = "unpaved", _("Unpaved")


class RoadSegment(models.Model):
    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, primary_key=True, related_name="road_segment")
    road_class = models.CharField(_("road class"), max_length=16, choices=RoadClass.choices, null=True, blank=True)
    route_name = models.CharField(_("route name"), max_length=100, blank=True)
    is_emergency_route = models.BooleanField(_("emergency transport road (緊急輸送道路)"), default=False)
    length_m = models.FloatField(_("length (m)"), null=True, blank=True, validators=POSITIVE)
    width_m = models.FloatField(_("width (m)"), null=True, blank=True, validators=POSITIVE)
    pavement_type = models.CharField(_("pavement type"), max_length=16, choices=PavementType.choices,
                                     default=PavementType.ASPHALT)
    traffic_volume = models.PositiveIntegerField(_("traffic volume (vehicles/day)"), null=True, blank=True)

    class Meta:
        verbose_name = _("road segment")
        verbose_name_plural = _("road segments")


class BridgeStructure(models.TextChoices):
    RC = "rc", _("Reinforced concrete")
    PC = "pc", _("Prestressed concrete")
    STEEL = "steel", _("Steel")
    COMPOSITE = "composite", _("Composite")
    BOX_CULVERT = "box_culvert", _("Box culvert")
    OTHER = "other", _("Other")


class Crossing(models.TextChoices):
    RIVER = "river", _("River")
    ROAD = "road", _("Road")
    RAILWAY = "railway", _("Railway")
    CHANNEL = "channel", _("Irrigation channel")
    OTHER = "other", _("Other")


class Bridge(models.Model):
    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, primary_key=True, related_name="bridge")
    length_m = models.FloatField(_("bridge length 橋長 (m)"), null=True, blank=True, validators=POSITIVE)
    width_m = models.FloatField(_("width 幅員 (m)"), null=True, blank=True, validators=POSITIVE)
    deck_area_m2 = models.FloatField(_("deck area (m²)"), null=True, blank=True, validators=POSITIVE)
    structure_type = models.CharField(_("structure type"), max_length=16, choices=BridgeStructure.choices,
                                      null=True, blank=True)
    span_count = models.PositiveSmallIntegerField(_("spans"), default=1)
    crosses = models.CharField(_("crosses"), max_length=16, choices=Crossing.choices, null=True, blank=True)
    crosses_name = models.CharField(_("name of what it crosses"), max_length=100, blank=True)
    detour_length_m = models.FloatField(_("detour length (m)"), null=True, blank=True, validators=POSITIVE)
    route_name = models.CharField(_("route name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("bridge")
        verbose_name_plural = _("bridges")

    def save(self, *args, **kwargs):
        if self.deck_area_m2 is None and self.length_m and self.width_m:
            self.deck_area_m2 = round(self.length_m * self.width_m, 2)
        super().save(*args, **kwargs)


class DrainageSystem(models.TextChoices):
    SANITARY = "sanitary", _("Sanitary (汚水)")
    STORM = "storm", _("Storm (雨水)")
    COMBINED = "combined", _("Combined (合流)")


class PipeMaterial(models.TextChoices):
    RC = "rc", _("Reinforced concrete (RC/HP)")
    PVC = "pvc", _("PVC (塩ビ)")
    CLAY = "clay", _("Vitrified clay (陶管)")
    DUCTILE_IRON = "ductile_iron", _("Ductile iron")
    SHIELD = "shield", _("Shield segment")
    PE = "pe", _("Polyethylene")
    OTHER = "other", _("Other")


class RenewalMethod(models.TextChoices):
    """How a pipe is (to be) renewed: open cut digs a trench under the road, 管更生 lines the old pipe from the
    manholes and digs none. "unknown" leaves it to the engine's default by diameter and depth."""

    OPEN_CUT = "open_cut", _("Open cut (開削・布設替え)")
    REHABILITATION = "rehabilitation", _("Rehabilitation (管更生)")
    UNKNOWN = "unknown", _("Unknown (不明)")


class SewerPipe(models.Model):
    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, primary_key=True, related_name="sewer_pipe")
    drainage_system = models.CharField(_("drainage system 排除方式"), max_length=16, choices=DrainageSystem.choices,
                                       null=True, blank=True)
    material = models.CharField(_("pipe material 管種"), max_length=16, choices=PipeMaterial.choices, null=True,
                                blank=True)
    diameter_mm = models.PositiveIntegerField(_("diameter 管径 (mm)"), null=True, blank=True)
    length_m = models.FloatField(_("length 延長 (m)"), null=True, blank=True, validators=POSITIVE)
    cover_depth_m = models.FloatField(_("cover depth 土被り (m)"), null=True, blank=True, validators=POSITIVE)
    upstream_manhole = models.ForeignKey(
        Asset, verbose_name=_("upstream manhole"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="pipes_out", limit_choices_to={"kind": "manhole"}, db_index=False,
    )
    downstream_manhole = models.ForeignKey(
        Asset, verbose_name=_("downstream manhole"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="pipes_in", limit_choices_to={"kind": "manhole"}, db_index=False,
    )
    is_trunk = models.BooleanField(_("trunk line 幹線"), default=False)
    is_regional = models.BooleanField(_("regional sewer 流域下水道"), default=False)
    is_corrosion_prone = models.BooleanField(_("corrosion-prone 腐食のおそれ"), default=False)
    # The houses a branch serves decide whether renewing it beats 合併処理浄化槽 (domain.md §3.6); empty when the
    # ledger does not say, so the engine knows to estimate instead of reading a zero.
    house_connections = models.PositiveIntegerField(
        _("house connections 取付管数"), null=True, blank=True,
        help_text=_("Number of house connections (取付管) on this pipe; empty when unknown"))
    road_segment = models.ForeignKey(
        Asset, verbose_name=_("road above"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="pipes_below", limit_choices_to={"kind": "road_segment"}, db_index=False,
        help_text=_("A pipe failure collapses this road (the 八潮 lesson)"),
    )
    # A database default too: the generator and the ledger importer write details with COPY / INSERT … SELECT.
    renewal_method = models.CharField(
        _("renewal method 施工方法"), max_length=16, choices=RenewalMethod.choices, default=RenewalMethod.UNKNOWN,
        db_default=RenewalMethod.UNKNOWN,
        help_text=_("Open cut or 管更生; unknown: the engine chooses by diameter and depth"))

    class Meta:
        verbose_name = _("sewer pipe")
        verbose_name_plural = _("sewer pipes")
        # The links to manholes and roads are indexed where given only: a ledger import leaves them empty, and
        # every query by them (the SET_NULL of a retired manhole or road, pipes below a road) names a value.
        indexes = [
            models.Index(fields=["upstream_manhole"], name="sewerpipe_upstream_idx",
                         condition=models.Q(upstream_manhole__isnull=False)),
            models.Index(fields=["downstream_manhole"], name="sewerpipe_downstream_idx",
                         condition=models.Q(downstream_manhole__isnull=False)),
            models.Index(fields=["road_segment"], name="sewerpipe_road_idx",
                         condition=models.Q(road_segment__isnull=False)),
        ]


class Manhole(models.Model):
    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, primary_key=True, related_name="manhole")
    manhole_type = models.CharField(_("type (1号…)"), max_length=16, blank=True)
    depth_m = models.FloatField(_("depth (m)"), null=True, blank=True, validators=POSITIVE)
    cover_type = models.CharField(_("cover type"), max_length=32, blank=True)
    cover_installed_fy = models.SmallIntegerField(_("cover installed (fiscal year)"), null=True, blank=True)
    drainage_system = models.CharField(_("drainage system"), max_length=16, choices=DrainageSystem.choices,
                                       default=DrainageSystem.SANITARY)

    class Meta:
        verbose_name = _("manhole")
        verbose_name_plural = _("manholes")


class SepticTreatment(models.TextChoices):
    COMBINED = "combined", _("Combined treatment (合併処理)")
    SINGLE = "single", _("Single treatment (単独処理)")


class SepticOwnership(models.TextChoices):
    PRIVATE = "private", _("Private")
    MUNICIPAL = "municipal", _("Municipally installed (市町村設置型)")


class SepticTank(models.Model):
    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, primary_key=True, related_name="septic_tank")
    treatment = models.CharField(_("treatment 合併/単独"), max_length=16, choices=SepticTreatment.choices, null=True,
                                 blank=True)
    capacity_persons = models.PositiveSmallIntegerField(_("capacity 人槽"), null=True, blank=True)
    households_served = models.PositiveSmallIntegerField(_("households served"), default=1)
    ownership = models.CharField(_("ownership"), max_length=16, choices=SepticOwnership.choices,
                                 default=SepticOwnership.PRIVATE)
    in_sewer_planning_area = models.BooleanField(_("inside a sewer planning area"), default=False)
    treatment_method = models.CharField(_("treatment method 処理方式"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("septic tank")
        verbose_name_plural = _("septic tanks")


class RoadStructure(models.Model):
    """The detail shared by the road structures 告示426号 names beside bridges — トンネル, シェッド・大型カルバート,
    横断歩道橋, 門型標識等: graded Ⅰ–Ⅳ on the same 5-year cycle, described in the 道路台帳 by what the road needs to
    know (延長, 幅員, the route). One table for the four: what differs between them is the 点検要領, not the ledger."""

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, primary_key=True, related_name="road_structure")
    length_m = models.FloatField(_("length 延長 (m)"), null=True, blank=True, validators=POSITIVE,
                                 help_text=_("Tunnel or culvert length, overpass or gantry span"))
    width_m = models.FloatField(_("width 幅員 (m)"), null=True, blank=True, validators=POSITIVE)
    height_m = models.FloatField(_("clearance height 建築限界高 (m)"), null=True, blank=True, validators=POSITIVE)
    structure_form = models.CharField(_("structure form 構造形式"), max_length=64, blank=True,
                                      help_text=_("e.g. NATM, 矢板工法, RCボックス, 鋼製門型"))
    route_name = models.CharField(_("route name"), max_length=100, blank=True)
    is_emergency_route = models.BooleanField(_("emergency transport road (緊急輸送道路)"), default=False)
    traffic_volume = models.PositiveIntegerField(_("traffic volume (vehicles/day)"), null=True, blank=True)

    class Meta:
        verbose_name = _("road structure")
        verbose_name_plural = _("road structures")


class SewerPlanArea(models.Model):
    """A 下水道計画区域 (事業計画区域) as a polygon layer. A septic tank inside one — or flagged
    in_sewer_planning_area — is a connection case (下水道法 第10条 接続義務, 接続指導), never a conversion."""

    municipality = models.ForeignKey("assets.Municipality", on_delete=models.PROTECT, related_name="sewer_plan_areas",
                                     verbose_name=_("municipality"))
    name = models.CharField(_("name"), max_length=128, blank=True)
    geom = models.MultiPolygonField(_("area"), srid=6668)
    source = models.CharField(_("source"), max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sewer planning area")
        verbose_name_plural = _("sewer planning areas")

    def __str__(self) -> str:
        return self.name or f"{self.municipality_id} #{self.pk}"
