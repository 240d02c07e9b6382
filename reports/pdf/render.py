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

from core.wareki import format_fiscal_year
from reports.pdf import drawings
from reports.pdf.fonts import GOTHIC, MINCHO, register
from reports.pdf.model import PlanDocument

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
        "centre": ParagraphStyle("centre", **{**base, "alignment": TA_CENTER, "fontSize": 11, "leading": 18}),
    }


def _p(text, style: ParagraphStyle) -> Paragraph:
    """The one way text enters the PDF. reportlab's Paragraph reads markup (<img src> fetches a URL or a file,
    <a>, <font>, <b>); our text comes from the registry (names typed by anyone with write access), so every
    character is escaped and only a line break survives, as a line break."""
    return Paragraph(xml_escape(str(text)).replace("\n", "<br/>"), style)


def _yen_m(x: float) -> str:
    return f"{x / 1e6:,.1f}"


def _table(rows: list[list], widths: list[float], header_rows: int = 1, align_right: tuple = (),
           zebra: bool = True) -> LongTable:
    """A table that splits across pages and repeats its header on each."""
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
    return [
        Spacer(1, 55 * mm),
        _p(doc.scope, st["subtitle"]),
        Spacer(1, 6 * mm),
        _p(doc.title, st["title"]),
        _p("（個別施設計画・長寿命化修繕計画）", st["subtitle"]),
        Spacer(1, 8 * mm),
        _p(f"計画期間　{doc.period}", st["subtitle"]),
        Spacer(1, 70 * mm),
        _p(doc.generated_on, st["centre"]),
        _p(doc.lead, st["centre"]),
        Spacer(1, 18 * mm),
        _p(f"エンジン実行 #{doc.run_id}　データ時点 {doc.data_timestamp}", st["small"]),
        NextPageTemplate("body"),
        PageBreak(),
    ]


