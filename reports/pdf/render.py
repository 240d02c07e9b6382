"""The maintenance-plan PDF (A4, Japanese, IPAex embedded): PlanDocument in, PDF bytes out. No database."""

import io
from xml.sax.saxutils import escape as xml_escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    KeepTogether,
    LongTable,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from core.wareki import format_fiscal_year
from reports.pdf import drawings
from reports.pdf.fonts import GOTHIC, MINCHO, register
from reports.pdf.model import PlanDocument
from reports.pdf.money import oku, split_million

WIDTH, HEIGHT = A4
MARGIN = 18 * mm
BODY_W = WIDTH - 2 * MARGIN
WORK_LABEL = {"road": "舗装", "sewer": "下水道管路", "bridge": "橋梁", "septic": "浄化槽", "road_sewer": "舗装＋下水道"}
ACTION_LABEL = {"monitor": "経過観察", "repair": "修繕", "renew": "更新"}
KIND_LABEL = {"road_segment": "道路(舗装)", "bridge": "橋梁", "sewer_pipe": "下水道管渠", "manhole": "マンホール",
              "septic_tank": "浄化槽", "tunnel": "トンネル", "shed_culvert": "シェッド・大型カルバート",
              "ped_overpass": "横断歩道橋", "gantry_sign": "門型標識等"}
STRATEGY_LABEL = {"preventive": "予防保全", "corrective": "事後保全"}
# How the households along a sewer branch were counted (domain.md §7): the ledger's 取付管, buildings, or the
# owner's population density over a strip along the pipes.
HOUSEHOLDS_BASIS_LABEL = {"house_connections": "取付管数", "buildings": "建物数", "density": "人口密度による推計"}
SCHEME_LABEL = {"bridge_kenzen": "橋梁の健全性（Ⅰ〜Ⅳ）", "pavement_shindan": "舗装の診断区分",
                "sewer_kinkyu": "管渠の緊急度", "manhole_kinkyu": "マンホールの緊急度",
                "septic_hantei": "浄化槽の法定検査の判定"}
DRIVER_LABEL = {"traffic": "交通量", "emergency_route": "緊急輸送道路", "served": "処理人口・管径", "depth": "土被り",
                "road_above": "上部道路", "important_facility": "重要施設", "detour": "迂回距離"}


def _styles() -> dict[str, ParagraphStyle]:
    base = dict(fontName=MINCHO, fontSize=9.5, leading=15, wordWrap="CJK")
    return {
        "body": ParagraphStyle("body", **base),
        "small": ParagraphStyle("small", **{**base, "fontSize": 8, "leading": 12}),
        "cell": ParagraphStyle("cell", **{**base, "fontName": GOTHIC, "fontSize": 7.5, "leading": 10}),
        "h1": ParagraphStyle("h1", fontName=GOTHIC, fontSize=15, leading=22, spaceBefore=4, spaceAfter=8,
                             textColor=colors.HexColor("#0d3c61"), wordWrap="CJK"),
        "h2": ParagraphStyle("h2", fontName=GOTHIC, fontSize=11.5, leading=17, spaceBefore=8, spaceAfter=4,
                             textColor=colors.HexColor("#0d3c61"), wordWrap="CJK"),
        "title": ParagraphStyle("title", fontName=GOTHIC, fontSize=24, leading=34, alignment=TA_CENTER,
                                wordWrap="CJK"),
        "subtitle": ParagraphStyle("subtitle", fontName=GOTHIC, fontSize=14, leading=22, alignment=TA_CENTER,
                                   wordWrap="CJK"),
        "toc0": ParagraphStyle("toc0", fontName=GOTHIC, fontSize=10, leading=15, wordWrap="CJK"),
        "toc1": ParagraphStyle("toc1", fontName=MINCHO, fontSize=8.5, leading=12, wordWrap="CJK"),
        "centre": ParagraphStyle("centre", **{**base, "alignment": TA_CENTER, "fontSize": 11, "leading": 18}),
    }


def _p(text, style: ParagraphStyle) -> Paragraph:
    """The one way text enters the PDF. reportlab's Paragraph reads markup (<img src> fetches a URL or a file,
    <a>, <font>, <b>); our text comes from the registry (names typed by anyone with write access), so every
    character is escaped and only a line break survives, as a line break."""
    return Paragraph(xml_escape(str(text)).replace("\n", "<br/>"), style)


def _h(text: str, st, level: int = 0) -> Paragraph:
    """A heading the 目次 lists (level 0: chapters, 1: sections)."""
    para = _p(text, st["h1" if level == 0 else "h2"])
    para._toc_level = level
    return para


def _yen_m(x: float) -> str:
    return f"{x / 1e6:,.1f}"


def _table(rows: list[list], widths: list[float], header_rows: int = 1, align_right: tuple = (),
           zebra: bool = True, padding: float = 6) -> LongTable:
    """A table that splits across pages and repeats its header on each (`padding`: left and right, points;
    the dense per-facility tables use less so a 年度 fits its column)."""
    st = _styles()["cell"]
    data = [[c if not isinstance(c, str) else _p(c, st) for c in r] for r in rows]
    t = LongTable(data, colWidths=widths, repeatRows=header_rows)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), GOTHIC),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#9aa7b4")),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#dde7f0")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), padding), ("RIGHTPADDING", (0, 0), (-1, -1), padding),
    ]
    if zebra:
        for i in range(header_rows, len(rows)):
            if (i - header_rows) % 2:
                style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f6f8fa")))
    t.setStyle(TableStyle(style))
    return t


def _num(text: str) -> Paragraph:
    return _p(text, ParagraphStyle("num", parent=_styles()["cell"], alignment=2))


class _NumberedCanvas(Canvas):
    """Two passes: pages are kept until the end, so each footer can say "n / N"."""

    def __init__(self, *args, doc: PlanDocument | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._saved = []
        self._plan = doc

    def showPage(self):
        self._saved.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._saved)
        for state in self._saved:
            self.__dict__.update(state)
            if self._pageNumber > 1:
                self.setFont(GOTHIC, 8)
                self.setFillColor(colors.HexColor("#555555"))
                self.drawCentredString(WIDTH / 2, 10 * mm, f"- {self._pageNumber} / {total} -")
                if self._plan is not None:
                    self.drawString(MARGIN, HEIGHT - 11 * mm, self._plan.title)
                    self.drawRightString(WIDTH - MARGIN, HEIGHT - 11 * mm, self._plan.scope)
                    self.setStrokeColor(colors.HexColor("#9aa7b4"))
                    self.setLineWidth(0.4)
                    self.line(MARGIN, HEIGHT - 12.5 * mm, WIDTH - MARGIN, HEIGHT - 12.5 * mm)
            super().showPage()
        super().save()


