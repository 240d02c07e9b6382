"""One write path: a ledger import writes its history through the registry's set-based helper
(`assets.history.record_changes`) and tells the apps built on the registry what it wrote
(`assets.signals.notify`: "created" for new assets, "imported" for updated ones), inside its transaction."""

import datetime
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

import core.bulk
import ledger.importer as importer
from assets.history import Actor
from assets.models import Asset, AssetSerial, ChangeRecord, Via
from assets.signals import assets_changed
from inspections.models import AssetCondition
from ledger.importer import import_ledger

SYSTEM = Actor.system(Via.IMPORT)
MANHOLES = ["マンホール番号,名称,深さ(m),設置年度,経度,緯度",
            "M-1,一号,2.5,S50,139.8390,35.8220",
            "M-2,二号,3.0,H2,139.8392,35.8221",
            "M-3,三号,1.5,R1,139.8394,35.8222"]


def run(lines, actor=SYSTEM, **kw):
    return import_ledger(actor=actor, data="\n".join(lines).encode(), filename="mh.csv", kind="manhole",
                         municipality="112348", **kw)


@contextmanager
def signals():
    """Every assets_changed sent meanwhile, as (change, asset ids, inside a transaction)."""
    sent = []

    def receiver(sender, change, asset_ids, min_asset_id, **kw):
        sent.append((str(change), None if asset_ids is None else list(asset_ids), connection.in_atomic_block))

    assets_changed.connect(receiver, dispatch_uid="test-ledger-write-path")
    try:
        yield sent
    finally:
        assets_changed.disconnect(dispatch_uid="test-ledger-write-path")


def test_the_history_of_an_import_is_one_row_per_asset_written_with_its_values(world):
    request = uuid.uuid4()
    report = run(MANHOLES, actor=Actor(world.alice, Via.IMPORT, request_id=request))
    assert report.created == 3
    assets = {a.external_id: a for a in Asset.objects.all()}
    records = list(ChangeRecord.objects.order_by("id"))
    assert len(records) == 3
    ct = ContentType.objects.get_for_model(Asset)
    for rec in records:
        asset = next(a for a in assets.values() if str(a.pk) == rec.object_id)
        assert (rec.action, rec.via, rec.user_id, rec.actor_name, rec.content_type_id, rec.object_repr,
                rec.message, rec.request_id) == ("create", "import", world.alice.pk, "alice", ct.pk,
                                                 asset.global_id, "ledger import", request)
        assert rec.before is None
        assert rec.after["global_id"] == asset.global_id and rec.after["name"] == asset.name
    m2 = next(r for r in records if r.object_id == str(assets["M-2"].pk))
    assert m2.after == {"name": "二号", "built_fiscal_year": 1990, "built_year_text": "H2",
                        "detail.depth_m": 3.0, "global_id": assets["M-2"].global_id}

    changed = [MANHOLES[0], MANHOLES[1].replace("2.5", "2.75"), MANHOLES[2], MANHOLES[3].replace("三号", "三号改")]
    report = run(changed)
    assert (report.created, report.updated, report.unchanged) == (0, 2, 1)
    updates = list(ChangeRecord.objects.filter(action="update").order_by("object_id"))
    assert len(updates) == 2 and ChangeRecord.objects.count() == 5
    by_asset = {r.object_id: r for r in updates}
    m1, m3 = by_asset[str(assets["M-1"].pk)], by_asset[str(assets["M-3"].pk)]
    assert (m1.before["detail.depth_m"], m1.after["detail.depth_m"]) == (2.5, 2.75)
    assert (m3.before["name"], m3.after["name"]) == ("三号", "三号改")
    assert (m1.before["version"], m1.after["version"], m1.actor_name, m1.user_id) == (1, 2, "system", None)


def test_the_importer_writes_history_only_through_the_helper(world, monkeypatch):
    calls = []
    real = importer.record_changes

    def spy(cur, **kw):
        calls.append((str(kw["action"]), kw["model"]))
        return real(cur, **kw)

    monkeypatch.setattr(importer, "record_changes", spy)
    run(MANHOLES)
    run([MANHOLES[0], MANHOLES[1].replace("2.5", "2.75")])
    assert calls == [("update", Asset), ("create", Asset), ("update", Asset)]  # the second import creates none
    assert ChangeRecord.objects.count() == 4
    source = Path(importer.__file__).read_text(encoding="utf-8").lower()
    assert "assets_changerecord" not in source


