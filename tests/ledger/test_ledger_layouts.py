"""Ledgers as offices keep them, read with no column mapping (issue 16): a prefecture-style 橋梁管理一覧表, a
下水道台帳 管渠調書 and a 浄化槽台帳 in CP932, with title and date rows, headers wrapped and decorated with units
(domain.md §4.1–4.3, §4.7 和暦 and 不明, §4.8 CP932); their words (橋梁形式, 管種, 処理方式, 交差物件) matched to
registry values from the vocabularies (fixtures/ledger/vocabularies.json)."""

import json

import pytest
from django.core.management import call_command

from assets.history import Actor
from assets.models import Asset, Via
from core.text import HeaderNames, bare_key, find_header
from ledger.importer import import_ledger
from ledger.models import LedgerMapping
from ledger.vocabularies import Vocabulary, value_key

SYSTEM = Actor.system(Via.IMPORT)

# 八潮市 (112348) around lon 139.839, lat 35.822.
BRIDGES = [
    "埼玉県 橋梁管理一覧表（八潮市管理分）,,,,,,,,,,,,,",
    "令和6年4月1日現在,,,,,,,,,,,,,",
    ",,,,,,,,,,,,,",
    'No.,橋梁ID,橋梁名,路線名,"位置・所在\n緯度","位置・所在\n経度","橋長\n（ｍ）","全幅員\n（ｍ）","架設年度\n(和暦)",'
    "橋梁形式,径間数,交差物件,市町村,備考",
    "1,B-001,中川橋,市道1号線,35.8221,139.8391,45.5,8.0,S48,RC床版橋,1,一級河川,八潮市,",
    "2,B-002,大場橋,市道2号線,35.8222,139.8392,120.0,10.5,平成6年度,PC単純T桁橋,3,河川,八潮市,",
    "3,B-003,緑橋,市道3号線,35.8223,139.8393,30.2,6.0,不明,鋼単純H桁橋,1,道路,八潮市,",
    "4,B-004,垳川橋,市道4号線,35.8224,139.8394,12.0,5.0,R2,PC単純プレテン床版橋,1,水路,八潮市,",
    "5,B-005,新橋,市道5号線,35.8225,139.8395,60.0,9.0,H12,鋼連続I桁橋,2,鉄道,八潮市,",
    "6,B-006,西橋,市道6号線,35.8226,139.8396,8.0,4.0,S55,ボックスカルバート,1,水路,八潮市,",
    "7,B-007,東橋,市道7号線,35.8227,139.8397,15.0,6.5,S60,RCラーメン橋,1,用水路,八潮市,",
    "8,B-008,南橋,市道8号線,35.8228,139.8398,22.0,7.0,H3,鋼単純鈑桁橋,1,農道,八潮市,",
]

PIPES = [
    "八潮市 下水道台帳 管渠調書",
    "令和6年3月31日現在",
    '"管渠\n番号","管種","管径\n［mm］","延長\n（ｍ）","布設\n年度","排除\n方式","始点X座標(m)","始点Y座標(m)",'
    '"終点X座標(m)","終点Y座標(m)","上流マンホール番号","処理区","市町村名"',
    "K-1,ヒューム管,300,45.5,S48,汚水,-19750.0,514.0,-19750.0,560.0,M-1,中川処理区,八潮市",
    "K-2,硬質塩化ビニル管,200,30.0,H6年度,汚水,-19700.0,514.0,-19650.0,514.0,M-2,中川処理区,八潮市",
    "K-3,VU,200,40,令和元年,汚水,-19800.0,600.0,-19800.0,640.0,M-3,中川処理区,八潮市",
    "K-4,陶管,250,30,不明,合流,-19850.0,600.0,-19850.0,630.0,M-4,中川処理区,八潮市",
    "K-5,ダクタイル鋳鉄管,250,30,昭和48年,雨水,-19860.0,600.0,-19860.0,630.0,M-5,中川処理区,八潮市",
    "K-6,鉄筋コンクリート管,250,30,R6,汚水,-19870.0,600.0,-19870.0,630.0,M-6,中川処理区,八潮市",
]

SEPTIC = [
    "埼玉県 浄化槽台帳（八潮市）",
    "令和6年4月1日現在",
    '"浄化槽\n番号","設置場所","人槽\n（人）","処理方式","合併／単独","緯度\n(世界測地系)","経度\n(世界測地系)",'
    '"設置年月日","団体名","管理者名"',
    "S-1,八潮1-1,5,分離接触ばっ気方式,合併,35.8221,139.8391,S55.4.1,八潮市,八潮太郎",
    "S-2,八潮1-2,7,嫌気ろ床接触ばっ気方式,合併処理浄化槽,35.8222,139.8392,H12.10.1,八潮市,八潮花子",
    "S-3,八潮1-3,10,脱窒ろ床接触ばっ気方式,合併,35.8223,139.8393,令和2年5月1日,八潮市,",
    "S-4,八潮1-4,5,性能評価型,合併,35.8224,139.8394,不明,八潮市,",
    "S-5,八潮1-5,5,全ばっ気,単独,35.8225,139.8395,S50.4.1,八潮市,",
]


