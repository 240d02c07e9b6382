"""The ledger upload page in a real browser (issue 16): a column and a word the registry does not know are mapped
on the page and the file is checked again without choosing it again; the load saves the mapping."""

from tests.web.browsing import BROWSER_TEST, sign_in

pytestmark = BROWSER_TEST

LEDGER = [
    "埼玉県 橋梁管理一覧表（八潮市管理分）",
    "令和6年4月1日現在",
    '橋梁ID,橋梁名,"位置・所在\n緯度","位置・所在\n経度","橋長\n（ｍ）","全幅員\n（ｍ）","架設年度\n(和暦)",タイプ,交差物件',
    "B-001,中川橋,35.8221,139.8391,45.5,8.0,S48,RC床版橋,河川",
    "B-002,吊橋,35.8222,139.8392,30.0,3.0,H6,吊床版橋,河川",
]


def test_a_column_and_a_value_mapped_on_the_page_then_checked_again_and_loaded(browser, live_server, world,
                                                                                settings, tmp_path):
    from assets.models import Asset
    from ledger.models import LedgerMapping

    settings.MEDIA_ROOT = tmp_path
    path = tmp_path / "橋梁管理一覧表.csv"
    path.write_bytes("\r\n".join(LEDGER).encode("cp932"))
    page = sign_in(browser, live_server, "alice")
    page.goto(f"{live_server.url}/en/ledger/import/")
    page.set_input_files("#file", str(path))
    page.select_option("#kind", "bridge")
    page.select_option("#municipality", "112348")
    page.click("button[value=check]")
    page.wait_for_selector("#ledger-ignored")
    assert "タイプ" in page.text_content("#ledger-ignored")
    assert "橋梁管理一覧表.csv" in page.text_content("#ledger-pending")
    # The column: mapped on the page; the file is not chosen again.
    page.select_option("select[aria-label='タイプ']", "detail.structure_type")
    page.click("button[value=check]")
    page.wait_for_selector("#mapping-values")
    assert "吊床版橋" in page.text_content("#mapping-values")
    # The word no vocabulary knows: mapped too, then loaded.
    page.select_option("select[aria-label='吊床版橋']", "other")
    page.click("button[value=load]")
    page.wait_for_selector("#ledger-mapping-saved")
    assert Asset.objects.get(external_id="B-002").bridge.structure_type == "other"
    assert Asset.objects.get(external_id="B-001").bridge.structure_type == "rc"
    saved = LedgerMapping.objects.get(owner_id="112348", kind="bridge")
    assert saved.columns == {"タイプ": "detail.structure_type"}
    assert saved.value_mapping == {"detail.structure_type": {"吊床版橋": "other"}}
    assert not list((tmp_path / "ledger-pending").glob("*.bin"))  # the kept file is gone once loaded
