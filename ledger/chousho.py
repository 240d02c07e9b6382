"""The 点検調書 of one bridge as xlsx: 様式1 (橋梁の諸元と総合検査結果) and 様式2 (状況写真・損傷の記録), laid out like
the record forms of the 道路橋定期点検要領 (国土交通省道路局; 記録様式 様式1/様式2, revised 2024-03, domain.md §2.1).

What the layout rests on: 様式1 (その1) names 橋梁名 (フリガナ), 路線名, 所在地, 起点側 緯度・経度, 管理者名,
点検実施年月日, 路下条件, 代替路の有無 …, then 部材単位の診断 (上部構造 主桁・横桁・床版, 下部構造, 支承部, その他, each
with 判定区分 Ⅰ–Ⅳ, 変状の種類 (Ⅱ以上の場合に記載) and 備考) and 道路橋毎の健全性の診断 with 所見; 様式 (その2) 状況写真
(損傷状況) shows, per member group whose 判定区分 is Ⅱ, Ⅲ or Ⅳ, the photos of the defect ("部材単位の判定区分がⅡ、Ⅲ又は
Ⅳの場合には、直接関連する不具合の写真を記載のこと"). Read from public copies of filled-in forms (docsplayer.net
109534134, 南種子町 学園橋), not from the MLIT PDF: exact cell positions and the 2024 revision's additions are
(unverified). The row "上部構造 その他の部材" (縦桁, アーチリブ …, main members the form's three rows do not name)
is ours.

Fixed cells (the tests read them): 様式1 B3 橋梁名, H3 橋梁ID, E5 点検実施年月日, rows 12–18 部材単位の診断
(C = 判定区分), C20 道路橋毎の健全性 (Ⅰ–Ⅳ), B21 所見. Members come from the latest 健全性 inspection's observations
(`observations.members`: member code + 要素番号, grade, damage_type 1–26, degree a–e, measure), grouped by the
member catalogue (fixtures/catalogue/bridge_members.json); a group's 判定区分 is its worst member's."""

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from assets.models import Asset, ExternalSystem
from core import wareki
from core.export import xlsx_text
from inspections.catalogue import member_rows, resolve_scheme, scheme_dict
from inspections.models import Inspection
from ledger.national import CROSSING_NAMES, STRUCTURE_NAMES

__all__ = ["FORM1_MEMBER_ROWS", "bridge_chousho"]

SCHEME = "bridge_kenzen"
# 様式1 部材単位の診断: (区分, 部材名, member codes or None for "the group's members not named above").
FORM1_MEMBER_ROWS = (
    ("上部構造", "主桁", ("Mg",)),
    ("上部構造", "横桁", ("Cr",)),
    ("上部構造", "床版", ("Ds",)),
    ("上部構造", "その他の部材", None),
    ("下部構造", "", None),
    ("支承部", "", None),
    ("その他", "路上・排水施設・落橋防止等", None),
)
FIRST_MEMBER_ROW = 12
ROMAN = {"I": "Ⅰ", "II": "Ⅱ", "III": "Ⅲ", "IV": "Ⅳ"}
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD = PatternFill("solid", fgColor="DDDDDD")
MAX_EMBEDDED = 12  # thumbnails shown in 様式2; every photo is listed


def _row_of(code: str, catalogue: dict[str, dict]) -> int:
    """Which 様式1 member row a member code (Mg0101) belongs to."""
    prefix = "".join(ch for ch in code if ch.isalpha())
    group = catalogue.get(prefix, {}).get("group", "その他")
    for i, (_section, _name, codes) in enumerate(FORM1_MEMBER_ROWS):
        if codes and prefix in codes:
            return i
    for i, (section, _name, codes) in enumerate(FORM1_MEMBER_ROWS):
        if codes is None and section == group:
            return i
    return len(FORM1_MEMBER_ROWS) - 1


def _cell(ws, ref: str, value, *, head: bool = False, wrap: bool = False):
    c = ws[ref]
    # Names, notes and file names are people's text: never a live formula, never a character xlsx cannot hold.
    c.value = xlsx_text(value)
    c.border = BOX
    c.alignment = Alignment(vertical="center", wrap_text=wrap or head)
    if head:
        c.fill = HEAD
        c.font = Font(bold=True)
    return c


def _latest(asset: Asset) -> Inspection | None:
    return (Inspection.objects.filter(asset=asset, scheme__code=SCHEME).select_related("grade")
            .prefetch_related("photos").order_by("-inspected_on", "-id").first())


