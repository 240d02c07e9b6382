"""「データの充足状況」: how complete the registry's data were when the run read them (issue 16), one short section
the plan's layout can place where it likes (render_pdf places it after 3.4).
Pure: the document in, flowables out."""

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak

from reports.pdf.model import PlanDocument

ASPECTS = (("built", "建設年度"), ("size", "規模（延長・幅員・管径・人槽）"), ("material", "構造・管種・区分"),
           ("traffic", "交通量"), ("inspected", "点検記録"))


def _share(value) -> str:
    return "—" if value is None else f"{100 * float(value):.0f}%"


def completeness_section(doc: PlanDocument, st) -> list:
    """A table per municipality and kind of the share of assets whose ledger gives each attribute, and how many
    the engine estimated from defaults ("—": the attribute does not apply to the kind)."""
    from reports.pdf.render import BODY_W, KIND_LABEL, _num, _p, _table

    if not doc.completeness:
        return []
    rows = [["市町村", "施設種別", "施設数", *[label for _k, label in ASPECTS]]]
    rows += [[r.get("owner_name") or r.get("owner", ""), KIND_LABEL.get(r["kind"], r["kind"]), _num(f"{r['assets']:,}"),
              *[_num(_share(r.get(k))) for k, _label in ASPECTS]] for r in doc.completeness]
    first = 26 * mm
    from reports.pdf.render import _h  # the heading that the 目次 lists

    return [CondPageBreak(50 * mm), _h("3.5 データの充足状況", st, 1),
            _p("台帳に各項目の記載がある施設の割合（計画の基にした実行の時点）。記載のない項目は、同じ市町村・同種の施設の"
               "中央値などの既定値で推計した（既定値で推計）。割合が低い項目ほど、計画の数値は台帳の整備により変わりうる。",
               st["body"]),
            _table(rows, [first, 28 * mm, 16 * mm] + [(BODY_W - first - 44 * mm) / len(ASPECTS)] * len(ASPECTS))]


__all__ = ["completeness_section"]