def _cover(doc: PlanDocument, st) -> list:
    """The author's name on the cover: the municipality for its own plan, the lead body for the region's."""
    author = doc.author or doc.lead
    return [
        Spacer(1, 50 * mm),
        _p(doc.scope, st["subtitle"]),
        Spacer(1, 6 * mm),
        _p(doc.title, st["title"]),
        _p("（インフラ長寿命化計画〈行動計画〉に基づく個別施設計画）", st["subtitle"]),
        Spacer(1, 8 * mm),
        _p(f"計画期間　{doc.period}", st["subtitle"]),
        Spacer(1, 62 * mm),
        _p(doc.generated_on, st["centre"]),
        _p(author, ParagraphStyle("author", parent=st["centre"], fontName=GOTHIC, fontSize=16, leading=24)),
        _p(doc.department, st["centre"]) if doc.department else Spacer(1, 1),
        Spacer(1, 16 * mm),
        _p(f"エンジン実行 #{doc.run_id}　データ時点 {doc.data_timestamp}", st["small"]),
        NextPageTemplate("body"),
        PageBreak(),
    ]


class _Contents(TableOfContents):
    """目次 as a two-column table (heading, page) drawn in the embedded faces only: the stock one draws its page
    numbers through a callback that leaves an unembedded Helvetica in the file."""

    def wrap(self, availWidth, availHeight):
        st = _styles()
        entries = self._lastEntries or [(0, "目次", 0, None)]
        rows = [[_p(("" if level == 0 else "　　") + text, st["toc0" if level == 0 else "toc1"]),
                 _p(str(page), ParagraphStyle("tocpage", parent=st["toc1"], alignment=2))]
                for level, text, page, _key in entries]
        self._table = LongTable(rows, colWidths=(availWidth - 20 * mm, 20 * mm))
        self._table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), GOTHIC),
                                         ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c8d1da")),
                                         ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
        self.width, self.height = self._table.wrapOn(self.canv, availWidth, availHeight)
        return self.width, self.height


def _contents(st) -> list:
    return [_p("目次", st["h1"]), _Contents(), PageBreak()]


def _outline(doc: PlanDocument, st) -> list:
    """1. 計画の概要: 背景・目的, where the plan sits (基本計画 → 行動計画 → 個別施設計画), its period."""
    out = [_h("1. 計画の概要", st), _h("1.1 背景・目的", st, 1)]
    out += [_p(t, st["body"]) for t in doc.purpose]
    out.append(_h("1.2 計画の位置付け", st, 1))
    action = "公共施設等総合管理計画（行動計画）" + ("" if doc.municipal else "　各構成市町村")
    rows = [["インフラ長寿命化基本計画（国、平成25年11月）"], ["↓"], [action], ["↓"],
            [f"個別施設計画（本計画）　{doc.author or doc.lead}"],
            ["道路橋・舗装の長寿命化修繕計画 ／ 下水道ストックマネジメント計画 ／ 浄化槽の管理"]]
    t = _table(rows, [BODY_W * 0.8], header_rows=0, zebra=False)
    t.setStyle(TableStyle([("ALIGN", (0, 0), (-1, -1), "CENTER"), ("GRID", (0, 1), (-1, 1), 0, colors.white),
                           ("GRID", (0, 3), (-1, 3), 0, colors.white),
                           ("BACKGROUND", (0, 4), (-1, 4), colors.HexColor("#dde7f0"))]))
    out += [Spacer(1, 2 * mm), t, Spacer(1, 2 * mm), _h("1.3 計画期間", st, 1),
            _p(f"{doc.period}。点検の結果と対策の実施状況を踏まえ、{doc.review_year or '計画期間の中間'}に見直す"
               "（10. 体制とフォローアップ）。", st["body"])]
    return out


def _inventory(doc: PlanDocument, st) -> list:
    """2. 対象施設 in the units each kind's plans use."""
    out = [PageBreak(), _h("2. 対象施設", st),
           _p(f"{doc.scope}が管理する施設のうち、本計画の対象とするもの（台帳に記載のあるもの、撤去済みを除く）。",
              st["body"])]
    rows = [["施設種別", "数量", "内訳"]]
    for q in doc.quantities:
        rows.append([q.kind, _num(f"{q.count:,} {q.unit}"), "\n".join(f"{label}：{v}" for label, v in q.measures)])
    if len(rows) == 1:
        rows.append(["—", "—", "対象施設はない"])
    out.append(_table(rows, [32 * mm, 28 * mm, BODY_W - 60 * mm]))
    return out


def _aging(doc: PlanDocument, st) -> list:
    if not doc.aging:
        return []
    rows = [["施設種別", "建設年度が判明", "現在", "10年後", "20年後", "建設年度不明"]]
    for a in doc.aging:
        rows.append([a.kind, _num(f"{a.known:,}"), _num(f"{a.now:.0%}"), _num(f"{a.in10:.0%}"),
                     _num(f"{a.in20:.0%}"), _num(f"{a.unknown:,}")])
    return [CondPageBreak(50 * mm), _h("3.3 老朽化率（建設後50年以上の施設の割合）", st, 1),
            _p("建設年度が判明している施設のうち、建設後50年を経過する施設の割合。対策をしなければ、この割合は"
               "10年後、20年後に表のとおり高まる。", st["body"]),
            _table(rows, [34 * mm] + [(BODY_W - 34 * mm) / 5] * 5)]


def _inspection_plan(doc: PlanDocument, st) -> list:
    """4. 点検計画: method and legal cycle per kind, and how many assets fall due each 年度."""
    out = [PageBreak(), _h("4. 点検計画", st),
           _p("法令・基準が定める頻度で点検し、その結果（健全性の診断）を台帳に記録して次の対策に反映する。"
              "表は各施設の次回点検期限の年度別の件数（期限を過ぎたもの・未点検のものは初年度に実施する）。",
              st["body"])]
    if not doc.inspections:
        return out + [_p("点検の対象となる施設はない。", st["body"])]
    rows = [["施設種別", "点検の方法・頻度", "根拠"]]
    for r in doc.inspections:
        rows.append([r.kind, r.method, r.basis])
    out.append(_table(rows, [30 * mm, 50 * mm, BODY_W - 80 * mm]))
    out.append(Spacer(1, 3 * mm))
    years = [format_fiscal_year(fy) for fy in doc.fiscal_years]
    head = ["施設種別", "期限超過\n・未点検"] + [y.replace("年度", "") for y in years]
    rows = [head] + [[r.kind, _num(f"{r.overdue:,}")] + [_num(f"{n:,}") for n in r.per_year] for r in doc.inspections]
    n = len(head) - 2
    out.append(_table(rows, [24 * mm, 16 * mm] + [(BODY_W - 40 * mm) / n] * n, padding=3))
    return out


