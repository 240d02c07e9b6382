"""Vector charts and maps for the plan (reportlab graphics): drawn, not pasted in as pictures."""

import math

import shapely
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors

from reports.pdf.fonts import GOTHIC
from reports.pdf.model import Area, ClusterRow, Member

# Condition colours from sound to failed, as Japanese plans usually shade 健全性 Ⅰ→Ⅳ.
GRADE_COLOURS = [colors.HexColor(c) for c in ("#2e7d32", "#9ccc65", "#ffb300", "#e53935", "#6d4c41")]
WORK_COLOURS = {"road": colors.HexColor("#6d6d6d"), "sewer": colors.HexColor("#1565c0"),
                "bridge": colors.HexColor("#c62828"), "septic": colors.HexColor("#2e7d32"),
                "road_sewer": colors.HexColor("#6a1b9a")}
SERIES = [colors.HexColor(c) for c in ("#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#757575")]
KIND_COLOURS = {"road_segment": "#6d6d6d", "sewer_pipe": "#1565c0", "manhole": "#64b5f6", "bridge": "#c62828",
                "septic_tank": "#2e7d32", "tunnel": "#6a1b9a", "shed_culvert": "#8e24aa", "ped_overpass": "#ad1457",
                "gantry_sign": "#ef6c00"}


def _label(d: Drawing, x, y, text, size=7, anchor="start", colour=colors.black):
    d.add(String(x, y, text, fontName=GOTHIC, fontSize=size, textAnchor=anchor, fillColor=colour))


def stacked_bars(rows: list[tuple[str, list[tuple[str, int]]]], width: float, bar_h: float = 12) -> Drawing:
    """One horizontal 100 % bar per kind, split by grade (sound → failed), with the share written in."""
    label_w = 90
    h = len(rows) * (bar_h + 8) + 24
    d = Drawing(width, h)
    y = h - 10 - bar_h
    legend: dict[str, colors.Color] = {}
    for name, grades in rows:
        _label(d, 0, y + 3, name, 8)
        total = sum(n for _, n in grades) or 1
        x = label_w
        for k, (grade, n) in enumerate(grades):
            w = (width - label_w) * n / total
            colour = GRADE_COLOURS[min(k, len(GRADE_COLOURS) - 1)] if grade != "未点検" else colors.lightgrey
            legend.setdefault(f"{k}:{grade}", colour)
            d.add(Rect(x, y, w, bar_h, fillColor=colour, strokeColor=colors.white, strokeWidth=0.3))
            if w > 22:
                _label(d, x + w / 2, y + 3, f"{100 * n / total:.0f}%", 6.5, "middle",
                       colors.white if k >= 2 and grade != "未点検" else colors.black)
            x += w
        y -= bar_h + 8
    return d


def bar_chart(categories: list[str], series: list[tuple[str, list[float]]], width: float, height: float,
              y_title: str = "", stacked: bool = False) -> Drawing:
    d = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 46, 34, width - 60, height - 58
    chart.data = [list(v) for _, v in series] or [[0]]
    chart.categoryAxis.categoryNames = categories
    chart.categoryAxis.labels.fontName = GOTHIC
    chart.categoryAxis.labels.fontSize = 6.5
    chart.categoryAxis.labels.angle = 30 if len(categories) > 8 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(categories) > 8 else "n"
    chart.valueAxis.labels.fontName = GOTHIC
    chart.valueAxis.labels.fontSize = 6.5
    chart.valueAxis.valueMin = 0
    chart.valueAxis.forceZero = True
    if stacked:
        chart.categoryAxis.style = "stacked"
    for i in range(len(chart.data)):
        chart.bars[i].fillColor = SERIES[i % len(SERIES)]
        chart.bars[i].strokeColor = None
    chart.barSpacing = 1
    d.add(chart)
    _label(d, 4, height - 10, y_title, 7)
    _legend(d, [name for name, _ in series], width, height - 10)
    return d


