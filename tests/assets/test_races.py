"""Concurrency with real transactions (threads, each with its own connection): no lost updates."""

import datetime
import json
import random
import threading

import pytest
from django.db import close_old_connections, connection
from django.test import Client

from assets.history import Actor
from assets.models import Asset, Via
from inspections.models import AssetCondition, Inspection
from inspections.services import inspection_record
from tests.conftest import make_asset


def together(jobs):
    """Run the callables at the same moment in threads; return their results (or exceptions)."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(k, job):
        try:
            barrier.wait(timeout=30)
            results[k] = job()
        except Exception as exc:  # the test asserts on it
            results[k] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(k, job)) for k, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    close_old_connections()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_inspections_leave_the_condition_at_the_latest_one(world):
    rng = random.Random(11)
    for round_ in range(6):
        bridge = make_asset(world.yashio, "bridge", external_id=f"B-{round_}")
        days = [datetime.date(2015, 1, 1) + datetime.timedelta(days=200 * k) for k in range(10)]
        rng.shuffle(days)
        grades = ["I", "II", "III", "IV"]
        jobs = [(lambda d=d, g=grades[k % 4], a=bridge: inspection_record(
            actor=Actor.system(Via.API), asset=a, inspected_on=d, grade=g)) for k, d in enumerate(days)]
        results = together(jobs)
        assert not [r for r in results if isinstance(r, Exception)], results
        latest = Inspection.objects.filter(asset=bridge).order_by("-inspected_on", "-id").first()
        cond = AssetCondition.objects.get(asset=bridge)
        assert (cond.inspection_id, cond.inspected_on) == (latest.pk, latest.inspected_on), f"round {round_}"


@pytest.mark.django_db(transaction=True)
def test_two_patches_with_the_same_if_match_give_one_200_and_one_412(world):
    for round_ in range(4):
        pipe = make_asset(world.yashio, "sewer_pipe", external_id=f"P-{round_}")
        etag = f'"{pipe.global_id}-v{pipe.version}"'

        def patch(name, pipe=pipe, etag=etag):
            c = Client()
            c.force_login(world.alice)
            return c.patch(f"/api/v1/assets/{pipe.global_id}", json.dumps({"data": {"name": name}}),
                           content_type="application/json", HTTP_IF_MATCH=etag).status_code

        results = together([lambda: patch("一"), lambda: patch("二")])
        assert sorted(results) == [200, 412], f"round {round_}: {results}"
        assert Asset.objects.get(pk=pipe.pk).version == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_inspection_imports_leave_the_condition_at_the_latest_one(world):
    from inspections.importing import import_csv

    for round_ in range(4):
        bridge = make_asset(world.yashio, "bridge", external_id=f"BI-{round_}")
        days = [datetime.date(2016, 4, 1) + datetime.timedelta(days=300 * k) for k in range(6)]
        random.Random(round_).shuffle(days)

        def one(day, grade, bridge=bridge):
            text = f"団体コード,橋梁ID,点検年月日,判定区分\n112348,{bridge.external_id},{day.isoformat()},{grade}\n"
            return import_csv(actor=Actor(world.alice, Via.IMPORT), data=text.encode("utf-8"))

        results = together([lambda d=d, g=("I", "II", "III")[k % 3]: one(d, g) for k, d in enumerate(days)])
        assert all(not isinstance(r, Exception) and r.ok for r in results), results
        latest = Inspection.objects.filter(asset=bridge).order_by("-inspected_on", "-id").first()
        cond = AssetCondition.objects.get(asset=bridge)
        assert (cond.inspection_id, cond.inspected_on) == (latest.pk, latest.inspected_on), f"round {round_}"
