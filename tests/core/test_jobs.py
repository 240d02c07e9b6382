"""The job life cycle (core.jobs) on an engine run: reads check liveness only for a job that says 'running',
work that ends without finishing fails the job, and a failure keeps its traceback for the operators."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clusters import selectors
from clusters.models import EngineRun


def _lock_tries(queries) -> int:
    return sum("pg_try_advisory_lock" in q["sql"] for q in queries)


def test_reading_runs_tries_a_lock_only_for_one_that_says_running(world):
    done = EngineRun.objects.create(region=world.region, params={}, status=EngineRun.Status.DONE)
    list(selectors.run_list(principal=world.carol))  # the principal's scope, cached from here on
    with CaptureQueriesContext(connection) as plain:
        list(selectors.run_list(principal=world.carol))
    with CaptureQueriesContext(connection) as got:
        assert selectors.run_get(principal=world.carol, pk=done.pk).status == EngineRun.Status.DONE
    assert _lock_tries(got.captured_queries) == 0
    with CaptureQueriesContext(connection) as got:
        listed = list(selectors.run_list(principal=world.carol).reaped())
    assert [r.pk for r in listed] == [done.pk]
    # The list's liveness check is one query for the ids of those that say 'running': none, so no lock tries.
    assert _lock_tries(got.captured_queries) == 0 and len(got.captured_queries) == len(plain.captured_queries) + 1

    dead = EngineRun.objects.create(region=world.region, params={}, status=EngineRun.Status.RUNNING)
    with CaptureQueriesContext(connection) as got:
        seen = selectors.run_get(principal=world.carol, pk=dead.pk)
    assert _lock_tries(got.captured_queries) == 1
    assert (seen.status, seen.message) == (EngineRun.Status.FAILED, str(EngineRun.dead_message))
    assert seen.finished_at is not None


def test_a_listed_run_without_an_owner_reads_as_failed(world):
    dead = EngineRun.objects.create(region=world.region, params={}, status=EngineRun.Status.RUNNING)
    listed = list(selectors.run_list(principal=world.carol).reaped())
    assert [(r.pk, r.status) for r in listed] == [(dead.pk, EngineRun.Status.FAILED)]


def test_work_that_ends_without_finishing_fails_the_job(world):
    run = EngineRun.objects.create(region=world.region, params={})
    with pytest.raises(RuntimeError, match="without finishing"):
        run.execute(lambda: run.report(50, "half way"), step="starting")
    run.refresh_from_db()
    assert run.status == EngineRun.Status.FAILED and run.finished_at is not None
    assert run.message == f"Engine run #{run.pk} failed with an internal error; the operators have the details"
    assert "Traceback" in run.error and "without finishing" in run.error
    # Claimed once: executing it again does nothing.
    assert run.execute(lambda: pytest.fail("ran twice"), step="again").status == EngineRun.Status.FAILED


def test_a_finished_job_is_done_with_its_results(world):
    run = EngineRun.objects.create(region=world.region, params={})

    def work():
        run.report(40, "scoring")
        assert EngineRun.objects.values_list("progress", "message").get(pk=run.pk) == (40, "scoring")
        run.finish(summary={"assets": 0})

    done = run.execute(work, step="reading", started_at=None)
    assert (done.status, done.progress, done.message, done.summary) == (EngineRun.Status.DONE, 100, "done", {"assets": 0})
    assert done.duration_s is not None and done.finished_at is not None
