"""A plan's years are 年度 (domain.md §7: April to March, January–March belong to the previous 年度): a plan made
on 31 March 2027 (年度 2026) budgets from 年度 2027, one made on 1 April 2027 from 年度 2028."""

import datetime

import pytest
from django.utils import timezone

from clusters.services import run_create, run_execute
from reports.services import plan_compute, plan_create


@pytest.mark.parametrize("today, first", [(datetime.date(2027, 3, 31), 2027), (datetime.date(2027, 4, 1), 2028),
                                          (datetime.date(2027, 1, 5), 2027), (datetime.date(2026, 12, 31), 2027)])
def test_a_plan_begins_with_the_next_nendo(world, monkeypatch, today, first):
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    plan = plan_create(principal=world.carol, run=run, horizon_years=3)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: today)
    assert plan_compute(plan)["fiscal_years"] == [first, first + 1, first + 2]
