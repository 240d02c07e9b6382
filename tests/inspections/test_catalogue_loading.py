"""The registry loads its own reference data; the grading catalogue is inspections' and is loaded by inspections,
on `load_catalogue` or when `load_reference_data` says the registry's reference data is in (issue 13)."""

import io

from django.core.management import call_command

from assets.signals import reference_data_loaded
from inspections.models import GradingScheme, MeasureKind


def test_load_catalogue_loads_schemes_and_measure_kinds_idempotently(db):
    out = io.StringIO()
    call_command("load_catalogue", stdout=out)
    schemes = GradingScheme.objects.count()
    assert schemes >= 6 and MeasureKind.objects.exists() and f"{schemes} grading schemes" in out.getvalue()
    call_command("load_catalogue", stdout=io.StringIO())
    assert GradingScheme.objects.count() == schemes


def test_inspections_answer_the_registrys_reference_data_signal(db):
    said = [answer for _receiver, answer in reference_data_loaded.send(sender=None) if answer]
    assert said == [f"{GradingScheme.objects.count()} grading schemes"]
    assert GradingScheme.objects.filter(code="bridge_kenzen", is_current=True).exists()
