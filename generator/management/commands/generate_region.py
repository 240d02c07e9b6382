import json
import time
from pathlib import Path

import shapely
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError

from assets.codes import prefecture_code
from assets.history import Actor, record_change
from assets.models import Asset, ChangeRecord, MunicipalityKind, Region
from generator.layout import MunicipalityInput, RegionInput, generate
from generator.loader import DEMO_SOURCE, load

REGIONS = Path(settings.BASE_DIR) / "fixtures" / "reference" / "regions.json"


def region_input(region: Region) -> RegionInput:
    spec = next((r for r in json.loads(REGIONS.read_text(encoding="utf-8")) if r["slug"] == region.slug), None)
    gen = (spec or {}).get("generator", {})
    members = []
    for m in region.members.exclude(kind=MunicipalityKind.PREFECTURE).order_by("code"):
        if m.boundary is None or m.hall_location is None:
            raise CommandError(f"{m} has no boundary or town hall; run load_reference_data first")
        members.append(MunicipalityInput(m.code, m.name, shapely.from_wkb(bytes(m.boundary.wkb)),
                                         (m.hall_location.x, m.hall_location.y), m.population or 0))
    if not members:
        raise CommandError(f"Region {region.slug} has no municipalities with boundaries")
    return RegionInput(
        prefecture_code=prefecture_code(members[0].code), members=members,
        rivers=[tuple(r) for r in gen.get("rivers", [])], trunk=gen.get("trunk", False),
        plant_ll=tuple(gen["plant"]) if gen.get("plant") else None, trunk_name=gen.get("trunk_name", ""),
        sewer_start=gen.get("sewer_start", 1970),
    )


class Command(BaseCommand):
    help = ("Generate a plausible, deterministic demo region inside the real boundaries "
            "(replaces earlier generated data of the region; skips when the same one is already there).")

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True, help="region slug, e.g. nakagawa")
        parser.add_argument("--assets", type=int, default=30000, help="number of assets to generate exactly")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--force", action="store_true", help="regenerate even if already generated")

    def handle(self, *args, region, assets, seed, force, **opts):
        if assets < 1000:
            raise CommandError("--assets must be at least 1000")
        try:
            reg = Region.objects.get(slug=region)
        except Region.DoesNotExist:
            slugs = ", ".join(Region.objects.values_list("slug", flat=True)) or "none loaded"
            raise CommandError(f"Unknown region {region!r}; known: {slugs}") from None
        message = f"generate_region --region {region} --assets {assets} --seed {seed}"
        members = list(reg.members.values_list("code", flat=True))
        last = ChangeRecord.objects.filter(
            content_type=ContentType.objects.get_for_model(Region), object_id=str(reg.pk)
        ).order_by("-time").first()
        present = Asset.objects.filter(source=DEMO_SOURCE, owner_id__in=members).count()
        if not force and last is not None and last.message == message and present == assets:
            self.stdout.write(f"{region}: {present} generated assets already present (seed {seed}); nothing to do")
            return
        t0 = time.perf_counter()
        gen = generate(region_input(reg), assets, seed)
        t1 = time.perf_counter()
        result = load(reg, gen, message=message)
        record_change(actor=Actor.system(), obj=reg, action="update", message=message,
                      before={"generated_assets": present}, after={"generated_assets": assets})
        t2 = time.perf_counter()
        by_kind = gen.assets["kind"].value_counts().to_dict()
        self.stdout.write(
            f"{region}: {result['assets']} assets ({', '.join(f'{k} {v}' for k, v in sorted(by_kind.items()))}), "
            f"{result['inspections']} inspections, {result['reference_roads']} reference roads (国道・県道); "
            f"grid {gen.params['grid_spacing_m']} m; "
            f"synthesis {t1 - t0:.1f} s, load {t2 - t1:.1f} s, total {t2 - t0:.1f} s"
        )
        if opts.get("verbosity", 1) > 1:
            self.stdout.write("load steps (s): " + ", ".join(f"{k} {v}" for k, v in result["timings"].items()))