def _legend(d: Drawing, names: list[str], width: float, y: float) -> None:
    x = width - 10
    for i, name in reversed(list(enumerate(names))):
        tw = 14 + 6.8 * len(name)
        x -= tw
        d.add(Rect(x, y - 1, 6, 6, fillColor=SERIES[i % len(SERIES)], strokeColor=None))
        _label(d, x + 8, y, name, 6.5)


def line_chart(xs: list[int], series: list[tuple[str, list[float]]], width: float, height: float,
               y_title: str = "", x_labels: list[str] | None = None) -> Drawing:
    d = Drawing(width, height)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 46, 30, width - 60, height - 56
    plot.data = [list(zip(xs, v, strict=True)) for _, v in series] or [[(0, 0)]]
    for i in range(len(plot.data)):
        plot.lines[i].strokeColor = SERIES[i % len(SERIES)]
        plot.lines[i].strokeWidth = 1.4
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = min(xs), max(xs)
    plot.xValueAxis.valueSteps = xs
    plot.xValueAxis.labels.fontName = plot.yValueAxis.labels.fontName = GOTHIC
    plot.xValueAxis.labels.fontSize = plot.yValueAxis.labels.fontSize = 6.5
    if x_labels:
        labels = dict(zip(xs, x_labels, strict=True))
        plot.xValueAxis.labelTextFormat = lambda v: labels.get(int(round(v)), "")
    plot.yValueAxis.valueMin = 0
    d.add(plot)
    _label(d, 4, height - 10, y_title, 7)
    _legend(d, [name for name, _ in series], width, height - 10)
    return d


class _Frame:
    """lon/lat → page points: equirectangular at the map's mid latitude, north up, aspect kept."""

    def __init__(self, rings: list, width: float, height: float, pad: float = 8):
        pts = [p for ring in rings for p in ring] or [(0.0, 0.0)]
        lons, lats = [p[0] for p in pts], [p[1] for p in pts]
        self.k = math.cos(math.radians((min(lats) + max(lats)) / 2))
        w = max((max(lons) - min(lons)) * self.k, 1e-6)
        h = max(max(lats) - min(lats), 1e-6)
        self.s = min((width - 2 * pad) / w, (height - 2 * pad) / h)
        self.x0 = min(lons) - ((width - 2 * pad) / self.s - w) / 2 / self.k - pad / self.s / self.k
        self.y0 = min(lats) - ((height - 2 * pad) / self.s - h) / 2 - pad / self.s
        self.km = self.s / 111.32  # points per km, north–south

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.x0) * self.k * self.s, (lat - self.y0) * self.s

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        return x / self.s / self.k + self.x0, y / self.s + self.y0

    def points(self, ring) -> list[float]:
        return [c for p in ring for c in self(*p)]


def _clipped(ring, view) -> list:
    """The parts of a boundary ring inside the map's view: boundaries run far beyond a zoomed map."""
    cut = shapely.Polygon(ring).buffer(0).intersection(view)
    return [list(p.exterior.coords) for p in getattr(cut, "geoms", [cut]) if p.geom_type == "Polygon" and not p.is_empty]


def _scale_bar(d: Drawing, f: _Frame, width: float) -> None:
    for km in (20, 10, 5, 2, 1, 0.5, 0.2, 0.1):
        if km * f.km < width / 4:
            break
    length = km * f.km
    d.add(Line(10, 10, 10 + length, 10, strokeWidth=1.5))
    _label(d, 10 + length + 4, 7, f"{km:g} km", 6.5)
    _label(d, width - 14, 20, "N", 8, "middle")
    d.add(Polygon([width - 14, 40, width - 18, 30, width - 10, 30], fillColor=colors.black, strokeColor=None))