def cp932(lines) -> bytes:
    return "\r\n".join(lines).encode("cp932")


def run(lines, kind, **kw):
    kw.setdefault("municipality", "11234")
    kw.setdefault("actor", SYSTEM)
    return import_ledger(data=cp932(lines), filename="daicho.csv", kind=kind, **kw)


def test_decorated_headers_name_their_fields():
    """Headers match after NFKC, spaces and line breaks, brackets and units are set aside (issue 16)."""
    assert [bare_key(h) for h in ("橋長\n（ｍ）", "管径 [mm]", "架設年度(和暦)", "延長m", "人槽（人）")] == [
        "橋長", "管径", "架設年度", "延長", "人槽"]
    names = HeaderNames({"緯度": "lat", "管渠番号": "external_id"}, {"緯度": "lat", "マンホール番号": "external_id"},
                        ("上流",))
    assert names.field("位置・所在\n緯度") == ("lat", ())
    # A decoration that names another thing: the upstream manhole's number is not the pipe's number.
    assert names.field("上流マンホール番号") == (None, ())
    header = find_header([["title"], ["管渠番号", "位置・所在 緯度"]], names, lambda f: "external_id" in f)
    assert (header.at, header.columns) == (1, {0: "external_id", 1: "lat"})


def test_bridge_words_as_ledgers_write_them_match_registry_values():
    """橋梁形式 and 交差物件 as the 点検要領 諸元 and prefectural lists write them (vocabularies.json)."""
    structure = Vocabulary("detail.structure_type", [(v, v) for v in ("rc", "pc", "steel", "composite",
                                                                       "box_culvert", "other")])
    got = {w: structure.match(w).value for w in ("RC床版橋", "ＰＣ単純Ｔ桁橋", "PC単純プレテン床版橋", "鋼単純H桁橋",
                                                  "鋼連続I桁橋", "鋼単純鈑桁橋", "ボックスカルバート", "RCラーメン橋",
                                                  "rc床版", "鋼単純合成H桁橋", "RCボックスカルバート", "木橋", "謎の橋")}
    assert got == {"RC床版橋": "rc", "ＰＣ単純Ｔ桁橋": "pc", "PC単純プレテン床版橋": "pc", "鋼単純H桁橋": "steel",
                   "鋼連続I桁橋": "steel", "鋼単純鈑桁橋": "steel", "ボックスカルバート": "box_culvert",
                   "RCラーメン橋": "rc", "rc床版": "rc", "鋼単純合成H桁橋": "steel", "RCボックスカルバート": "box_culvert",
                   "木橋": "other", "謎の橋": None}
    crosses = Vocabulary("detail.crosses", [(v, v) for v in ("river", "road", "railway", "channel", "other")])
    assert [crosses.match(w).value for w in ("一級河川 中川", "市道", "JR東日本", "農業用水路")] == [
        "river", "road", "railway", "channel"]
    assert value_key("バッ気") == value_key("ばっ気") and value_key("RC床版橋") == "rc床版"


def test_a_prefecture_style_bridge_list_imports_with_no_mapping(world):
    """Title and date rows, wrapped decorated headers (位置・所在 緯度, 橋長（ｍ）, 架設年度(和暦)), 和暦 and 不明,
    real 橋梁形式, and 市町村 holding a name: read as the registry needs (domain.md §4.1, §4.5, §4.7)."""
    report = run(BRIDGES, "bridge")
    assert report.ok, report.errors
    assert (report.created, report.encoding) == (8, "cp932")
    assert report.mapping["位置・所在 緯度"] == "lat" and report.mapping["橋長 （ｍ）"] == "detail.length_m"
    assert report.mapping["架設年度 (和暦)"] == "built_fiscal_year" and report.mapping["市町村"] == "owner"
    assert {i["column"] for i in report.ignored} == {"No.", "備考"}
    bridges = {a.external_id: a for a in Asset.objects.filter(kind="bridge").select_related("bridge")}
    assert {k: a.bridge.structure_type for k, a in bridges.items()} == {
        "B-001": "rc", "B-002": "pc", "B-003": "steel", "B-004": "pc", "B-005": "steel", "B-006": "box_culvert",
        "B-007": "rc", "B-008": "steel"}
    assert {k: a.bridge.crosses for k, a in bridges.items()} == {
        "B-001": "river", "B-002": "river", "B-003": "road", "B-004": "channel", "B-005": "railway",
        "B-006": "channel", "B-007": "channel", "B-008": "road"}
    assert bridges["B-001"].built_fiscal_year == 1973 and bridges["B-003"].built_fiscal_year is None
    assert bridges["B-001"].owner_id == "112348" and bridges["B-002"].bridge.length_m == 120.0
    assert report.values["detail.structure_type"]["RC床版橋"] == "rc"