def bridge_chousho(asset: Asset) -> bytes:
    """The xlsx of one bridge (already looked up within the requester's scope)."""
    bridge = asset.bridge
    owner = asset.owner
    insp = _latest(asset)
    scheme = scheme_dict(resolve_scheme("bridge", SCHEME).pk)
    labels = {g["code"]: g["label"] for g in scheme["grades"]}
    rank = {g["code"]: g["rank"] for g in scheme["grades"]}
    lists = scheme.get("lists", {})
    catalogue = {m["code"]: m for m in member_rows()}
    nid = asset.external_ids.filter(system=ExternalSystem.XROAD).values_list("value", flat=True).first() or ""
    lon, lat = (asset.geom.point_on_surface.x, asset.geom.point_on_surface.y) if asset.geom else ("", "")

    wb = Workbook()
    ws = wb.active
    ws.title = "様式1"
    for col, width in zip("ABCDEFGH", (16, 22, 14, 24, 12, 16, 16, 22), strict=True):
        ws.column_dimensions[col].width = width
    ws["A1"] = "様式1（その1）"
    ws["C1"] = "橋梁の諸元と総合検査結果"
    ws["C1"].font = Font(bold=True, size=14)
    built = (f"{asset.built_fiscal_year}（{wareki.format_fiscal_year(asset.built_fiscal_year)}）"
             if asset.built_fiscal_year else (asset.built_year_text or "不明"))
    facts = [
        (3, "橋梁名", asset.name, "路線名", bridge.route_name, "橋梁ID", nid),
        (4, "所在地", f"{owner.prefecture}{'' if owner.kind == 'prefecture' else owner.name}",
         "緯度", round(lat, 7) if lat != "" else "", "経度", round(lon, 7) if lon != "" else ""),
        (5, "管理者名", owner.name, "点検実施年月日", insp.inspected_on if insp else "", "共通ID", asset.global_id),
        (6, "架設年度", built, "橋長(m)", bridge.length_m, "幅員(m)", bridge.width_m),
        (7, "橋種", STRUCTURE_NAMES.get(bridge.structure_type, bridge.structure_type), "径間数", bridge.span_count,
         "路下条件", " ".join(x for x in (CROSSING_NAMES.get(bridge.crosses, bridge.crosses), bridge.crosses_name) if x)),
        (8, "点検者", insp.inspector if insp else "", "点検方法", insp.method if insp else "", "台帳番号",
         asset.external_id or ""),
    ]
    for row, *pairs in facts:
        for (label, value), (lc, vc) in zip(zip(pairs[0::2], pairs[1::2], strict=True),
                                            (("A", "B"), ("D", "E"), ("G", "H")), strict=True):
            _cell(ws, f"{lc}{row}", label, head=True)
            _cell(ws, f"{vc}{row}", value)
    if insp:
        ws["E5"].number_format = "yyyy-mm-dd"

    ws["A10"] = "部材単位の診断（各部材毎に最も厳しい健全性の診断結果を記入）"
    ws["A10"].font = Font(bold=True)
    for col, text in zip("ABCDEFG", ("区分", "部材名", "判定区分（Ⅰ〜Ⅳ）", "変状の種類（Ⅱ以上の場合に記載）",
                                     "対策区分", "要素番号", "備考（写真番号、位置等が分かるように記載）"), strict=True):
        _cell(ws, f"{col}11", text, head=True)
    members = list((insp.observations or {}).get("members") or []) if insp else []
    grouped: list[list[dict]] = [[] for _r in FORM1_MEMBER_ROWS]
    for m in members:
        if isinstance(m, dict) and m.get("member"):
            grouped[_row_of(str(m["member"]), catalogue)].append(m)
    photo_no = {p.pk: i for i, p in enumerate(insp.photos.all(), start=1)} if insp else {}
    damaged = []  # (row label, member row) for 様式2
    for i, ((section, name, _codes), rows) in enumerate(zip(FORM1_MEMBER_ROWS, grouped, strict=True)):
        r = FIRST_MEMBER_ROW + i
        graded = [m for m in rows if str(m.get("grade") or "") in rank]
        worst = max(graded, key=lambda m: rank[m["grade"]])["grade"] if graded else None
        bad = [m for m in graded if rank[m["grade"]] >= 1]
        damage = sorted({lists.get("damage_types", {}).get(str(m.get("damage_type")), "") for m in bad} - {""})
        measures = sorted({str(m.get("measure")).upper() for m in rows if m.get("measure")})
        _cell(ws, f"A{r}", section)
        _cell(ws, f"B{r}", name)
        _cell(ws, f"C{r}", ROMAN.get(worst, "") if worst else ("—" if not rows else ""))
        _cell(ws, f"D{r}", "、".join(damage), wrap=True)
        _cell(ws, f"E{r}", "、".join(measures))
        _cell(ws, f"F{r}", "、".join(f"{m['member']}（{ROMAN.get(m.get('grade'), '')}）" for m in rows), wrap=True)
        _cell(ws, f"G{r}", "、".join(str(m.get("note") or m.get("location") or "") for m in bad if
                                    m.get("note") or m.get("location")), wrap=True)
        damaged += [(f"{section}（{name or section}）", m) for m in bad]

    _cell(ws, "A20", "道路橋毎の健全性の診断（判定区分Ⅰ〜Ⅳ）", head=True)
    ws.merge_cells("A20:B20")
    grade = insp.grade.code if insp else None
    _cell(ws, "C20", ROMAN.get(grade, "") if grade else "未点検")
    _cell(ws, "D20", labels.get(grade, "").split(" ", 1)[-1] if grade else "")
    _cell(ws, "A21", "所見等", head=True)
    _cell(ws, "B21", (insp.notes if insp else "") or "", wrap=True)
    ws.merge_cells("B21:H23")
    ws["A25"] = "全景写真・損傷写真は様式2に記載"
    derived = (insp.observations or {}).get("derived", {}) if insp else {}
    if derived.get("worst_member_grade"):
        ws["A26"] = (f"主要部材以外の最も厳しい部材の判定区分: {ROMAN.get(derived['worst_member_grade'], '')}"
                     "（道路橋毎の健全性は主要部材の診断で代表）")

    # ---- 様式2 ---------------------------------------------------------------------------------------------------
    ws2 = wb.create_sheet("様式2")
    for col, width in zip("ABCDEFGH", (8, 24, 12, 12, 18, 12, 30, 20), strict=True):
        ws2.column_dimensions[col].width = width
    ws2["A1"] = "様式2"
    ws2["C1"] = "状況写真（損傷状況）"
    ws2["C1"].font = Font(bold=True, size=14)
    ws2["A2"] = ("部材単位の判定区分がⅡ、Ⅲ又はⅣの場合には、直接関連する不具合の写真を記載のこと。"
                 "写真は、不具合の程度が分かるように添付すること。")
    ws2["A3"] = xlsx_text(f"橋梁名: {asset.name}　橋梁ID: {nid}　点検実施年月日: {insp.inspected_on if insp else '—'}")
    ws2["A5"] = "損傷の記録"
    ws2["A5"].font = Font(bold=True)
    for col, text in zip("ABCDEFG", ("No.", "部材", "要素番号", "判定区分", "損傷の種類", "損傷程度", "対策区分"),
                         strict=True):
        _cell(ws2, f"{col}6", text, head=True)
    r = 7
    for n, (where, m) in enumerate(damaged, start=1):
        dt = str(m.get("damage_type") or "")
        deg = str(m.get("degree") or "").lower()
        meas = str(m.get("measure") or "").upper()
        for col, v in zip("ABCDEFG", (n, where, m["member"], ROMAN.get(m["grade"], ""),
                                      lists.get("damage_types", {}).get(dt, dt),
                                      f"{deg} {lists.get('degrees', {}).get(deg, '')}".strip(),
                                      f"{meas} {lists.get('measures', {}).get(meas, '')}".strip()), strict=True):
            _cell(ws2, f"{col}{r}", v, wrap=col in "BEG")
        r += 1
    if not damaged:
        _cell(ws2, f"A{r}", "判定区分Ⅱ以上の部材なし")
        r += 1
    r += 1
    ws2[f"A{r}"] = "状況写真"
    ws2[f"A{r}"].font = Font(bold=True)
    r += 1
    for col, text in zip("ABCD", ("写真番号", "ファイル名", "登録日", "大きさ"), strict=True):
        _cell(ws2, f"{col}{r}", text, head=True)
    photos = list(insp.photos.all()) if insp else []
    first_photo_row = r + 1
    for p in photos:
        r += 1
        _cell(ws2, f"A{r}", f"写真{photo_no[p.pk]}")
        _cell(ws2, f"B{r}", p.original_name)
        _cell(ws2, f"C{r}", p.uploaded_at.date() if p.uploaded_at else "")
        _cell(ws2, f"D{r}", f"{p.width}×{p.height}")
    if not photos:
        r += 1
        _cell(ws2, f"A{r}", "写真なし")
    _embed(ws2, photos[:MAX_EMBEDDED], first_photo_row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _embed(ws, photos, first_row: int) -> None:
    """Thumbnails beside the list (column F on), when the files can be read; a missing file leaves the name."""
    try:
        from openpyxl.drawing.image import Image as XLImage
    except ImportError:  # pragma: no cover - openpyxl without Pillow
        return
    for i, p in enumerate(photos):
        try:
            with p.thumbnail.open("rb") as f:
                img = XLImage(io.BytesIO(f.read()))
        except (OSError, ValueError):
            continue
        scale = min(1.0, 120 / max(img.width or 1, 1), 90 / max(img.height or 1, 1))
        img.width, img.height = int(img.width * scale), int(img.height * scale)
        ws.add_image(img, f"F{first_row + i * 5}")


def chousho_filename(asset: Asset) -> str:
    return f"点検調書_{asset.global_id}.xlsx"

