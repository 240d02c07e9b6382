"""The loader's steps composed: regenerating a region replaces its generated data and everything other apps
kept for it, through each app's own purge helper, and writes history through `assets.history`."""

from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets.history import Actor
from assets.models import Asset, ChangeRecord, Municipality, Region, SewerPipe, Via
from assets.signals import assets_changed
from clusters.models import AssetScore, EngineRun
from generator import loader
from inspections.measure_services import measure_record
from inspections.models import AssetCondition, Inspection, InspectionPhoto, Measure
from inspections.services import inspection_record
from tests.conftest import jpeg_bytes, make_asset, module_data

N = 1000
SYS = Actor.system(Via.API)
MESSAGE = f"generate_region --region nakagawa --assets {N} --seed 5"

# (table, column naming an asset) for every row kept per asset, in every app.
PER_ASSET = [
    ("assets_roadsegment", "asset_id"), ("assets_bridge", "asset_id"), ("assets_sewerpipe", "asset_id"),
    ("assets_manhole", "asset_id"), ("assets_septictank", "asset_id"),
    ("assets_sewerpipe", "upstream_manhole_id"), ("assets_sewerpipe", "downstream_manhole_id"),
    ("assets_sewerpipe", "road_segment_id"),
    ("inspections_inspection", "asset_id"), ("inspections_measure", "asset_id"),
    ("inspections_assetcondition", "asset_id"), ("clusters_assetscore", "asset_id"),
]


def generate(**kw):
    call_command("generate_region", region="nakagawa", assets=N, seed=5, verbosity=0, **kw)


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """The region generated once for the module's tests; each regenerates or clears it inside its own savepoint."""
    with module_data(django_db_blocker):
        call_command("load_reference_data", verbosity=0)
        generate()
        yield


@pytest.fixture
def region(generated, db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return Region.objects.get(slug="nakagawa")


def orphans() -> dict[str, int]:
    """Rows naming an asset, inspection or measure that no longer exists (history included)."""
    out = {}
    with connection.cursor() as cur:
        for table, col in PER_ASSET:
            cur.execute(f"SELECT count(*) FROM {table} t LEFT JOIN assets_asset a ON a.id = t.{col} "
                        f"WHERE t.{col} IS NOT NULL AND a.id IS NULL")
            out[f"{table}.{col}"] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM inspections_inspectionphoto p LEFT JOIN inspections_inspection i "
                    "ON i.id = p.inspection_id WHERE i.id IS NULL")
        out["inspections_inspectionphoto"] = cur.fetchone()[0]
        for model, table in ((Asset, "assets_asset"), (Inspection, "inspections_inspection"),
                             (Measure, "inspections_measure")):
            cur.execute(f"SELECT count(*) FROM assets_changerecord h LEFT JOIN {table} o ON o.id::text = h.object_id "
                        "WHERE h.content_type_id = %s AND o.id IS NULL AND h.action <> 'delete'",
                        [ContentType.objects.get_for_model(model).pk])
            out[f"history of {table}"] = cur.fetchone()[0]
    return {k: v for k, v in out.items() if v}


def counts() -> dict[str, int]:
    asset_ct = ContentType.objects.get_for_model(Asset)
    return {
        "assets": Asset.objects.filter(source=loader.DEMO_SOURCE).count(),
        "inspections": Inspection.objects.count(),
        "measures": Measure.objects.count(),
        "photos": InspectionPhoto.objects.count(),
        "conditions": AssetCondition.objects.count(),
        "scores": AssetScore.objects.count(),
        "asset history": ChangeRecord.objects.filter(content_type=asset_ct).count(),
        "inspection history": ChangeRecord.objects.filter(content_type__model="inspection").count(),
        "measure history": ChangeRecord.objects.filter(content_type__model="measure").count(),
    }