def _facilities(doc: PlanDocument, st) -> list:
    """6. 個別施設の対策計画: every bridge one by one (state, inspection, measure, 年度, cost), then pipes and
    roads per lot and route, septic tanks per group (domain.md §7)."""
    out = [PageBreak(), _h("6. 個別施設の対策計画", st),
           _p("施設ごとの健全性、点検年度、次回点検年度、対策の内容と時期（年度）、概算費用。対策時期は8.の中長期の"
              "費用計画による。「次期計画以降」は計画期間内に対策の順番が来ないもの。", st["body"]),
           _h("6.1 橋梁（施設ごと）", st, 1)]
    if doc.facilities:
        total = sum(f.cost for f in doc.facilities)
        out.append(_p(f"対象 {len(doc.facilities):,} 橋、うち計画期間内に対策するもの "
                      f"{sum(1 for f in doc.facilities if f.measure_year not in ('—', '次期計画以降')):,} 橋、"
                      f"概算費用の合計 {_yen_m(total)} 百万円。", st["small"]))
        rows = [["施設名\n施設ID" + ("" if doc.municipal else "・管理者"), "路線", "架設年度", "橋長\n(m)", "健全性",
                 "点検年度", "次回点検\n年度", "対策内容", "対策時期", "概算費用\n(百万円)"]]
        for f in doc.facilities:
            rows.append([f"{f.name}\n{f.global_id}" + ("" if doc.municipal else f"\n{f.owner}"), f.route, f.built,
                         _num("—" if f.length_m is None else f"{f.length_m:,.1f}"), f.grade, f.inspected,
                         f.next_inspection, f.measure, f.measure_year, _num(_yen_m(f.cost) if f.cost else "—")])
        out.append(_table(rows, [30 * mm, 19 * mm, 17 * mm, 10 * mm, 11 * mm, 17 * mm, 17 * mm, 18 * mm, 19 * mm,
                                 BODY_W - 158 * mm], padding=3))
    else:
        out.append(_p("対象の橋梁はない。", st["body"]))
    for title, kinds in (("6.2 道路・下水道（群・路線ごと）", ("道路(舗装)", "下水道管渠", "マンホール")),
                         ("6.3 浄化槽（群ごと）", ("浄化槽",))):
        lines = [x for x in doc.lot_lines if x.kind in kinds]
        out.append(_h(title, st, 1))
        if not lines:
            out.append(_p("計画期間内に対策を要するものはない。", st["body"]))
            continue
        rows = [["群", "種別", "路線（上部道路）", "延長・数量", "対策内容（件）", "対策時期", "工事費\n(百万円)"]]
        for x in lines:
            rows.append([x.lot, x.kind, x.route, _num(x.quantity), x.measure, x.measure_year, _num(_yen_m(x.cost))])
        out.append(_table(rows, [30 * mm, 19 * mm, 34 * mm, 28 * mm, 20 * mm, 20 * mm, BODY_W - 151 * mm], padding=3))
    if doc.septic_groups:
        out += [_p("老朽化した単独処理・不適正な浄化槽の集まり（合併処理への転換の候補）", st["small"])]
        out.append(_p("下水道計画区域内の浄化槽は接続指導の対象（下水道法第10条）として除いている。転換費は市町村の負担分"
                      "（市町村設置型は全額、個人設置型は補助分）で、設置者負担（参考）は別に示す。", st["small"]))
        rows = [["基数", "世帯", "単独処理", "不適正", "市町村", "転換費(百万円)", "設置者負担（参考）\n(百万円)"]]
        for g in doc.septic_groups:
            rows.append([_num(f"{g['tanks']}"), _num(f"{g['households']}"), _num(f"{g['single']}"),
                         _num(f"{g['improper']}"), "・".join(g["owners"]), _num(_yen_m(g["conversion_cost"])),
                         _num(_yen_m(g.get("owner_cost", 0.0)))])
        out.append(_table(rows, [14 * mm, 14 * mm, 16 * mm, 14 * mm, 50 * mm, 24 * mm, BODY_W - 132 * mm]))
    out += _septic_duties(doc, st)
    return out


def _shares(doc: PlanDocument, st) -> list:
    """7. 群 (lots across municipalities) and each one's share of the cost; shares add up to the printed total."""
    out = [PageBreak(), _h("7. 広域連携の群と費用負担", st),
           _p("群は、管理者に関わらず工種が同じで互いに近い施設を一つの発注単位としてまとめたもの。複数の市町村に"
              "またがる群の費用は、各市町村が管理する施設の工事費と、共通費用の按分により負担する。"
              "色は工種、番号は優先順位（付録1）。", st["body"]),
           Spacer(1, 2 * mm), drawings.region_map(doc.areas, doc.clusters, BODY_W, 120 * mm),
           _p(doc.credit, st["small"])]
    if not doc.lot_shares:
        return out + [_p("複数の市町村にまたがる群はない。", st["body"])]
    rows = [["群", "工種", "施設数", "対策時期", "事業費(百万円)", "市町村別の負担額(百万円)"]]
    for ls in doc.lot_shares:
        total, parts = split_million(ls.total, [v for _, v in ls.shares])
        rows.append([ls.lot, ls.work, _num(f"{ls.members:,}"), ls.measure_year, _num(total),
                     "\n".join(f"{n} {v}" for (n, _), v in zip(ls.shares, parts, strict=True))])
    out += [CondPageBreak(40 * mm), _h("7.1 複数の市町村にまたがる群", st, 1),
            _table(rows, [38 * mm, 20 * mm, 13 * mm, 20 * mm, 22 * mm, BODY_W - 113 * mm])]
    return out


def _costs(doc: PlanDocument, st) -> list:
    """8.1: 予防保全 against 事後保全 in 億円, the 縮減額 and % (MLIT's way, domain.md §7)."""
    out = [PageBreak(), _h("8. 中長期の費用", st), _h("8.1 予防保全と事後保全の比較", st, 1)]
    r = doc.reduction
    if not r:
        return out + [_p("対策を要する施設がないため、比較はない。", st["body"])]
    years = r.get("years", 50)
    out.append(_p(f"今後50年間の費用（ライフサイクルコスト）は、損傷が深刻になってから対策する事後保全では"
                  f"{oku(r['corrective_lcc50'])}、損傷が軽微なうちに対策する予防保全では{oku(r['preventive_lcc50'])}。"
                  f"予防保全により{oku(r['amount'])}（{r['percent']:.1f}%）縮減できる見込み。", st["body"]))
    rows = [["保全の方法", "50年間の費用(億円)", "年平均(億円)", "縮減額(億円)", "縮減率"],
            ["事後保全", _num(f"{r['corrective_lcc50'] / 1e8:,.1f}"), _num(f"{r['corrective_lcc50'] / 1e8 / years:,.2f}"),
             "—", "—"],
            ["予防保全", _num(f"{r['preventive_lcc50'] / 1e8:,.1f}"), _num(f"{r['preventive_lcc50'] / 1e8 / years:,.2f}"),
             _num(f"{r['amount'] / 1e8:,.1f}"), _num(f"{r['percent']:.1f}%")]]
    out.append(_table(rows, [34 * mm, 34 * mm, 34 * mm, 34 * mm, BODY_W - 136 * mm]))
    out.append(drawings.bar_chart(["事後保全", "予防保全"],
                                  [("50年間の費用", [r["corrective_lcc50"] / 1e8, r["preventive_lcc50"] / 1e8])],
                                  BODY_W, 45 * mm, "億円"))
    return out


