"""The plan PDF's short section on measures: 措置着手率 and 措置完了率 of the assets judged to need measures."""

from assets.history import Actor
from clusters.services import run_create, run_execute
from inspections.measure_services import measure_record
from inspections.models import Inspection
from reports.services import plan_create, plan_execute
from tests.reports.test_plan import bad_pipes, pdf_text


def test_the_pdf_reports_measures_started_and_completed(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bad_pipes(world, 4)  # 緊急度Ⅰ pipes inspected 2025-05-01
    pipes = [i.asset for i in Inspection.objects.select_related("asset").order_by("asset_id")]
    measure_record(actor=Actor.system(), asset=pipes[0], kind="管更生", started_on="2025-06-01",
                   completed_on="2025-08-01")
    measure_record(actor=Actor.system(), asset=pipes[1], kind="布設替え", started_on="2025-06-01")
    measure_record(actor=Actor.system(), asset=pipes[2], kind="応急措置", started_on="2025-06-01")
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    plan = plan_execute(plan_create(principal=world.carol, run=run).pk)
    text = pdf_text(plan.pdf.path)
    assert "3.4 措置の実施状況" in text and "措置着手率" in text
    section = text[text.rindex("3.4 措置の実施状況"):]
    row = next(line for line in section.splitlines() if line.strip().startswith("下水道管渠"))
    # 4 judged, 2 started (50%), 1 completed (25%), 1 with an interim measure only.
    assert row.split()[1:] == ["4", "2", "50%", "1", "25%", "1"], row
