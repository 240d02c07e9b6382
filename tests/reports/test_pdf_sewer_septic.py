"""The plan PDF says, for each sewer branch it weighs against 合併処理浄化槽, how many households lie along it and how
they were counted (domain.md §7 "Sewer vs 浄化槽 per branch": 取付管 in the sewer ledger, buildings, or density)."""

from assets.history import Actor
from assets.models import Municipality
from clusters.services import run_create, run_execute
from inspections.services import inspection_record
from reports.pdf.render import households_counted
from reports.services import plan_create, plan_execute
from tests.conftest import make_pipe
from tests.reports.test_plan import pdf_text


def failing_pipe(owner, ext, lon, **detail):
    pipe = make_pipe(owner, external_id=ext, lon=lon, lat=35.81, length_m=100.0, **detail)
    inspection_record(actor=Actor.system(), asset=pipe, inspected_on="2025-05-01", grade="緊急度Ⅰ")


def test_the_pdf_shows_the_households_of_each_branch_and_how_they_were_counted(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    Municipality.objects.filter(code="112216").update(population=1_000)  # a sparse 草加市: density says 0.2 戸
    failing_pipe(world.yashio, "counted", 139.823, house_connections=3)
    failing_pipe(world.soka, "uncounted", 139.789)
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    keys = {k: name.split("（")[0] for k, name in run.clusters.values_list("members__asset__external_id", "name")}
    plan = plan_execute(plan_create(principal=world.carol, run=run).pk)
    text = pdf_text(plan.pdf.path)
    section = text[text.index("(1) 下水道から合併処理浄化槽への転換"):text.index("(2) 橋梁の撤去・集約")]
    assert "戸数の数え方" in section
    lines = section.splitlines()

    def row(name: str) -> str:  # a long lot name wraps in its cell; the row's figures sit beside its middle
        at = next(i for i, line in enumerate(lines) if name in line)
        return " ".join(lines[at:at + 3])

    counted, uncounted = row(keys["counted"]), row(keys["uncounted"])
    assert "取付管数" in counted and " 3 " in counted and "浄化槽へ転換" in counted
    assert "人口密度による推計" in uncounted and " 0 " in uncounted
    # The lot's own page says it too.
    assert "この群の管路沿いは3戸（取付管数による）" in text.replace("\n", "")


def test_a_branch_counted_two_ways_shows_each_ones_share():
    mixed = {"households_basis": "mixed", "basis_length_share": {"density": 0.25, "house_connections": 0.75}}
    assert households_counted(mixed) == "取付管数75%・人口密度による推計25%"  # the largest share first
    even = {"households_basis": "mixed", "basis_length_share": {"density": 0.5, "house_connections": 0.5}}
    assert households_counted(even) == "取付管数50%・人口密度による推計50%"  # then the better count
    assert households_counted({"households_basis": "buildings"}) == "建物数"
    assert households_counted({}) == "人口密度による推計"  # runs from before the basis was recorded


def test_the_pdf_shows_owners_share_connection_cases_upkeep_and_guidance(world, settings, tmp_path):
    """domain.md §7 (who pays; 下水道法 第10条), 浄化槽法 第10条・施行規則 第6条/第7条, 浄化槽法 第12条: the plan shows
    設置者負担（参考） apart from the municipal cost, the 接続指導 cases, lapsed 保守点検/清掃, and 不適正 as
    改善指導の目安（法定期限ではない）."""
    from tests.conftest import make_asset

    settings.MEDIA_ROOT = tmp_path
    for k in range(5):  # old 単独処理, 個人設置型: a conversion group and a septic lot with an owners' share
        make_asset(world.yashio, "septic_tank", external_id=f"t-{k}", lon=139.830 + 0.0003 * k, built=1980,
                   treatment="single", households_served=1)
    make_asset(world.yashio, "septic_tank", external_id="in", lon=139.85, built=1980, treatment="single",
               in_sewer_planning_area=True)
    run = run_execute(run_create(principal=world.carol, region=world.region).pk)
    plan = plan_execute(plan_create(principal=world.carol, run=run).pk)
    text = pdf_text(plan.pdf.path).replace("\n", "")
    assert "設置者負担（参考）" in text and "市町村の補助分のみを計上" in text
    assert "接続指導の対象" in text and "下水道法第10条" in text
    assert "保守点検の期限切れ" in text and "施行規則第6条" in text and "施行規則第7条" in text
    assert "改善指導の目安（法定期限ではない）" in text