def test_regenerating_replaces_what_every_app_kept_for_the_region_and_keeps_the_rest(region, settings,
                                                                                     django_capture_on_commit_callbacks):
    fresh = counts()
    assert fresh["assets"] == fresh["conditions"] == fresh["asset history"] == N
    assert fresh["measures"] == fresh["photos"] == fresh["scores"] == 0
    # What people and the engine added on generated assets: an inspection with a photo, a measure, a score.
    bridge = Asset.objects.filter(source=loader.DEMO_SOURCE, kind="bridge", owner__kind="city").first()
    insp = inspection_record(actor=SYS, asset=bridge, inspected_on="2024-05-01", grade="III",
                             photos=[SimpleUploadedFile("deck.jpg", jpeg_bytes(), "image/jpeg")])
    photo_file = Path(settings.MEDIA_ROOT) / insp.photos.get().image.name
    measure_record(actor=SYS, asset=bridge, kind="補修・修繕", started_on="2024-06-01", completed_on="2024-09-30")
    run = EngineRun.objects.create(region=region, params={}, status=EngineRun.Status.DONE)
    AssetScore.objects.create(run=run, asset=bridge, expected_state=1, lof=0.1, dlof=0.1, cof=1, risk=0.1,
                              action=0, cost=0, risk_removed=0, work_type=2)
    # A ledger pipe outside the generated data, under a generated road and between generated manholes.
    manholes = Asset.objects.filter(source=loader.DEMO_SOURCE, kind="manhole", owner_id="112348")
    road = Asset.objects.filter(source=loader.DEMO_SOURCE, kind="road_segment", owner_id="112348").first()
    hall = Municipality.objects.get(code="112348").hall_location
    kept = make_asset(Municipality.objects.get(code="112348"), "sewer_pipe", external_id="P-KEEP",
                      lon=hall.x, lat=hall.y, upstream_manhole=manholes[0], downstream_manhole=manholes[1],
                      road_segment=road)
    assert photo_file.exists() and not orphans()
    kept_condition = AssetCondition.objects.filter(asset=kept).count()  # 1 once creating an asset refreshes it

    with django_capture_on_commit_callbacks(execute=True):
        generate(force=True)

    again = counts()
    # The generated data is the same size again; the non-generated asset and its own history stay.
    assert again == {**fresh, "conditions": N + kept_condition, "asset history": N + 1}
    assert not orphans()
    pipe = SewerPipe.objects.get(asset=kept)
    assert (pipe.upstream_manhole_id, pipe.downstream_manhole_id, pipe.road_segment_id) == (None, None, None)
    assert not photo_file.exists()
    assert EngineRun.objects.filter(pk=run.pk).exists()  # a run is history: only its scores of the gone assets go


def test_asset_history_comes_through_the_set_based_helper(region, monkeypatch):
    calls = []
    real = loader.record_changes

    def spy(cur, **kw):
        calls.append(kw)
        return real(cur, **kw)

    monkeypatch.setattr(loader, "record_changes", spy)
    generate(force=True)
    assert len(calls) == 1
    assert (calls[0]["model"], calls[0]["action"], calls[0]["message"]) == (Asset, "create", MESSAGE)
    assert calls[0]["actor"].is_system
    recs = ChangeRecord.objects.filter(content_type=ContentType.objects.get_for_model(Asset))
    assert recs.count() == N
    assert set(recs.values_list("actor_name", "via", "action", "message", "before", "user")) == {
        ("system", Via.TASK, "create", MESSAGE, None, None)}
    a = Asset.objects.filter(source=loader.DEMO_SOURCE).order_by("pk").last()
    rec = recs.get(object_id=str(a.pk))
    assert rec.object_repr == a.global_id
    assert rec.after == {"global_id": a.global_id, "kind": a.kind, "owner": a.owner_id, "source": "demo",
                         "external_id": a.external_id, "built_fiscal_year": a.built_fiscal_year}


def test_the_load_announces_the_new_assets_and_their_conditions_are_rebuilt(region):
    heard = []

    def receiver(sender, **kw):
        heard.append({k: kw[k] for k in ("change", "asset_ids", "min_asset_id")})

    assets_changed.connect(receiver)
    try:
        generate(force=True)
    finally:
        assets_changed.disconnect(receiver)
    first = Asset.objects.filter(source=loader.DEMO_SOURCE).order_by("pk").values_list("pk", flat=True)[0]
    assert heard == [{"change": "imported", "asset_ids": None, "min_asset_id": first}]
    assert AssetCondition.objects.filter(asset__source=loader.DEMO_SOURCE).count() == N


def test_clearing_a_region_costs_the_same_statements_however_many_assets_it_holds(region):
    ContentType.objects.get_for_models(Asset, Inspection, Measure)  # cached, as in any long-running process
    yashio = Asset.objects.filter(source=loader.DEMO_SOURCE, owner_id="112348").count()
    statements = []
    for codes in (["112348"], list(region.members.values_list("code", flat=True))):
        with CaptureQueriesContext(connection) as ctx:
            loader.clear_region(codes)
        statements.append(len(ctx.captured_queries))
    assert 0 < yashio < N / 2
    assert statements[0] == statements[1] <= 25
    assert not Asset.objects.filter(source=loader.DEMO_SOURCE).exists() and not orphans()
    assert loader.clear_region(["112348"]) == 0


def test_the_generator_deletes_and_records_history_only_through_the_owning_apps_helpers():
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path(loader.__file__).parent.rglob("*.py")).upper()
    assert "DELETE FROM" not in source and "TRUNCATE" not in source
    assert "INSERT INTO" not in source  # history goes through assets.history.record_changes
