"""Small inline SVG charts for the plan page: pure, data in, markup out (the PDF draws its own with reportlab)."""

from html import escape

COLOURS = ("#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#757575")


def _frame(width: int, height: int, ymax: float, labels: list[str], unit: str) -> list[str]:
    left, bottom = 52, 28
    out = [f'<svg viewBox="0 0 {width} {height}" role="img" style="width:100%;height:auto;background:#fff">']
    for k in range(5):
        y = height - bottom - (height - bottom - 16) * k / 4
        out.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e8ee"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{ymax * k / 4:,.0f}</text>')
    step = (width - left - 8) / max(len(labels), 1)
    for i, lab in enumerate(labels):
        out.append(f'<text x="{left + step * (i + 0.5):.1f}" y="{height - 10}" font-size="10" '
                   f'text-anchor="middle">{escape(lab)}</text>')
    out.append(f'<text x="4" y="12" font-size="10">{escape(unit)}</text>')
    return out


def lines(series: list[tuple[str, list[float]]], labels: list[str], unit: str, width=640, height=240) -> str:
    ymax = max([max(v) for _n, v in series if v] + [1.0]) * 1.05
    out = _frame(width, height, ymax, labels, unit)
    left, bottom, step = 52, 28, (width - 60) / max(len(labels), 1)
    for k, (name, values) in enumerate(series):
        pts = " ".join(f"{left + step * (i + 0.5):.1f},{height - bottom - (height - bottom - 16) * v / ymax:.1f}"
                       for i, v in enumerate(values))
        colour = COLOURS[k % len(COLOURS)]
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
        out.append(f'<text x="{width - 10}" y="{16 + 12 * k}" font-size="10" text-anchor="end" fill="{colour}">'
                   f'{escape(name)}</text>')
    return "".join(out) + "</svg>"


def bars(series: list[tuple[str, list[float]]], labels: list[str], unit: str, width=640, height=240) -> str:
    ymax = max([max(v) for _n, v in series if v] + [1.0]) * 1.05
    out = _frame(width, height, ymax, labels, unit)
    left, bottom, step = 52, 28, (width - 60) / max(len(labels), 1)
    w = step * 0.8 / max(len(series), 1)
    for k, (name, values) in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        for i, v in enumerate(values):
            h = (height - bottom - 16) * v / ymax
            out.append(f'<rect x="{left + step * i + step * 0.1 + w * k:.1f}" y="{height - bottom - h:.1f}" '
                       f'width="{w:.1f}" height="{h:.1f}" fill="{colour}"/>')
        out.append(f'<text x="{width - 10}" y="{16 + 12 * k}" font-size="10" text-anchor="end" fill="{colour}">'
                   f'{escape(name)}</text>')
    return "".join(out) + "</svg>"