def _policy(doc: PlanDocument, st) -> list:
    """9. 新技術の活用 and 集約・撤去: the coordinator's targets (PlanProfile), then the candidates found."""
    out = [PageBreak(), _h("9. 新技術の活用と集約・撤去", st), _h("9.1 新技術の活用", st, 1),
           _p(doc.new_technology or "点検・診断や補修において、点検支援技術（ドローン、画像解析等）や新材料・新工法"
              "の活用を検討し、費用の縮減と作業の効率化を図る。", st["body"]),
           _p(f"目標：{doc.new_technology_target or '（未設定）'}", st["body"]),
           _h("9.2 集約・撤去", st, 1),
           _p("利用の少ない施設や、浄化槽による処理が有利な下水道の区域は、集約・撤去や手法の転換を検討する。"
              f"本計画の候補：橋梁の撤去 {sum(1 for b in doc.bridges if b.get('recommendation') == 'remove'):,} 橋、"
              f"下水道から浄化槽への転換 "
              f"{sum(1 for x in doc.sewer_septic if x['sewer_vs_septic'].get('recommendation') == 'convert_to_septic'):,}"
              " 群（9.3）。", st["body"]),
           _p(f"目標：{doc.consolidation_target or '（未設定）'}", st["body"])]
    return out


def _organisation(doc: PlanDocument, st) -> list:
    """10. 体制 and the PDCA review."""
    dept = doc.department or "（担当部署は未設定）"
    return [PageBreak(), _h("10. 体制とフォローアップ", st), _h("10.1 体制", st, 1),
            _p(f"本計画は{doc.author or doc.lead} {dept}が所管し、点検・診断、対策の実施、台帳と点検記録の更新を行う。"
               + ("群の工事の発注と費用負担は、構成市町村と協議の上で行う。" if doc.municipal else
                  "群の発注と費用負担の調整は代表団体が行い、各施設の管理は管理者である市町村が行う。"), st["body"]),
            _h("10.2 フォローアップ（PDCA）", st, 1),
            _p(f"点検（Check）の結果と対策の実施状況（Do）を毎年度確認し、{doc.review_year}に計画（Plan）を見直す"
               "（Action）。点検で健全性が変わった施設、新たに判明した施設は、見直しを待たず台帳に反映し、"
               "次の年度の対策に反映する。", st["body"])]


def _urgent(doc: PlanDocument, st) -> list:
    """Near the front: what the law says must be done first, and whether this plan does it in time."""
    out = [PageBreak(), _h("5. 緊急に対策を要する施設（法定の措置期限）", st),
           _p("点検の結果、法令・基準により措置の期限がある施設。橋梁の健全性Ⅳ（緊急措置段階）は直ちに、Ⅲ（早期措置段階）は"
              "次回点検（5年以内）までに、下水道の緊急度Ⅰは原則1年以内、Ⅱは応急措置の上5年以内に措置する。"
              "本計画はこれらを期限の年度までに必ず実施する制約として定め、予算が足りない分は予算不足として示す。",
              st["body"])]
    if doc.urgent_summary:
        rows = [["施設種別", "判定", "件数", "期限内に実施", "予算不足"]]
        for r in doc.urgent_summary:
            rows.append([r["kind"], r["grade"], _num(f"{r['count']:,}"), _num(f"{r['in_time']:,}"),
                         _num(f"{r['short']:,}")])
        out.append(_table(rows, [35 * mm, 30 * mm, 25 * mm, 30 * mm, BODY_W - 120 * mm]))
    else:
        out.append(_p("計画期間内に措置の期限を迎える施設はない。", st["body"]))
    if doc.urgent:
        out += [_h("5.1 緊急度の高い施設（橋梁の健全性Ⅳ・Ⅲ、下水道の緊急度Ⅰ）", st, 1)]
        rows = [["施設ID", "種別", "名称", "管理者", "判定", "措置期限", "期限の年度", "本計画"]]
        for u in doc.urgent:
            rows.append([u["global_id"], u["kind"], u["name"], u["owner"], u["grade"], u["due"], u["deadline"],
                         u["plan"]])
        out.append(_table(rows, [30 * mm, 18 * mm, 24 * mm, 16 * mm, 16 * mm, 26 * mm, 22 * mm, BODY_W - 152 * mm]))
    return out


def _summary(doc: PlanDocument, st) -> list:
    out = [PageBreak(), _h("3. 健全性の現状", st),
           _p(f"{doc.scope}が管理する施設の健全性（最新の点検結果による。未点検の施設は「未点検」）と建設年代。",
              st["body"])]
    total = sum(n for _, n in doc.counts)
    rows = [["施設種別", "施設数", "構成比"]] + [[k, _num(f"{n:,}"), _num(f"{100 * n / max(total, 1):.1f}%")]
                                          for k, n in doc.counts] + [["合計", _num(f"{total:,}"), _num("100%")]]
    out += [_table(rows, [60 * mm, 40 * mm, 30 * mm]), _h("3.1 健全性の分布", st, 1)]
    out.append(drawings.stacked_bars(doc.conditions, BODY_W))
    rows = [["施設種別", "判定区分（件数）"]] + [[k, "　".join(f"{g}: {n:,}" for g, n in grades)]
                                          for k, grades in doc.conditions]
    out += [_table(rows, [40 * mm, BODY_W - 40 * mm]), CondPageBreak(80 * mm), _h("3.2 建設年代", st, 1)]
    out.append(drawings.bar_chart(doc.age_bands, doc.ages, BODY_W, 70 * mm, "施設数", stacked=True))
    return out


