"""Rebuild every asset's condition and due dates from its inspections, measures and the current catalogue.

Due-date rules live in SQL and catalogue data, so a new release or a catalogue change is applied to stored
conditions by running this once (`make demo` does, after loading the region)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from inspections.condition import refresh_conditions


class Command(BaseCommand):
    help = "Rebuild all asset conditions (due dates, measures deadlines) from inspections and the catalogue."

    def handle(self, *args, **options):
        with transaction.atomic():
            count = refresh_conditions()
        self.stdout.write(f"conditions rebuilt: {count:,} assets")