def test_an_import_tells_which_assets_it_wrote_inside_its_transaction(world):
    """New assets are told as created (nothing is recorded for them yet: their first due date needs no look-up
    of inspections, issue 16), updated ones as imported."""
    with signals() as sent:
        run(MANHOLES)
    ids = dict(Asset.objects.values_list("external_id", "id"))
    assert sent == [("created", sorted(ids.values()), True)]

    with signals() as sent:
        run(MANHOLES)  # the same ledger again: nothing written, nothing told
        run(MANHOLES[:2] + [MANHOLES[2].replace("3.0", "3.5"), "M-4,四号,2.0,R2,139.8396,35.8223"], dry_run=True)
    assert sent == []

    with signals() as sent:
        run(MANHOLES[:2] + [MANHOLES[2].replace("3.0", "3.5"), "M-4,四号,2.0,R2,139.8396,35.8223"])
    new = Asset.objects.get(external_id="M-4").pk
    assert sent == [("created", [new], True), ("imported", [ids["M-2"]], True)]


def test_a_failed_import_tells_nothing(world):
    with signals() as sent:
        report = run(MANHOLES + ["M-9,九号,deep,R1,139.8398,35.8224"])
    assert report.errors and sent == []


def test_bridges_a_ledger_brings_in_are_due_at_once_on_the_overdue_list(world):
    """A new asset is due from the day it is registered, whichever way it came in (issue 13): 1970 bridges
    were due one 5-year cycle after the legal cycle began (2014-07-01), so they are overdue, never inspected."""
    from inspections import selectors
    from inspections.models import AssetCondition

    lines = ["橋梁ID,橋梁名,橋長(m),幅員(m),構造形式,交差物,架設年度,経度,緯度",
             "B-01,中川橋,35.5,8.0,PC橋,河川,S45,139.839,35.822",
             "B-02,新橋,12,6.5,RC,水路,S46,139.840,35.823"]
    report = import_ledger(actor=Actor(world.alice, Via.IMPORT), data="\n".join(lines).encode(),
                           filename="橋梁台帳.csv", kind="bridge", municipality="112348")
    assert report.created == 2, report.errors
    bridges = dict(Asset.objects.values_list("external_id", "id"))
    due = dict(AssetCondition.objects.filter(asset_id__in=bridges.values()).values_list("asset_id", "next_due_on"))
    assert due == {bridges["B-01"]: datetime.date(2019, 7, 1), bridges["B-02"]: datetime.date(2019, 7, 1)}
    rows = selectors.work_items(selectors.work_list(principal=world.alice, on=timezone.localdate()))
    overdue = {r["global_id"] for r in rows if r["work"] == "inspection" and r["never_inspected"]}
    assert set(Asset.objects.values_list("global_id", flat=True)) <= overdue


def test_foreign_keys_are_checked_again_once_the_records_are_written(world):
    """Issue 16: the per-row foreign-key triggers are off only while the import writes the rows whose references
    it vouches for (core.bulk.references_checked_here); anything written later in the same transaction is
    checked as usual, so a dangling reference is still refused."""
    with transaction.atomic():
        assert run(MANHOLES).created == 3
        with pytest.raises((IntegrityError, psycopg.errors.ForeignKeyViolation)), transaction.atomic(), \
                connection.cursor() as cur:
            cur.execute("INSERT INTO assets_changerecord (time, actor_name, via, action, content_type_id, object_id, "
                        "object_repr, message) VALUES (now(), 'x', 'api', 'update', 999999, '1', 'x', '')")
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_without_the_right_to_skip_the_triggers_the_import_is_the_same(world, monkeypatch):
    """A role that may not turn the foreign-key triggers off (not a superuser) gets every row checked by them
    instead, and the same result: assets, history, first due dates."""
    monkeypatch.setattr(core.bulk, "bulk_mode", lambda cur: False)
    assert run(MANHOLES).created == 3
    ids = list(Asset.objects.values_list("pk", flat=True))
    assert ChangeRecord.objects.filter(action="create").count() == 3
    assert AssetCondition.objects.filter(asset_id__in=ids).count() == 3


def test_serials_past_999999_keep_every_digit(world):
    """Global ids are {owner}-{code}-{serial:06d} (assets.kinds.global_id): six digits at least, never cut, so
    serial 1,000,000 is not 100000 (a global id already taken)."""
    AssetSerial.objects.create(owner_id="112348", kind="manhole", last=999_999)
    run(MANHOLES)
    assert sorted(Asset.objects.values_list("global_id", flat=True)) == [
        "112348-MH-1000000", "112348-MH-1000001", "112348-MH-1000002"]