def _ranking(doc: PlanDocument, st) -> list:
    rows = [["順位", "群", "工種", "施設数", "関係市町村", "事業費\n(百万円)", "削減リスク", "百万円当たり",
             "実施年度"]]
    for c in doc.clusters:
        lot = c.name or c.key
        rows.append([_num(str(c.rank)), lot, WORK_LABEL.get(c.work_type, c.work_type), _num(f"{c.members:,}"),
                     "・".join(c.municipalities), _num(_yen_m(c.cost)), _num(f"{c.risk_removed:,.2f}"),
                     _num(f"{c.per_myen:,.3f}"), format_fiscal_year(c.fiscal_year) if c.fiscal_year else "計画期間外"])
    widths = [10 * mm, 25 * mm, 19 * mm, 12 * mm, 34 * mm, 17 * mm, 15 * mm, 17 * mm, BODY_W - 149 * mm]
    return [PageBreak(), _h("付録1 群の優先順位（全群）", st),
            _p("順位は削減できるリスク（劣化の起こりやすさ×影響の大きさ）を事業費100万円当たりで比べたもの。"
               "実施年度は8.の中長期の費用計画による。", st["body"]), Spacer(1, 2 * mm), _table(rows, widths)]


def _cluster_pages(doc: PlanDocument, st) -> list:
    out = [PageBreak(), _h("付録2 群別調書（上位の群）", st)]
    for i, page in enumerate(doc.pages):
        c = page.row
        if i:
            out.append(PageBreak())
        label = c.name or c.key
        out.append(_p(f"第{c.rank}位　{label}", st["h2"]))
        mix = "、".join(f"{KIND_LABEL.get(k.split(':')[0], k)}{ACTION_LABEL.get(k.split(':')[1], '')} {n}"
                       for k, n in sorted(c.action_mix.items()))
        facts = [["実施年度", format_fiscal_year(c.fiscal_year) if c.fiscal_year else "計画期間外"],
                 ["対策", mix],
                 ["事業費", f"{_yen_m(c.cost)} 百万円（一括発注による節減 {_yen_m(c.saving)} 百万円）"],
                 *([["設置者負担（参考）", f"{_yen_m(c.owner_cost)} 百万円（個人設置型浄化槽の設置者の負担。"
                                          "事業費には市町村の補助分のみを計上）"]] if c.owner_cost > 0 else []),
                 ["削減リスク", f"{c.risk_removed:,.2f}（100万円当たり {c.per_myen:,.3f}）"],
                 ["関係市町村", "・".join(c.municipalities)]]
        out.append(_table(facts, [28 * mm, BODY_W - 28 * mm], header_rows=0, zebra=False))
        out.append(Spacer(1, 2 * mm))
        out.append(drawings.cluster_map(doc.areas, c, page.members, BODY_W, 70 * mm))
        total_share = sum(y for _, y in page.shares) or 1
        shares = [["市町村", "負担額(百万円)", "負担割合"]] + [
            [n, _num(_yen_m(y)), _num(f"{100 * y / total_share:.1f}%")] for n, y in page.shares]
        drivers_total = sum(c.drivers.values()) or 1
        why = [["順位の理由（削減リスクの内訳）", "寄与"]] + [
            [DRIVER_LABEL.get(k, k), _num(f"{100 * v / drivers_total:.0f}%")]
            for k, v in sorted(c.drivers.items(), key=lambda kv: -kv[1]) if v > 0]
        out.append(Spacer(1, 2 * mm))
        out.append(KeepTogether([_table(shares, [50 * mm, 28 * mm, 22 * mm]), Spacer(1, 2 * mm),
                                 _table(why, [60 * mm, 20 * mm])]))
        for note in _consolidation_notes(c.consolidation):
            out.append(_p(note, st["small"]))
        rows = [["施設ID", "種別", "名称", "管理者", "対策", "判定", "リスク", "費用(百万円)"]]
        for m in page.members:
            rows.append([m.global_id, KIND_LABEL.get(m.kind, m.kind), m.name or "—", m.owner,
                         ACTION_LABEL.get(m.action, m.action), m.grade or "未点検", _num(f"{m.risk:.2f}"),
                         _num(_yen_m(m.cost))])
        more = page.member_total - len(page.members)
        out += [Spacer(1, 2 * mm), _p("構成施設" + (f"（リスクの大きい順に{len(page.members)}件、ほか{more}件）"
                                                      if more > 0 else ""), st["small"]),
                _table(rows, [30 * mm, 20 * mm, 30 * mm, 25 * mm, 14 * mm, 14 * mm, 14 * mm, BODY_W - 147 * mm])]
    return out


def households_counted(s: dict) -> str:
    """How a branch's households were counted: 取付管数, 建物数 or 人口密度による推計, or each one's share of the
    pipe length (largest first) when the pipes were counted differently. Runs from before the basis was recorded
    used density."""
    basis, shares = s.get("households_basis", "density"), s.get("basis_length_share") or {}
    if basis != "mixed" or not shares:
        return HOUSEHOLDS_BASIS_LABEL.get(basis, HOUSEHOLDS_BASIS_LABEL["density"])
    order = list(HOUSEHOLDS_BASIS_LABEL)
    ranked = sorted(shares.items(), key=lambda bv: (-bv[1], order.index(bv[0]) if bv[0] in order else len(order)))
    return "・".join(f"{HOUSEHOLDS_BASIS_LABEL.get(b, b)}{v:.0%}" for b, v in ranked)


def _break_even(s: dict) -> str:
    return "—" if s.get("break_even_per_km") is None else f"{s['break_even_per_km']:.1f}"


def _consolidation_notes(cons: dict) -> list[str]:
    notes = []
    s = cons.get("sewer_vs_septic")
    if s and s.get("recommendation") == "convert_to_septic":
        notes.append(f"集約・再編：この群の管路沿いは{s['households']:,.0f}戸（{households_counted(s)}による）、"
                     f"1kmあたり{s['households_per_km']:.1f}戸と損益分岐（{_break_even(s)}戸/km）を下回り、"
                     f"合併処理浄化槽への転換で年{_yen_m(s['saving_per_year'])}百万円安い。")
    for b in cons.get("bridge_removal", []):
        if b.get("recommendation") == "remove":
            costs = (f"維持（補修・点検・更新）{_yen_m(b['pv_keep'])}百万円に対し撤去費＋迂回費{_yen_m(b['pv_remove'])}"
                     f"百万円（{b['period_years']:.0f}年間の現在価値）。" if "pv_keep" in b else "")
            notes.append(f"集約・再編：{b['name'] or b['global_id']}は交通量{b['traffic']:,.0f}台/日、迂回延長"
                         f"{b['detour_m']:,.0f}m{_via(b)}。{costs}撤去の方が年{_yen_m(b['saving_per_year'])}百万円安い。")
    return notes