def test_a_sewer_ledger_layout_imports_with_no_mapping(world):
    """下水道台帳 管渠調書 (domain.md §4.2): 管種 as written (ヒューム管, 硬質塩化ビニル管, VU, 陶管, ダクタイル鋳鉄管),
    管径［mm］, and an upstream manhole number that is not the pipe's own id."""
    report = run(PIPES, "sewer_pipe", srid=6677)
    assert report.ok, report.errors
    assert report.created == 6
    assert report.mapping["管径 ［mm］"] == "detail.diameter_mm" and report.mapping["管渠 番号"] == "external_id"
    assert {i["column"] for i in report.ignored} == {"上流マンホール番号", "処理区"}
    pipes = {a.external_id: a.sewer_pipe for a in Asset.objects.filter(kind="sewer_pipe").select_related("sewer_pipe")}
    assert {k: p.material for k, p in pipes.items()} == {"K-1": "rc", "K-2": "pvc", "K-3": "pvc", "K-4": "clay",
                                                         "K-5": "ductile_iron", "K-6": "rc"}
    assert pipes["K-4"].drainage_system == "combined" and pipes["K-1"].diameter_mm == 300


def test_a_septic_ledger_layout_imports_with_no_mapping(world):
    """浄化槽台帳 (domain.md §4.3): 人槽（人）, 合併／単独, 処理方式 in its standard spelling, 設置年月日 in 和暦,
    団体名 holding the name."""
    report = run(SEPTIC, "septic_tank")
    assert report.ok, report.errors
    assert report.created == 5
    tanks = {a.external_id: a for a in Asset.objects.filter(kind="septic_tank").select_related("septic_tank")}
    assert {k: t.septic_tank.treatment for k, t in tanks.items()} == {
        "S-1": "combined", "S-2": "combined", "S-3": "combined", "S-4": "combined", "S-5": "single"}
    assert tanks["S-5"].septic_tank.treatment_method == "全ばっ気方式"  # the standard spelling
    assert tanks["S-2"].septic_tank.treatment_method == "嫌気ろ床接触ばっ気方式"
    assert tanks["S-1"].built_fiscal_year == 1980 and tanks["S-3"].built_fiscal_year == 2020
    assert tanks["S-1"].septic_tank.capacity_persons == 5


def test_two_columns_that_could_be_one_field_are_named_and_neither_is_read(world):
    """Which of 架設年度(和暦) and 架設年度(西暦) is right cannot be known: a warning names both, neither is read."""
    lines = [BRIDGES[3].replace("架設年度\n(和暦)\"", "架設年度\n(和暦)\",架設年度(西暦)")] + [
        line.replace(",S48,", ",S48,1973,").replace(",平成6年度,", ",平成6年度,1994,").replace(
            ",不明,", ",不明,,").replace(",R2,", ",R2,2020,").replace(",H12,", ",H12,2000,").replace(
            ",S55,", ",S55,1980,").replace(",S60,", ",S60,1985,").replace(",H3,", ",H3,1991,")
        for line in BRIDGES[4:]]
    report = run(lines, "bridge")
    assert report.ok, report.errors
    assert any("架設年度 (和暦)" in w and "架設年度(西暦)" in w and "built_fiscal_year" in w for w in report.warnings)
    assert "built_fiscal_year" not in report.mapping.values()
    assert {i["column"] for i in report.ignored} >= {"架設年度 (和暦)", "架設年度(西暦)"}
    assert all(a.built_fiscal_year is None for a in Asset.objects.filter(kind="bridge"))


def test_an_unknown_word_is_named_with_its_column_and_what_is_allowed(world):
    """A word no vocabulary knows: the message names it, its column, the record and the allowed values."""
    lines = BRIDGES[:4] + [BRIDGES[4].replace("RC床版橋", "謎形式")]
    report = run(lines, "bridge", dry_run=True)
    text = " ".join(report.errors + report.warnings)
    assert "'謎形式'" in text and "'橋梁形式'" in text and "rc" in text and "upload page" in text
    assert report.values["detail.structure_type"]["謎形式"] == ""


