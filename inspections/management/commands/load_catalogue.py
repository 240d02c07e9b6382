"""Load (or reload after a fixture edit) the grading schemes and measure kinds from fixtures/catalogue.

`load_reference_data` runs it too, after the municipalities; a changed due-date rule then reaches stored
conditions with `refresh_conditions`."""

from django.core.management.base import BaseCommand

from inspections.catalogue import load_catalogue


class Command(BaseCommand):
    help = "Load the grading schemes and measure kinds from fixtures/catalogue (idempotent)."

    def handle(self, *args, **options):
        self.stdout.write(f"catalogue: {load_catalogue()} grading schemes")