def _via(b: dict) -> str:
    """Which roads the way round takes: the reference roads by name, or the registry's own."""
    if b.get("detour_via_reference"):
        return "（" + "・".join(b.get("detour_reference_roads") or ["参照道路"]) + "経由）"
    return "（台帳の道路）" if "detour_via_reference" in b else ""


def _when(years) -> str:
    if years is None:
        return "期間外"
    return "今すぐ" if years < 0.5 else f"{years:.0f}年後"


def _keep_cell(b: dict) -> str:
    """How keeping a bridge was costed: repairs, 定期点検, renewal at the end of its life (present values)."""
    k = b.get("keep")
    if not k:
        return _yen_m(b["annual_cost_keep"]) + "/年"
    first = k["first_repair_in"]
    lines = ["補修 なし（期間内）" if not k["repairs"] else
             f"補修 {_yen_m(k['repairs'])}" + ("" if first is None else f"（{_when(first)}）"),
             f"点検 {_yen_m(k['inspections'])}（{k['inspections_count']}回）",
             f"更新 {_yen_m(k['renewal'])}（{_when(k['renewal_in'])}）"]
    if k.get("upkeep"):
        lines.append(f"維持管理 {_yen_m(k['upkeep'])}")
    return "\n".join([*lines, f"計 {_yen_m(b['pv_keep'])}"])


def _remove_cell(b: dict) -> str:
    """How removing it was costed: demolition now and the users' detour for the whole period."""
    r = b.get("remove")
    if not r:
        return "—" if b.get("annual_cost_remove") is None else _yen_m(b["annual_cost_remove"]) + "/年"
    return f"撤去 {_yen_m(r['demolition'])}\n迂回 {_yen_m(r['detour'])}\n計 {_yen_m(b['pv_remove'])}"


def _plan(doc: PlanDocument, st) -> list:
    out = [CondPageBreak(90 * mm), _h("8.2 年度別の対策計画", st, 1)]
    if doc.main is None:
        return out + [_p("対策を要する群がないため、計画はない。", st["body"])]
    s = doc.scenarios[doc.main]
    years = [format_fiscal_year(fy) for fy in doc.fiscal_years]
    out.append(_p(
        f"戦略は{doc.strategy}。各年度の予算の範囲で、計画期間内に削減できるリスク（リスク×年）が最大となるよう、"
        "どの群をどの年度に実施するかを数理最適化（混合整数計画、HiGHS）で定めた。先送りした群は劣化が進み、"
        f"費用もリスクも増える。最適化の結果は{s['objective']:,.1f}、比較のための貪欲法（各年度に費用対効果の高い順）は"
        f"{s['greedy_objective']:,.1f}（{_gain(s)}）。", st["body"]))
    out.append(drawings.bar_chart(years, [("予算", [x / 1e6 for x in s["budget"]]), ("執行", [x / 1e6 for x in s["spend"]])],
                                  BODY_W, 62 * mm, "百万円"))
    out.append(drawings.line_chart(list(range(len(years))), [("計画どおり実施", s["risk"]),
                                                             ("対策なし", s["risk_untreated"])],
                                   BODY_W, 62 * mm, "リスク", years))
    rows = [["年度", "予算(百万円)", "執行(百万円)", "リスク", "対策なし", "未対策の要対策額(百万円)"]]
    for k, fy in enumerate(doc.fiscal_years):
        rows.append([f"{format_fiscal_year(fy)}（{fy}）", _num(_yen_m(s["budget"][k])), _num(_yen_m(s["spend"][k])),
                     _num(f"{s['risk'][k]:,.1f}"), _num(f"{s['risk_untreated'][k]:,.1f}"), _num(_yen_m(s["backlog"][k]))])
    out += [_table(rows, [34 * mm, 25 * mm, 25 * mm, 22 * mm, 22 * mm, BODY_W - 128 * mm])]
    return out + _legal_plan(doc, st)


def _legal_plan(doc: PlanDocument, st) -> list:
    legal = doc.legal
    if not legal:
        return []
    out = [_h("8.3 法定の措置期限がある施設の対策", st, 1),
           _p("期限のある施設を含む群は期限の年度までに実施する（期限を過ぎたものは初年度）。群全体が予算に収まらない"
              f"ときは期限のある施設だけを分けて単独で発注した（本計画で{len(legal.get('split', [])):,}群）。", st["body"])]
    rows = [["年度", "期限を迎える施設(件)", "実施する施設(件)", "その費用(百万円)", "予算不足(件)", "予算不足額(百万円)"]]
    for k, fy in enumerate(doc.fiscal_years):
        rows.append([f"{format_fiscal_year(fy)}（{fy}）", _num(f"{legal['due'][k]:,}"), _num(f"{legal['scheduled'][k]:,}"),
                     _num(_yen_m(legal["scheduled_cost"][k])), _num(f"{legal['shortfall_count'][k]:,}"),
                     _num(_yen_m(legal["shortfall_cost"][k]))])
    out.append(_table(rows, [34 * mm, 28 * mm, 26 * mm, 26 * mm, 22 * mm, BODY_W - 136 * mm]))
    out.append(_h("8.4 予算不足（法定の対策が期限内にできないもの）", st, 1))
    total = legal.get("shortfall_total", {"count": 0, "cost": 0})
    if not total["count"]:
        out.append(_p("この予算では、期限のある施設はすべて期限内に実施できる。予算不足はない。", st["body"]))
        return out
    out.append(_p(f"この予算では{total['count']:,}件、{_yen_m(total['cost'])}百万円の法定の対策が期限内にできない。"
                  "予算を確保するまでの間、各施設に示す暫定措置を講じる。", st["body"]))
    rows = [["年度", "件数", "金額(百万円)"]] + [
        [format_fiscal_year(r["fiscal_year"]), _num(f"{r['count']:,}"), _num(_yen_m(r["cost"]))]
        for r in legal.get("shortfall_by_year", [])]
    out.append(_table(rows, [40 * mm, 25 * mm, 30 * mm]))
    out.append(Spacer(1, 2 * mm))
    rows = [["市町村", "件数", "金額(百万円)"]] + [
        [r["name"], _num(f"{r['count']:,}"), _num(_yen_m(r["cost"]))] for r in legal.get("shortfall_by_municipality", [])]
    out.append(_table(rows, [40 * mm, 25 * mm, 30 * mm]))
    shown = len(doc.shortfall)
    out.append(_p("予算不足の施設" + (f"（期限の早い順に{shown:,}件、ほか{total['count'] - shown:,}件）"
                                      if total["count"] > shown else ""), st["small"]))
    rows = [["施設ID", "種別", "名称", "管理者", "判定", "期限の年度", "費用(百万円)", "暫定措置"]]
    for a in doc.shortfall:
        rows.append([a["global_id"], a["kind"], a["name"], a["owner"], a["grade"], a["deadline"],
                     _num(_yen_m(a["cost"])), a["interim"]])
    out.append(_table(rows, [27 * mm, 16 * mm, 24 * mm, 16 * mm, 13 * mm, 18 * mm, 15 * mm, BODY_W - 129 * mm]))
    return out