def _urgent(doc: PlanDocument, st) -> list:
    """Near the front: what the law says must be done first, and whether this plan does it in time."""
    out = [_p("要対策施設（法定の措置期限）", st["h1"]),
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
        out += [_p("緊急度の高い施設（橋梁の健全性Ⅳ・Ⅲ、下水道の緊急度Ⅰ）", st["h2"])]
        rows = [["施設ID", "種別", "名称", "管理者", "判定", "措置期限", "期限の年度", "本計画"]]
        for u in doc.urgent:
            rows.append([u["global_id"], u["kind"], u["name"], u["owner"], u["grade"], u["due"], u["deadline"],
                         u["plan"]])
        out.append(_table(rows, [30 * mm, 18 * mm, 24 * mm, 16 * mm, 16 * mm, 26 * mm, 22 * mm, BODY_W - 152 * mm]))
    out.append(PageBreak())
    return out


def _summary(doc: PlanDocument, st) -> list:
    out = [_p("1. 施設の現況", st["h1"]),
           _p(f"{doc.scope}が管理する施設を、市町村の別なく一つの台帳として集計した。"
                     "健全度は最新の点検結果による（未点検の施設は「未点検」）。", st["body"]),
           _p("1.1 施設数", st["h2"])]
    total = sum(n for _, n in doc.counts)
    rows = [["施設種別", "施設数", "構成比"]] + [[k, _num(f"{n:,}"), _num(f"{100 * n / max(total, 1):.1f}%")]
                                          for k, n in doc.counts] + [["合計", _num(f"{total:,}"), _num("100%")]]
    out += [_table(rows, [60 * mm, 40 * mm, 30 * mm]), _p("1.2 健全度の分布", st["h2"])]
    out.append(drawings.stacked_bars(doc.conditions, BODY_W))
    rows = [["施設種別", "判定区分（件数）"]] + [[k, "　".join(f"{g}: {n:,}" for g, n in grades)]
                                          for k, grades in doc.conditions]
    out += [_table(rows, [40 * mm, BODY_W - 40 * mm]), CondPageBreak(80 * mm), _p("1.3 建設年代", st["h2"])]
    out.append(drawings.bar_chart(doc.age_bands, doc.ages, BODY_W, 70 * mm, "施設数", stacked=True))
    return out


def _map(doc: PlanDocument, st) -> list:
    return [PageBreak(), _p("2. 群（クラスター）の配置", st["h1"]),
            _p("色は工種、番号は優先順位。境界は市町村界。群は所有者に関わらず、工種が同じで"
                      "互いに近い施設を一つの発注単位としてまとめたもの。", st["body"]),
            Spacer(1, 3 * mm), drawings.region_map(doc.areas, doc.clusters, BODY_W, 165 * mm),
            _p(doc.credit, st["small"])]


def _ranking(doc: PlanDocument, st) -> list:
    rows = [["順位", "群ID", "工種", "施設数", "関係市町村", "事業費\n(百万円)", "削減リスク", "百万円当たり",
             "実施年度"]]
    for c in doc.clusters:
        rows.append([_num(str(c.rank)), c.key, WORK_LABEL.get(c.work_type, c.work_type), _num(f"{c.members:,}"),
                     "・".join(c.municipalities), _num(_yen_m(c.cost)), _num(f"{c.risk_removed:,.2f}"),
                     _num(f"{c.per_myen:,.3f}"), format_fiscal_year(c.fiscal_year) if c.fiscal_year else "計画期間外"])
    widths = [10 * mm, 25 * mm, 19 * mm, 12 * mm, 34 * mm, 17 * mm, 15 * mm, 17 * mm, BODY_W - 149 * mm]
    return [PageBreak(), _p("3. 優先順位", st["h1"]),
            _p("順位は削減できるリスク（劣化の起こりやすさ×影響の大きさ）を事業費100万円当たりで比べたもの。"
                      "実施年度は4.の中長期計画による。", st["body"]), Spacer(1, 2 * mm), _table(rows, widths)]


def _cluster_pages(doc: PlanDocument, st) -> list:
    out = [PageBreak(), _p("6. 群別調書（上位の群）", st["h1"])]
    for i, page in enumerate(doc.pages):
        c = page.row
        if i:
            out.append(PageBreak())
        out.append(_p(f"第{c.rank}位　群 {c.key}（{WORK_LABEL.get(c.work_type, c.work_type)}）", st["h2"]))
        mix = "、".join(f"{KIND_LABEL.get(k.split(':')[0], k)}{ACTION_LABEL.get(k.split(':')[1], '')} {n}"
                       for k, n in sorted(c.action_mix.items()))
        facts = [["実施年度", format_fiscal_year(c.fiscal_year) if c.fiscal_year else "計画期間外"],
                 ["対策", mix],
                 ["事業費", f"{_yen_m(c.cost)} 百万円（一括発注による節減 {_yen_m(c.saving)} 百万円）"],
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
    out = [PageBreak(), _p("4. 中長期計画", st["h1"])]
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
    out = [_p("4.1 法定の措置期限がある施設の対策", st["h2"]),
           _p("期限のある施設を含む群は期限の年度までに実施する（期限を過ぎたものは初年度）。群全体が予算に収まらない"
              f"ときは期限のある施設だけを分けて単独で発注した（本計画で{len(legal.get('split', [])):,}群）。", st["body"])]
    rows = [["年度", "期限を迎える施設(件)", "実施する施設(件)", "その費用(百万円)", "予算不足(件)", "予算不足額(百万円)"]]
    for k, fy in enumerate(doc.fiscal_years):
        rows.append([f"{format_fiscal_year(fy)}（{fy}）", _num(f"{legal['due'][k]:,}"), _num(f"{legal['scheduled'][k]:,}"),
                     _num(_yen_m(legal["scheduled_cost"][k])), _num(f"{legal['shortfall_count'][k]:,}"),
                     _num(_yen_m(legal["shortfall_cost"][k]))])
    out.append(_table(rows, [34 * mm, 28 * mm, 26 * mm, 26 * mm, 22 * mm, BODY_W - 136 * mm]))
    out.append(_p("4.2 予算不足（法定の対策が期限内にできないもの）", st["h2"]))
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
    out = [PageBreak(), _p("5. シナリオの比較", st["h1"]),
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
    out = [PageBreak(), _p("7. 集約・再編の候補", st["h1"]),
           _p("7.1 下水道から合併処理浄化槽への転換", st["h2"])]
    if doc.sewer_septic:
        rows = [["群ID", "管路延長(km)", "戸数", "戸数の数え方", "戸/km", "損益分岐(戸/km)", "更新(百万円/年)",
                 "浄化槽(百万円/年)", "判定"]]
        for r in doc.sewer_septic:
            s = r["sewer_vs_septic"]
            rows.append([r["key"], _num(f"{s['pipe_km']:.2f}"), _num(f"{s['households']:,.0f}"), households_counted(s),
                         _num(f"{s['households_per_km']:.1f}"), _num(_break_even(s)),
                         _num(_yen_m(s["annual_cost_renew"])), _num(_yen_m(s["annual_cost_septic"])),
                         "浄化槽へ転換" if s["recommendation"] == "convert_to_septic" else "管路を更新"])
        out.append(_table(rows, [26 * mm, 15 * mm, 12 * mm, 30 * mm, 12 * mm, 17 * mm, 18 * mm, 19 * mm,
                                 BODY_W - 149 * mm]))
        out.append(_p("戸数は管路ごとに、下水道台帳の取付管数、それがなければ建物数、それもなければ管理者の人口密度に"
                      "管路沿いの幅を掛けた推計（人口密度による推計）で数え、群の管路について合計した。", st["small"]))
    else:
        out.append(_p("該当なし。", st["body"]))
    out.append(_p("7.2 橋梁の撤去・集約", st["h2"]))
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
    out.append(_p("7.3 老朽化した単独処理・不適正な浄化槽の集まり", st["h2"]))
    if doc.septic_groups:
        rows = [["基数", "世帯", "単独処理", "不適正", "市町村", "転換費(百万円)"]]
        for g in doc.septic_groups:
            rows.append([_num(f"{g['tanks']}"), _num(f"{g['households']}"), _num(f"{g['single']}"),
                         _num(f"{g['improper']}"), "・".join(g["owners"]), _num(_yen_m(g["conversion_cost"]))])
        out.append(_table(rows, [16 * mm, 16 * mm, 18 * mm, 16 * mm, 60 * mm, BODY_W - 126 * mm]))
    else:
        out.append(_p("該当なし。", st["body"]))
    return out


def _appendix(doc: PlanDocument, st) -> list:
    out = [PageBreak(), _p("付録　手法と条件", st["h1"])]
    out += [_p(p, st["body"]) for p in doc.method]
    rows = [["劣化区分", "推定方法", "点検ペア数", "各区分の平均滞留年数"]]
    for scheme, h in sorted(doc.hazards.items()):
        rows.append([scheme, "最尤推定" if h["source"] == "estimated" else "既定値", _num(f"{h['pairs']:,}"),
                     " / ".join(f"{y:.1f}" for y in h["expected_years_in_state"])])
    out += [_p("劣化予測（マルコフ連鎖）", st["h2"]), _table(rows, [40 * mm, 25 * mm, 25 * mm, BODY_W - 90 * mm]),
            _p("パラメータ", st["h2"]),
            _table([["名称", "値"]] + [[k, v] for k, v in doc.params], [70 * mm, BODY_W - 70 * mm]),
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
    return [CondPageBreak(60 * mm), _p("1.4 措置の実施状況", st["h2"]),
            _p("今期の点検で措置が必要と判定された施設（健全性Ⅲ・Ⅳ、緊急度Ⅰ・Ⅱ、診断区分Ⅲ、不適正）のうち、措置に着手・完了"
               "した割合（道路メンテナンス年報の措置着手率・措置完了率に倣う）。通行規制・応急措置のみの施設は着手に数えない。",
               st["body"]),
            _table(rows, [34 * mm] + [(BODY_W - 34 * mm) / 6] * 6)]


def render_pdf(doc: PlanDocument) -> bytes:
    register()
    st = _styles()
    buf = io.BytesIO()
    frame = Frame(MARGIN, 16 * mm, BODY_W, HEIGHT - 16 * mm - 16 * mm, id="body")
    tpl = BaseDocTemplate(buf, pagesize=A4, title=f"{doc.scope} {doc.title}", author=doc.lead,
                          subject=doc.period, creator="群マネ", leftMargin=MARGIN, rightMargin=MARGIN,
                          # Every page starts in the embedded face, never in an unembedded base-14 font.
                          initialFontName=GOTHIC, initialFontSize=9)
    tpl.addPageTemplates([PageTemplate("cover", [frame]), PageTemplate("body", [frame])])
    from reports.pdf.completeness import completeness_section

    story = (_cover(doc, st) + _urgent(doc, st) + _summary(doc, st) + _measures(doc, st)
             + completeness_section(doc, st) + _map(doc, st)
             + _ranking(doc, st) + _plan(doc, st)
             + _scenarios(doc, st) + _cluster_pages(doc, st) + _consolidation(doc, st) + _appendix(doc, st))
    # Sections in reading order: 1 現況, 2 配置, 3 優先順位, 4 中長期計画, 5 シナリオ, 6 群別調書, 7 集約・再編.
    tpl.build(story, canvasmaker=lambda *a, **k: _NumberedCanvas(*a, doc=doc, **k))
    return buf.getvalue()