def test_an_ignored_column_is_listed_with_the_fields_it_might_be(world):
    lines = BRIDGES[:3] + [BRIDGES[3].replace("橋梁形式", "橋梁の形式")] + BRIDGES[4:]
    report = run(lines, "bridge", dry_run=True)
    ignored = {i["column"]: i["suggestions"] for i in report.ignored}
    assert "detail.structure_type" in ignored["橋梁の形式"]


def test_a_value_mapping_is_saved_and_used_again(world, tmp_path):
    """The command's --mapping FILE maps a column and a word; saved beside the column mapping, the next
    import of the same ledger needs neither."""
    lines = BRIDGES[:3] + [BRIDGES[3].replace("橋梁形式", "タイプ")] + [
        BRIDGES[4].replace("RC床版橋", "石造アーチ（眼鏡橋）")] + BRIDGES[5:]
    path = tmp_path / "bridges.csv"
    path.write_bytes(cp932(lines))
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"columns": {"タイプ": "detail.structure_type"},
                                   "values": {"detail.structure_type": {"石造アーチ（眼鏡橋）": "other"}}}),
                       encoding="utf-8")
    call_command("import_ledger", str(path), kind="bridge", municipality="11234", mapping=str(mapping),
                 save_mapping=True)
    saved = LedgerMapping.objects.get(owner_id="112348", kind="bridge")
    assert saved.columns == {"タイプ": "detail.structure_type"}
    assert saved.value_mapping == {"detail.structure_type": {"石造アーチ（眼鏡橋）": "other"}}
    assert Asset.objects.get(external_id="B-001").bridge.structure_type == "other"
    again = run([line.replace("B-00", "C-00") for line in lines], "bridge")
    assert again.ok, again.errors
    assert Asset.objects.get(external_id="C-001").bridge.structure_type == "other"
    assert again.mapping["タイプ"] == "detail.structure_type"


@pytest.mark.parametrize("name", ["八潮市", "埼玉県八潮市", "１１２３４８"])
def test_a_municipality_column_may_hold_the_name_or_the_code(world, name):
    """団体名 / 市町村 columns hold names as often as codes (domain.md §4.5): a name is read as its code."""
    lines = BRIDGES[:4] + [BRIDGES[4].replace(",八潮市,", f",{name},")]
    report = run(lines, "bridge", municipality=None, dry_run=True)
    assert report.ok, report.errors


def test_the_upload_page_checks_again_with_the_kept_file_and_a_mapping(client, world, settings, tmp_path):
    """Re-check without choosing the file again: the file is kept server-side for its sender only."""
    import io

    settings.MEDIA_ROOT = tmp_path
    lines = BRIDGES[:3] + [BRIDGES[3].replace("橋梁形式", "タイプ")] + BRIDGES[4:]
    client.force_login(world.alice)
    upload = io.BytesIO(cp932(lines))
    upload.name = "bridges.csv"
    first = client.post("/en/ledger/import/", {"file": upload, "kind": "bridge", "municipality": "112348",
                                               "action": "check"})
    token = first.context["pending"]
    assert token and first.context["report"] is not None
    assert "タイプ" in {i["column"] for i in first.context["report"].ignored}
    again = client.post("/en/ledger/import/", {"pending": token, "kind": "bridge", "municipality": "112348",
                                               "action": "check", "colh-1": "タイプ", "col-1": "detail.structure_type"})
    assert again.context["report"].ok, again.context["report"].errors
    assert again.context["report"].mapping["タイプ"] == "detail.structure_type"
    client.force_login(world.bob)  # someone else cannot use the kept file
    other = client.post("/en/ledger/import/", {"pending": token, "kind": "bridge", "action": "check"})
    assert other.context["report"] is None and "no longer kept" in other.context["error"]
    client.force_login(world.alice)
    hostile = client.post("/en/ledger/import/", {"pending": "../../etc/passwd", "kind": "bridge", "action": "check"})
    assert "no longer kept" in hostile.context["error"]


def test_a_mapping_to_a_value_that_does_not_exist_is_refused(world, tmp_path):
    from django.core.exceptions import ValidationError

    from ledger.mappings import save_mapping

    with pytest.raises(ValidationError, match="not allowed"):
        save_mapping(municipality="112348", kind="bridge", source="ledger",
                     mapping={"values": {"detail.structure_type": {"木": "wood"}}})
    with pytest.raises(ValidationError, match="not a field"):
        save_mapping(municipality="112348", kind="bridge", source="ledger", mapping={"columns": {"x": "nope"}})