def _gain(s: dict) -> str:
    g = s["greedy_objective"]
    if s.get("greedy_shortfall", 0) > s.get("legal", {}).get("shortfall_total", {}).get("count", 0) and s["objective"] < g:
        return "法定の対策を優先"
    return f"最適化で{100 * (s['objective'] - g) / g:+.1f}%" if g > 0 else "同等"


def _scenarios(doc: PlanDocument, st) -> list:
    if not doc.scenarios:
        return []
    out = [PageBreak(), _h("8.5 予算水準と保全の方法の比較（シナリオ）", st, 1),
           _p("事後保全（健全性Ⅲ・Ⅳ、緊急度Ⅱ・Ⅰに至ってから法定の期限内に更新）と予防保全（健全性Ⅱ、緊急度Ⅲの段階で"
              "Ⅲに至る前に修繕）を、予算の水準を変えて比べた。"
                     "50年ライフサイクルコストは、計画期間の執行額、期間末に残る要対策額、その後の定常的な年額の合計。",
                     st["body"])]
    rows = [["戦略", "予算水準", "執行計(百万円)", "実施群", "期末リスク", "期末の未対策額(百万円)", "50年LCC(億円)",
             "法定の予算不足(件)", "最適化/貪欲法"]]
    for s in doc.scenarios:
        short = s.get("legal", {}).get("shortfall_total", {}).get("count", 0)
        rows.append([STRATEGY_LABEL.get(s["strategy"], s["strategy"]), _num(f"{s['level']:.0%}"),
                     _num(_yen_m(sum(s["spend"]))), _num(f"{s['treated']:,}"), _num(f"{s['risk'][-1]:,.1f}"),
                     _num(_yen_m(s["backlog"][-1])), _num(f"{s['lcc50'] / 1e8:,.1f}"), _num(f"{short:,}"),
                     _num(_gain(s))])
    out.append(_table(rows, [18 * mm, 14 * mm, 22 * mm, 13 * mm, 18 * mm, 24 * mm, 20 * mm, 20 * mm,
                             BODY_W - 149 * mm]))
    r = doc.reduction
    if r:
        out.append(_p(f"予防保全による縮減額：予算水準{r['level']:.0%}で、50年ライフサイクルコストは事後保全"
                      f"{r['corrective_lcc50'] / 1e8:,.1f}億円に対し予防保全{r['preventive_lcc50'] / 1e8:,.1f}億円、"
                      f"縮減額{r['amount'] / 1e8:,.1f}億円（{r['percent']:.1f}%）。", st["body"]))
    years = [format_fiscal_year(fy) for fy in doc.fiscal_years]
    series = [(f"{STRATEGY_LABEL.get(s['strategy'], '')}{s['level']:.0%}", s["risk"]) for s in doc.scenarios]
    out += [Spacer(1, 4 * mm), drawings.line_chart(list(range(len(years))), series, BODY_W, 75 * mm, "リスクの推移", years)]
    out.append(drawings.bar_chart(
        [f"{STRATEGY_LABEL.get(s['strategy'], '')}{s['level']:.0%}" for s in doc.scenarios],
        [("50年LCC(億円)", [s["lcc50"] / 1e8 for s in doc.scenarios])], BODY_W, 60 * mm, "億円"))
    return out


def _consolidation(doc: PlanDocument, st) -> list:
    out = [CondPageBreak(60 * mm), _h("9.3 集約・再編の候補", st, 1),
           _p("(1) 下水道から合併処理浄化槽への転換", st["h2"])]
    if doc.sewer_septic:
        rows = [["群", "管路延長(km)", "戸数", "戸数の数え方", "戸/km", "損益分岐(戸/km)", "更新(百万円/年)",
                 "浄化槽(百万円/年)", "判定"]]
        for r in doc.sewer_septic:
            s = r["sewer_vs_septic"]
            rows.append([r.get("name") or r["key"], _num(f"{s['pipe_km']:.2f}"), _num(f"{s['households']:,.0f}"),
                         households_counted(s),
                         _num(f"{s['households_per_km']:.1f}"), _num(_break_even(s)),
                         _num(_yen_m(s["annual_cost_renew"])), _num(_yen_m(s["annual_cost_septic"])),
                         "浄化槽へ転換" if s["recommendation"] == "convert_to_septic" else "管路を更新"])
        out.append(_table(rows, [26 * mm, 15 * mm, 12 * mm, 30 * mm, 12 * mm, 17 * mm, 18 * mm, 19 * mm,
                                 BODY_W - 149 * mm]))
        out.append(_p("戸数は管路ごとに、下水道台帳の取付管数、それがなければ建物数、それもなければ管理者の人口密度に"
                      "管路沿いの幅を掛けた推計（人口密度による推計）で数え、群の管路について合計した。", st["small"]))
    else:
        out.append(_p("該当なし。", st["body"]))
    out.append(_p("(2) 橋梁の撤去・集約", st["h2"]))
    if doc.bridges:
        period = doc.bridges[0].get("period_years", 50)
        out.append(_p(f"維持と撤去を、いずれも{period:.0f}年間の現在価値（百万円）で比べた。維持は、期待劣化パスが補修の"
                      "段階（健全性Ⅲ）に達した時点の補修、5年ごとの定期点検、耐用年数に達した時点の更新（期間末の残存価値を"
                      "控除）。撤去は、撤去費と、橋を通っていた全車両の迂回による利用者費用（期間中）。迂回路は台帳の道路と"
                      "参照道路（国道・都道府県道）から最短経路で求めた。", st["small"]))
        rows = [["橋梁・管理者", "交通量(台/日)", "迂回", "維持（百万円）", "撤去（百万円）", "判定"]]
        verdict = {"remove": "撤去を検討", "renew": "維持（更新）", "no_alternative_route": "迂回路なし"}
        for b in doc.bridges:
            detour = "迂回路なし" if b["detour_m"] is None else f"+{b['detour_m']:,.0f}m{_via(b)}"
            rows.append([f"{b['name'] or ''}\n{b['global_id']}\n{b['owner']}", _num(f"{b['traffic']:,.0f}"), detour,
                         _keep_cell(b), _remove_cell(b), verdict.get(b["recommendation"], b["recommendation"])])
        out.append(_table(rows, [40 * mm, 15 * mm, 30 * mm, 38 * mm, 32 * mm, BODY_W - 155 * mm]))
    else:
        out.append(_p("該当なし。", st["body"]))
    return out


