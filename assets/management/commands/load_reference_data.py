from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from assets.models import Municipality, MunicipalityKind, Region
from assets.reference.municipalities import read_boundaries, read_municipalities
from assets.signals import reference_data_loaded

REF = Path(settings.BASE_DIR) / "fixtures" / "reference"


class Command(BaseCommand):
    help = ("Load municipalities, boundaries, populations and the demo regions from fixtures/reference, then the "
            "apps' own reference data such as the grading catalogue (idempotent).")

    @transaction.atomic
    def handle(self, *args, **opts):
        import csv
        import json

        rows = read_municipalities(REF / "localgovjp-utf8.csv")
        designated = {(r.prefecture, r.name): r.code for r in rows if r.kind == MunicipalityKind.DESIGNATED_CITY}
        boundaries = read_boundaries(sorted((REF / "boundaries").glob("*.json")), designated)
        with (REF / "population.csv").open(encoding="utf-8") as fh:
            population = {r["code"]: r for r in csv.DictReader(fh)}
        objs = []
        for r in rows:
            pop = population.get(r.code)
            objs.append(Municipality(
                code=r.code, code5=r.code[:5], kind=r.kind, name=r.name, name_kana=r.name_kana,
                prefecture=r.prefecture, hall_location=r.hall, boundary=boundaries.get(r.code),
                population=int(pop["population"]) if pop else None,
                population_year=int(pop["year"]) if pop else None,
            ))
        Municipality.objects.bulk_create(
            objs, update_conflicts=True, unique_fields=["code"],
            update_fields=["code5", "kind", "name", "name_kana", "prefecture", "hall_location", "boundary",
                           "population", "population_year"],
        )
        regions = json.loads((REF / "regions.json").read_text(encoding="utf-8"))
        for spec in regions:
            region, _ = Region.objects.update_or_create(
                slug=spec["slug"],
                defaults={"name": spec["name"], "name_en": spec["name_en"], "lead_id": spec["lead"],
                          "description": spec["description"]},
            )
            region.members.set(spec["members"])
        loaded = [said for _receiver, said in reference_data_loaded.send(sender=self.__class__) if said]
        self.stdout.write(", ".join([f"reference data: {len(objs)} municipalities ({len(boundaries)} with "
                                     f"boundaries), {len(regions)} regions", *loaded]))
