"""One place for labels (issue 15): every stored code has a Japanese label, every engine parameter a name,
unit and range, lots get names people use, single-work lots find their neighbours (pure)."""

from dataclasses import fields

import numpy as np
import pytest
from django.utils import translation

from clusters import labels
from clusters.engine.lots import joinable_singles, number_lots
from clusters.engine.params import Params
from clusters.models import ACTIONS, WORK_TYPES
from core.jobs import progress_text


def test_every_parameter_has_a_japanese_and_english_name_unit_and_a_range_holding_its_default():
    defaults = Params()
    assert set(labels.PARAMS) == {f.name for f in fields(Params)}
    for name, p in labels.PARAMS.items():
        assert p.ja and p.en, name
        value = getattr(defaults, name)
        if p.choices:
            assert value in p.choices, name
        elif isinstance(value, int | float) and p.min is not None:
            assert p.min <= value <= p.max, name


@pytest.mark.parametrize(("group", "codes"), [
    ("work_type", WORK_TYPES), ("action", ACTIONS),
    ("recommendation", ("convert_to_septic", "renew", "remove", "no_alternative_route")),
    ("strategy", ("preventive", "corrective")), ("status", ("queued", "running", "done", "failed"))])
def test_every_code_reads_in_japanese(group, codes):
    with translation.override("ja"):
        for code in codes:
            text = labels.label(group, code)
            assert text != code and not text.isascii(), (group, code, text)


def test_work_types_actions_and_statuses_say_what_the_issue_asks():
    with translation.override("ja"):
        assert [labels.label("work_type", w) for w in WORK_TYPES] == [
            "道路", "下水道", "橋梁", "浄化槽", "道路・下水道同時施工"]
        assert [labels.label("action", a) for a in ACTIONS] == ["経過観察", "補修", "更新"]
        assert labels.label("recommendation", "convert_to_septic") == "合併処理浄化槽への転換"
        assert labels.action_mix_text({"septic_tank:renew": 4, "sewer_pipe:repair": 12}) == [
            "下水道管渠 補修 12本", "浄化槽 更新 4基"]
    with translation.override("en"):
        assert labels.label("work_type", "road_sewer") == "Road and sewer together"
        assert labels.action_mix_text({"septic_tank:renew": 4}) == ["Septic tank Renew 4 tanks"]


def test_job_progress_reads_as_a_sentence():
    with translation.override("ja"):
        assert progress_text("running", 20, "estimating deterioration") == "実行中 20%（劣化の推計）"
        assert progress_text("done", 100, "done") == "完了"
        assert progress_text("queued", 0, "") == "待機中"
    with translation.override("en"):
        assert progress_text("running", 20, "estimating deterioration") == "Running 20% (estimating deterioration)"


def test_a_lot_is_named_by_work_type_number_and_municipalities():
    assert labels.lot_name("sewer", 12, ["八潮市", "草加市"]) == "下水道-012（八潮市・草加市）"
    assert labels.lot_name("septic", 1, []) == "浄化槽-001"
    assert labels.lot_name("road", 3, ["A市", "B市", "C町", "D村", "E村"]) == "道路-003（A市・B市・C町・ほか2）"


def test_lots_are_numbered_within_their_work_type_by_rank():
    wt = np.array(["sewer", "road", "sewer", "road", "bridge", "sewer"])
    rank = np.array([3, 1, 2, 5, 4, 6])
    assert number_lots(wt, rank).tolist() == [2, 1, 1, 2, 1, 3]
    assert number_lots(np.array([], dtype=str), np.array([], dtype=int)).tolist() == []


def test_single_work_lots_within_a_contractors_reach_are_offered_together():
    """Lots of one work each, of one type, within contractor_reach_m of each other; never a lot of several
    works, never another work type, never beyond the reach."""
    wt = np.array(["septic", "septic", "septic", "road", "septic"])
    count = np.array([1, 1, 3, 1, 1])
    x = np.array([0.0, 1500, 100, 10, 5000])
    y = np.zeros(5)
    near = joinable_singles(wt, count, x, y, reach=2000)
    assert near == {0: [(1, 1500.0)], 1: [(0, 1500.0)]}
    assert joinable_singles(wt, count, x, y, reach=0) == {}


def test_parameter_values_read_with_their_unit_or_label():
    with translation.override("ja"):
        assert labels.param_label("cluster_distance_m") == "工区にまとめる距離（m）"
        assert labels.param_value("cluster_distance_m", 300.0) == "300 m"
        assert labels.param_value("mobilization_per_contract", 3_000_000) == "3,000,000 円"
        assert labels.param_value("objective", "risk_per_yen") == "費用当たりのリスク低減量"
        assert labels.param_value("weights", {"traffic": 1.0}) == "交通量 1.0"