def region_map(areas: list[Area], clusters: list[ClusterRow], width: float, height: float,
               label_top: int = 15) -> Drawing:
    """Municipal boundaries with every cluster's outline, coloured by work type; the top ranks numbered."""
    d = Drawing(width, height)
    focus = [r for a in areas if a.highlighted for r in a.rings]
    f = _Frame(focus or [r for a in areas for r in a.rings] or [r for c in clusters for r in c.rings], width, height)
    d.add(Rect(0, 0, width, height, fillColor=colors.HexColor("#f4f7fb"), strokeColor=colors.grey, strokeWidth=0.5))
    view = shapely.box(*f.lonlat(0, 0), *f.lonlat(width, height))
    for a in areas:
        for ring in a.rings:
            for part in _clipped(ring, view):
                d.add(Polygon(f.points(part), fillColor=colors.HexColor("#fffdf5" if a.highlighted else "#ffffff"),
                              strokeColor=colors.HexColor("#555555"), strokeWidth=1.0 if a.highlighted else 0.6))
    for c in sorted(clusters, key=lambda c: -c.rank):
        colour = WORK_COLOURS.get(c.work_type, colors.black)
        for ring in c.rings:
            for part in _clipped(ring, view):
                d.add(Polygon(f.points(part), fillColor=colors.Color(colour.red, colour.green, colour.blue, 0.35),
                              strokeColor=colour, strokeWidth=0.4))
    for a in areas:
        if a.rings:
            p = shapely.Polygon(max(a.rings, key=len)).representative_point()
            x, y = f(p.x, p.y)
            if 0 < x < width and 0 < y < height:
                _label(d, x, y, a.name, 7, "middle", colors.HexColor("#333333"))
    for c in clusters[:label_top]:
        if c.rings:
            ring = c.rings[0]
            x, y = f(sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
            if not (8 < x < width - 8 and 8 < y < height - 24):
                continue
            d.add(Rect(x - 6, y - 4, 12, 9, fillColor=colors.white, strokeColor=colors.black, strokeWidth=0.4))
            _label(d, x, y - 2, str(c.rank), 6, "middle")
    _scale_bar(d, f, width)
    d.add(Rect(4, height - 20, 300, 16, fillColor=colors.Color(1, 1, 1, 0.85), strokeColor=None))
    lx = 10
    for wt, label in (("road", "舗装"), ("sewer", "下水道"), ("road_sewer", "舗装＋下水道"), ("bridge", "橋梁"),
                      ("septic", "浄化槽")):
        d.add(Rect(lx, height - 16, 8, 8, fillColor=WORK_COLOURS[wt], strokeColor=None))
        _label(d, lx + 11, height - 15, label, 7)
        lx += 18 + 8 * len(label)
    return d


def cluster_map(areas: list[Area], row: ClusterRow, members: list[Member], width: float, height: float) -> Drawing:
    """One cluster close up: its outline, its members by kind, the municipal boundaries that cross it."""
    d = Drawing(width, height)
    pts = [(m.lon, m.lat) for m in members] + [p for r in row.rings for p in r]
    f = _Frame([pts], width, height, pad=18)
    d.add(Rect(0, 0, width, height, fillColor=colors.HexColor("#f4f7fb"), strokeColor=colors.grey, strokeWidth=0.5))
    # Boundaries run far beyond a small cluster: cut them to the map's extent first.
    view = shapely.box(*f.lonlat(0, 0), *f.lonlat(width, height))
    for a in areas:
        for ring in a.rings:
            for part in _clipped(ring, view):
                d.add(Polygon(f.points(part), fillColor=None, strokeColor=colors.HexColor("#888888"),
                              strokeWidth=0.8, strokeDashArray=[3, 2]))
    colour = WORK_COLOURS.get(row.work_type, colors.black)
    for ring in row.rings:
        d.add(Polygon(f.points(ring), fillColor=colors.Color(colour.red, colour.green, colour.blue, 0.15),
                      strokeColor=colour, strokeWidth=0.8))
    for m in members:
        x, y = f(m.lon, m.lat)
        if 0 <= x <= width and 0 <= y <= height:
            d.add(Rect(x - 1.6, y - 1.6, 3.2, 3.2, fillColor=colors.HexColor(KIND_COLOURS.get(m.kind, "#000000")),
                       strokeColor=None))
    d.add(Rect(0, 0, width, height, fillColor=None, strokeColor=colors.grey, strokeWidth=0.5))
    _scale_bar(d, f, width)
    return d