def _septic_duties(doc: PlanDocument, st) -> list:
    """7.4: who pays, the connection cases, the lapsed upkeep and the improvement guidance of the septic tanks."""
    s = doc.septic
    if not s:
        return []
    conn, upkeep = s.get("connection") or {}, s.get("upkeep") or {}
    rows = [["項目", "件数・金額", "根拠・扱い"],
            ["設置者負担（参考）", f"{_yen_m(s.get('owner_cost_total', 0.0))} 百万円",
             "個人設置型浄化槽の改修・転換のうち設置者が負担する分。計画の事業費には市町村の補助分のみを計上"],
            ["接続指導の対象（下水道計画区域内）",
             f"{conn.get('tanks', 0):,} 基（うち老朽単独・不適正 {conn.get('candidates', 0):,} 基）",
             "下水道法第10条（接続義務）。浄化槽への転換・更新の対象としない"],
            ["保守点検の期限切れ", f"{(upkeep.get('maintenance') or {}).get('count', 0):,} 基",
             "浄化槽法第10条・施行規則第6条（法定の保守点検回数）"],
            ["清掃の期限切れ", f"{(upkeep.get('cleaning') or {}).get('count', 0):,} 基",
             "浄化槽法第10条・施行規則第7条（清掃は毎年1回、全ばっ気方式は6か月ごと）"],
            ["改善指導の目安を過ぎた不適正", f"{(upkeep.get('guidance') or {}).get('count', 0):,} 基",
             "浄化槽法第12条（指導・助言）。改善指導の目安（法定期限ではない）"]]
    return [_h("6.4 浄化槽の費用負担・接続指導・維持管理", st, 1),
            _table(rows, [48 * mm, 42 * mm, BODY_W - 90 * mm]),
            _p("法定検査で不適正とされた浄化槽の改善は浄化槽法第12条の指導・助言による。検査後の月数は"
               "改善指導の目安（法定期限ではない）であり、計画では法定期限として扱わない。保守点検・清掃は"
               "管理者の義務（浄化槽法第10条）で、計画の事業費には含めない。", st["body"])]


def _appendix(doc: PlanDocument, st) -> list:
    out = [PageBreak(), _h("付録3 手法と前提条件", st)]
    out += [_p(p, st["body"]) for p in doc.method]
    rows = [["劣化区分", "推定方法", "点検ペア数", "各区分の平均滞留年数"]]
    for scheme, h in sorted(doc.hazards.items()):
        rows.append([SCHEME_LABEL.get(scheme, scheme), "最尤推定" if h["source"] == "estimated" else "既定値",
                     _num(f"{h['pairs']:,}"),
                     " / ".join(f"{y:.1f}" for y in h["expected_years_in_state"])])
    out += [_p("劣化予測（マルコフ連鎖）", st["h2"]), _table(rows, [40 * mm, 25 * mm, 25 * mm, BODY_W - 90 * mm]),
            _p("前提条件（パラメータ）", st["h2"]),
            _table([["項目", "値（単位）"]] + [[k, v] for k, v in doc.params], [90 * mm, BODY_W - 90 * mm]),
            Spacer(1, 4 * mm),
            _p(f"エンジン実行 #{doc.run_id}、計画 #{doc.plan_id}、データ時点 {doc.data_timestamp}、"
                      f"作成 {doc.generated_on}。", st["small"]),
            _p(doc.credit, st["small"])]
    return out


def _measures(doc: PlanDocument, st) -> list:
    """1.4: how far the assets judged to need measures have been treated, as MLIT's 年報 reports it."""
    if not doc.measure_rates:
        return []

    def pct(n: int, d: int) -> str:
        return f"{100 * n / d:.0f}%" if d else "—"

    rows = [["施設種別", "要措置（件）", "着手（件）", "措置着手率", "完了（件）", "措置完了率", "応急措置等のみ"]]
    rows += [[r.kind, _num(f"{r.judged:,}"), _num(f"{r.started:,}"), _num(pct(r.started, r.judged)),
              _num(f"{r.completed:,}"), _num(pct(r.completed, r.judged)), _num(f"{r.interim_only:,}")]
             for r in doc.measure_rates]
    return [CondPageBreak(60 * mm), _h("3.4 措置の実施状況", st, 1),
            _p("今期の点検で措置が必要と判定された施設（健全性Ⅲ・Ⅳ、緊急度Ⅰ・Ⅱ、診断区分Ⅲ、不適正）のうち、措置に着手・完了"
               "した割合（道路メンテナンス年報の措置着手率・措置完了率に倣う）。通行規制・応急措置のみの施設は着手に数えない。",
               st["body"]),
            _table(rows, [34 * mm] + [(BODY_W - 34 * mm) / 6] * 6)]


class _Document(BaseDocTemplate):
    """Tells the 目次 where each heading landed (multiBuild lays the story out until the pages settle)."""

    def afterFlowable(self, flowable):
        level = getattr(flowable, "_toc_level", None)
        if level is not None:
            self.notify("TOCEntry", (level, flowable.getPlainText(), self.page))


def render_pdf(doc: PlanDocument) -> bytes:
    register()
    st = _styles()
    buf = io.BytesIO()
    frame = Frame(MARGIN, 16 * mm, BODY_W, HEIGHT - 16 * mm - 16 * mm, id="body")
    tpl = _Document(buf, pagesize=A4, title=f"{doc.scope} {doc.title}", author=doc.lead,
                          subject=doc.period, creator="群マネ", leftMargin=MARGIN, rightMargin=MARGIN,
                          # Every page starts in the embedded face, never in an unembedded base-14 font.
                          initialFontName=GOTHIC, initialFontSize=9)
    tpl.addPageTemplates([PageTemplate("cover", [frame]), PageTemplate("body", [frame])])
    from reports.pdf.completeness import completeness_section

    # The sections of a published 個別施設計画 (長寿命化修繕計画), in its order; the lots' ranking and the method
    # go to the appendix.
    story = (_cover(doc, st) + _contents(st) + _outline(doc, st) + _inventory(doc, st) + _summary(doc, st)
             + _aging(doc, st) + _measures(doc, st) + completeness_section(doc, st) + _inspection_plan(doc, st)
             + _urgent(doc, st)
             + _facilities(doc, st) + _shares(doc, st) + _costs(doc, st) + _plan(doc, st) + _scenarios(doc, st)
             + _policy(doc, st) + _consolidation(doc, st) + _organisation(doc, st)
             + _ranking(doc, st) + _cluster_pages(doc, st) + _appendix(doc, st))
    tpl.multiBuild(story, canvasmaker=lambda *a, **k: _NumberedCanvas(*a, doc=doc, **k))
    return buf.getvalue()
