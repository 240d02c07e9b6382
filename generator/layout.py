"""Synthesis of a plausible region inside real municipal boundaries (pure: arrays in, DataFrames out).

Per municipality: a street grid (dense in the sewered core around the town hall, coarse outside),
sewer pipes under the core's streets flowing towards the regional trunk, manholes at the nodes,
bridges where arterial streets cross rivers, septic tanks in hamlets in the unsewered outskirts.
Across the region: one prefecture-run trunk sewer under a prefectural road, town hall to town hall
down to the treatment plant. Counts are solved so the total equals the requested number exactly."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from core import wareki
from core.wareki import current_fiscal_year
from generator.frame import LocalFrame
from generator.inspections import inspections_for

STD_DIAMETERS = np.array([200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1350, 1500])


@dataclass
class MunicipalityInput:
    code: str
    name: str
    boundary_ll: object  # shapely (Multi)Polygon, lon/lat
    hall_ll: tuple[float, float]
    population: int


@dataclass
class RegionInput:
    prefecture_code: str
    members: list[MunicipalityInput]
    rivers: list[tuple[str, float]]
    trunk: bool = False
    plant_ll: tuple[float, float] | None = None
    trunk_name: str = ""
    sewer_start: int = 1970


@dataclass
class Generated:
    """Rows per table, keyed by a local integer `key` into `assets`; the loader maps keys to ids."""

    assets: pd.DataFrame
    details: dict[str, pd.DataFrame]
    inspections: pd.DataFrame
    params: dict = field(default_factory=dict)
    # Roads of other administrators (国道・県道) for the engine's reference road layer: geom (lon/lat), road_class,
    # name. Not assets: the registry holds only the members' own.
    reference_roads: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["geom", "road_class", "name"]))


def _rot(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


@dataclass
class _Town:
    code: str
    name: str
    poly: object  # metric
    hall: np.ndarray
    area: float
    sewer_r: float
    sewer_zone: object
    angle: float
    density: float


def _sewer_radius(poly, hall, frac: float) -> float:
    target = poly.area * frac
    lo, hi = 0.0, float(np.sqrt(poly.area)) * 3
    center = shapely.Point(hall)
    for _ in range(30):
        mid = (lo + hi) / 2
        if poly.intersection(center.buffer(mid, 32)).area < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _rivers(rng, frame_bounds, specs):
    """Meandering north-south rivers spread across the region."""
    xmin, ymin, xmax, ymax = frame_bounds
    out = []
    for i, (name, width) in enumerate(specs):
        x0 = xmin + (i + 1) / (len(specs) + 1) * (xmax - xmin) + rng.normal(0, (xmax - xmin) * 0.04)
        ys = np.linspace(ymax + 2000, ymin - 2000, 80)
        phase, amp, wl = rng.uniform(0, 6.28), rng.uniform(300, 900), rng.uniform(3000, 7000)
        drift = rng.uniform(-0.15, 0.15)
        xs = x0 + amp * np.sin(ys / wl * 6.28 + phase) + drift * (ys - ys.mean())
        out.append((name, float(width), shapely.LineString(np.column_stack([xs, ys]))))
    return out


def _grid_size(town: _Town, s: float) -> int:
    minx, miny, maxx, maxy = town.poly.bounds
    return int(np.ceil((max(maxx - minx, maxy - miny) * 0.75 + s) / s))


def _grid(town: _Town, s: float):
    """Nodes and edges of the town's street grid. Returns node xy, edge (a, b) node indices, edge line index,
    whether the edge is in the sewered zone."""
    n = _grid_size(town, s)
    ii, jj = np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1), indexing="ij")
    local = np.column_stack([ii.ravel() * s, jj.ravel() * s])
    xy = local @ _rot(town.angle).T + town.hall
    inside = shapely.contains_xy(town.poly, xy[:, 0], xy[:, 1])
    dist = np.hypot(*(xy - town.hall).T)
    sewered = inside & (dist <= town.sewer_r)
    size = 2 * n + 1
    idx = np.arange(size * size).reshape(size, size)
    edges, lines, horiz = [], [], []
    # horizontal: (i, j)-(i+1, j) lie on line j; vertical: (i, j)-(i, j+1) on line i
    edges.append(np.column_stack([idx[:-1, :].ravel(), idx[1:, :].ravel()]))
    lines.append(jj[:-1, :].ravel())
    horiz.append(np.ones(edges[-1].shape[0], bool))
    edges.append(np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()]))
    lines.append(ii[:, :-1].ravel())
    horiz.append(np.zeros(edges[-1].shape[0], bool))
    e = np.concatenate(edges)
    line = np.concatenate(lines)
    both_in = inside[e[:, 0]] & inside[e[:, 1]]
    core = sewered[e[:, 0]] & sewered[e[:, 1]]
    # Outside the core only every third street exists: a coarse rural network.
    keep = both_in & (core | (line % 3 == 0))
    return xy, e[keep], line[keep], core[keep]


class _Assets:
    """Accumulates core rows and per-kind detail rows with local keys."""

    def __init__(self):
        self.core: list[pd.DataFrame] = []
        self.details: dict[str, list[pd.DataFrame]] = {}
        self.next_key = 0

    def add(self, kind: str, core: dict, detail: dict) -> np.ndarray:
        n = len(core["geom"])
        keys = np.arange(self.next_key, self.next_key + n)
        self.next_key += n
        df = pd.DataFrame(core)
        df.insert(0, "key", keys)
        df["kind"] = kind
        self.core.append(df)
        d = pd.DataFrame(detail)
        d.insert(0, "key", keys)
        self.details.setdefault(kind, []).append(d)
        return keys


def _std_diameter(d):
    return STD_DIAMETERS[np.clip(np.searchsorted(STD_DIAMETERS, d), 0, len(STD_DIAMETERS) - 1)]


def _lines_wkb(frame: LocalFrame, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lon_a, lat_a = frame.to_ll(a[:, 0], a[:, 1])
    lon_b, lat_b = frame.to_ll(b[:, 0], b[:, 1])
    coords = np.stack([np.column_stack([lon_a, lat_a]), np.column_stack([lon_b, lat_b])], axis=1)
    return shapely.to_wkb(shapely.set_srid(shapely.linestrings(coords), 6668), hex=True, include_srid=True)


def _points_wkb(frame: LocalFrame, xy: np.ndarray) -> np.ndarray:
    lon, lat = frame.to_ll(xy[:, 0], xy[:, 1])
    return shapely.to_wkb(shapely.set_srid(shapely.points(lon, lat), 6668), hex=True, include_srid=True)


def _built_text(fy: np.ndarray) -> np.ndarray:
    """年度 as a ledger would write it (和暦), to keep the original-text column realistic."""
    years, inverse = np.unique(fy, return_inverse=True)
    return np.array([wareki.format_fiscal_year(int(y)) for y in years], dtype=object)[inverse.reshape(-1)]


# Share of the assets that the regional trunk (road, manholes, pipes) takes when the region has one.
TRUNK_SHARE = 0.004

# 取付管 (house connections) per 100 m of street, both sides: a built-up centre around the hall, thinning towards
# the sewered zone's edge; a dense town stays built-up nearly to the edge, a sparse one ends in scattered houses.
# Frontages of 10–15 m give about 15–25 houses per 100 m in a town centre; a fringe street has one every 50–100 m.
HOUSES_PER_100M_CENTRE = (16.0, 24.0)  # sparse town, dense town
HOUSES_PER_100M_EDGE = 1.0
HOUSES_FALL_OFF = (0.3, 1.5)  # e^(−rel / this), rel = distance from the hall over the zone's radius
HOUSES_DENSE_TOWN = 8000.0  # persons/km² at which a town counts as dense throughout (草加 ≈ 8,600)
HOUSES_STREAM = 14  # the houses' random stream, beside the seed's main one


def house_connections(rng, rel: np.ndarray, length_m: np.ndarray, town_density: float) -> np.ndarray:
    """Each pipe's 取付管数: the houses its street's frontage holds at its distance from the hall (`rel`: relative
    to the sewered zone's radius) in a town this dense (persons/km²), drawn as a Poisson count."""
    dense = min(town_density / HOUSES_DENSE_TOWN, 1.0)
    centre = HOUSES_PER_100M_CENTRE[0] + (HOUSES_PER_100M_CENTRE[1] - HOUSES_PER_100M_CENTRE[0]) * dense
    fall_off = HOUSES_FALL_OFF[0] + (HOUSES_FALL_OFF[1] - HOUSES_FALL_OFF[0]) * dense
    per_100m = HOUSES_PER_100M_EDGE + (centre - HOUSES_PER_100M_EDGE) * np.exp(-np.asarray(rel) / fall_off)
    return rng.poisson(per_100m * np.asarray(length_m) / 100)


@dataclass
class _Site:
    """What every step draws on. The random stream is drawn from in the steps' fixed order, so one seed gives
    one region."""

    rng: np.random.Generator
    frame: LocalFrame
    spacing: float  # street grid spacing (m)
    rivers: list  # (name, width m, metric line)
    acc: _Assets
    # The houses along the pipes draw from a stream of their own, so adding them left every other draw (and so
    # every region generated before) as it was.
    houses: np.random.Generator | None = None


@dataclass
class _Streets:
    """A town's street grid: per edge, where it runs and what it is."""

    xy: np.ndarray  # node coordinates
    e: np.ndarray  # edge (a, b) node indices
    line: np.ndarray  # grid line of the edge
    core: np.ndarray  # edge in the sewered core
    seg: np.ndarray  # edge geometry (metric)
    crosses: np.ndarray  # index of the river the edge crosses, or -1
    bridged: np.ndarray  # crossing carried by a bridge
    keep_road: np.ndarray
    keep_pipe: np.ndarray
    road_class: np.ndarray
    d_hall: np.ndarray  # distance from the town hall (m)
    rel: np.ndarray  # distance from the hall relative to the sewered zone's radius, at most 3
    near_hall: np.ndarray


def generate(region: RegionInput, n_assets: int, seed: int, current_fy: int | None = None) -> Generated:
    current_fy = current_fy or current_fiscal_year()
    rng = np.random.default_rng(seed)
    frame = centred_frame(region)
    towns = place_towns(rng, region, frame)
    trunk_share = TRUNK_SHARE if region.trunk else 0.0
    spacing = grid_spacing(towns, n_assets, trunk_share)
    site = _Site(rng, frame, spacing, draw_rivers(rng, towns, region.rivers), _Assets(),
                 np.random.default_rng([seed, HOUSES_STREAM]))
    trunk = lay_trunk(site, region, towns, n_assets * trunk_share)
    for town in towns:
        lay_out_town(site, region, town, trunk)
    place_septic_tanks(site, towns, n_assets, current_fy)
    assets, details = collect(site.acc)
    inspections = inspections_for(rng, assets, details, current_fy)
    return Generated(assets, details, inspections,
                     {"grid_spacing_m": round(spacing, 1), "rivers": [r[0] for r in site.rivers]},
                     trunk_roads(site, towns))


def centred_frame(region: RegionInput) -> LocalFrame:
    halls = np.array([m.hall_ll for m in region.members])
    return LocalFrame(float(halls[:, 0].mean()), float(halls[:, 1].mean()))


def place_towns(rng, region: RegionInput, frame: LocalFrame) -> list[_Town]:
    """Each member in metres, its hall inside it, and a sewered core around the hall that grows with density."""
    towns = []
    for m in region.members:
        poly = frame.geom_to_m(m.boundary_ll)
        hall = np.array(frame.to_m(*m.hall_ll))
        if not shapely.contains_xy(poly, *hall):
            hall = np.array(poly.point_on_surface().coords[0])
        density = m.population / (poly.area / 1e6) if m.population else 300.0
        frac = float(np.clip(0.05 + density / 7000, 0.08, 0.9))
        r = _sewer_radius(poly, hall, frac)
        zone = poly.intersection(shapely.Point(hall).buffer(r, 32))
        towns.append(_Town(m.code, m.name, poly, hall, poly.area, r, zone, rng.uniform(-0.35, 0.35), density))
    return towns


def grid_spacing(towns: list[_Town], n_assets: int, trunk_share: float) -> float:
    """The street spacing that makes the networks come out at the requested count, less the septic tanks' and
    the trunk's shares."""
    a_sewer = sum(t.sewer_zone.area for t in towns)
    a_total = sum(t.area for t in towns)
    a_out = a_total - a_sewer
    septic_share = 0.1 + 0.3 * a_out / a_total
    target_net = n_assets * (1 - septic_share - trunk_share)
    # roads + pipes ≈ 2 edges per node in the core, manholes ≈ 1 per node; outside a 3x-coarse grid.
    return float(np.sqrt((5 * a_sewer + 0.667 * a_out) / max(target_net, 1.0)))


def draw_rivers(rng, towns: list[_Town], specs) -> list:
    bounds = shapely.union_all([t.poly for t in towns]).bounds
    rivers = _rivers(rng, bounds, specs)
    for r in rivers:
        shapely.prepare(r[2])
    return rivers


def lay_trunk(site: _Site, region: RegionInput, towns: list[_Town], n_trunk: float):
    """The prefecture's trunk sewer under a prefectural emergency road, town hall to town hall (north to south)
    down to the treatment plant, with bridges where the road crosses a river. Returns its line, or None."""
    if not (region.trunk and region.plant_ll is not None):
        return None
    order = np.argsort([-t.hall[1] for t in towns])
    pts = [towns[i].hall for i in order] + [np.array(site.frame.to_m(*region.plant_ll))]
    line = shapely.LineString(pts)
    n_seg = max(int(round(n_trunk / 3)), len(pts) * 2)
    _trunk_road_and_sewer(site, region, line, n_seg)
    _trunk_bridges(site, region.prefecture_code, line)
    _trunk_overpasses(site, region.prefecture_code, line)
    return line


def _trunk_road_and_sewer(site: _Site, region: RegionInput, trunk_line, n_seg: int) -> None:
    rng, acc, pref = site.rng, site.acc, region.prefecture_code
    dist = np.linspace(0, trunk_line.length, n_seg + 1)
    nodes = shapely.get_coordinates(shapely.line_interpolate_point(trunk_line, dist))
    a_, b_ = nodes[:-1], nodes[1:]
    seg_len = np.hypot(*(b_ - a_).T)
    frac_down = dist[1:] / trunk_line.length
    fy = np.clip((1975 + frac_down * 19 + rng.normal(0, 2, n_seg)).astype(int), 1972, 1994)
    geom = _lines_wkb(site.frame, a_, b_)
    ext = [f"県道-{i + 1:05d}" for i in range(n_seg)]
    road_keys = acc.add("road_segment", {
        "owner": pref, "source": "demo", "external_id": ext, "name": "県道 中川幹線通り",
        "geom": geom, "built_fy": fy, "important": False,
    }, {
        "road_class": "prefectural", "route_name": "県道 中川幹線通り", "is_emergency_route": True,
        "length_m": seg_len.round(1), "width_m": rng.uniform(10, 16, n_seg).round(1),
        "pavement_type": "asphalt", "traffic_volume": rng.integers(15000, 42000, n_seg),
    })
    mh_keys = acc.add("manhole", {
        "owner": pref, "source": "demo", "external_id": [f"流域MH-{i + 1:05d}" for i in range(n_seg + 1)],
        "name": "", "geom": _points_wkb(site.frame, nodes), "built_fy": np.append(fy, fy[-1]), "important": False,
    }, {
        "manhole_type": "特殊", "depth_m": rng.uniform(8, 16, n_seg + 1).round(1), "cover_type": "鋳鉄製",
        "cover_installed_fy": np.append(fy, fy[-1]), "drainage_system": "sanitary",
    })
    # Trunks grow downstream; the last stretch is the 4.75 m pipe size of the 八潮 collapse.
    diam = np.minimum(np.round((1200 + frac_down * 3550) / 250) * 250, 4750)
    acc.add("sewer_pipe", {
        "owner": pref, "source": "demo", "external_id": [f"流域-{i + 1:05d}" for i in range(n_seg)],
        "name": region.trunk_name, "geom": geom, "built_fy": fy, "important": frac_down > 0.9,
    }, {
        "drainage_system": "sanitary", "material": np.where(frac_down > 0.5, "shield", "rc"),
        "diameter_mm": diam.astype(int), "length_m": seg_len.round(1),
        "cover_depth_m": rng.uniform(6, 15, n_seg).round(1),
        "up_key": mh_keys[:-1], "down_key": mh_keys[1:], "is_trunk": True, "is_regional": True,
        "is_corrosion_prone": rng.random(n_seg) < 0.35, "road_key": road_keys,
        "house_connections": 0,  # houses connect to the municipal sewers, never to the 流域 trunk
    })


def _trunk_bridges(site: _Site, pref: str, trunk_line) -> None:
    rng = site.rng
    for rname, width, rline in site.rivers:
        hit = shapely.intersection(trunk_line, rline)
        for p in shapely.get_parts(hit):
            if p.geom_type != "Point":
                continue
            xy = np.array([[p.x, p.y]])
            length = float(width * rng.uniform(1.05, 1.3))
            site.acc.add("bridge", {
                "owner": pref, "source": "demo", "external_id": [f"BR0-{pref}-{site.acc.next_key:05d}"],
                "name": [f"中川幹線{rname[:-1]}橋"], "geom": _points_wkb(site.frame, xy),
                "built_fy": [int(rng.integers(1960, 1990))], "important": [True],
            }, {
                "length_m": [round(length, 1)], "width_m": [round(float(rng.uniform(10, 16)), 1)],
                "structure_type": ["steel" if length > 60 else "pc"], "span_count": [max(1, int(length // 35) + 1)],
                "crosses": ["river"], "crosses_name": [rname], "detour_length_m": [np.nan],
                "route_name": ["県道 中川幹線通り"],
            })


def _trunk_overpasses(site: _Site, pref: str, trunk_line) -> None:
    """Two 横断歩道橋 over the prefectural trunk road (告示426号 structures, graded like bridges): a few in the demo
    region so the registry, the map and the plan show a kind beside bridges. No random draws but the years."""
    rng = site.rng
    for i, at in enumerate((0.3, 0.6)):
        p = trunk_line.interpolate(at, normalized=True)
        site.acc.add("ped_overpass", {
            "owner": pref, "source": "demo", "external_id": [f"PO-{pref}-{site.acc.next_key:05d}"],
            "name": [f"中川幹線通り第{i + 1}横断歩道橋"], "geom": _points_wkb(site.frame, np.array([[p.x, p.y]])),
            "built_fy": [int(rng.integers(1968, 1985))], "important": [False],
        }, {
            "length_m": [round(float(rng.uniform(20, 30)), 1)], "width_m": [2.5], "height_m": [4.7],
            "structure_form": ["鋼製桁"], "route_name": ["県道 中川幹線通り"], "is_emergency_route": [True],
        })


def lay_out_town(site: _Site, region: RegionInput, t: _Town, trunk) -> None:
    """A municipality's own networks: streets, bridges on the river crossings, sewers under the core."""
    streets = street_grid(site, t)
    sewer_fy, road_fy = age_streets(site.rng, region, t, streets)
    road_keys, road_width = lay_roads(site, t, streets, road_fy)
    bridge_crossings(site, t, streets, road_width)
    lay_sewers(site, t, streets, sewer_fy, road_keys, trunk)


def street_grid(site: _Site, t: _Town) -> _Streets:
    """Which grid edges become streets, which cross a river on a bridge, which carry a pipe, and their class."""
    xy, e, line, core = _grid(t, site.spacing)
    a, b = xy[e[:, 0]], xy[e[:, 1]]
    seg = shapely.linestrings(np.stack([a, b], axis=1))
    crosses = np.zeros(len(e), dtype=np.int16) - 1
    for ri, (_, _width, rline) in enumerate(site.rivers):
        hit = shapely.intersects(seg, rline)
        crosses[hit & (crosses < 0)] = ri
    bridge_every = np.array([15 if w >= 60 else 5 for _, w, _ in site.rivers] or [5])
    is_crossing = crosses >= 0
    every = bridge_every[np.maximum(crosses, 0)]
    # Every farm lane crosses a small river on its own little bridge; streets in town share fewer, wider ones.
    bridged = is_crossing & ((line % every == 0) | (~core & (every == 5)))
    # Arterials every 6th line, collectors every 3rd: they carry the traffic and the big pipes.
    # Out among the fields only the arterials are more than lanes.
    road_class = np.where(line % 6 == 0, "municipal_1",
                          np.where((line % 3 == 0) & core, "municipal_2", "municipal_other"))
    d_hall = np.hypot(*((a + b) / 2 - t.hall).T)
    return _Streets(xy=xy, e=e, line=line, core=core, seg=seg, crosses=crosses, bridged=bridged,
                    keep_road=~is_crossing | bridged, keep_pipe=core & ~is_crossing, road_class=road_class,
                    d_hall=d_hall, rel=np.clip(d_hall / max(t.sewer_r, 1.0), 0, 3), near_hall=d_hall < 400)


def age_streets(rng, region: RegionInput, t: _Town, st: _Streets) -> tuple[np.ndarray, np.ndarray]:
    """Built fiscal years per edge, of the sewer and of the road: the centre first, denser towns earlier."""
    n_e = len(st.e)
    base = region.sewer_start + (1 - min(t.density / 8000, 1)) * 12
    sewer_fy = np.clip((base + st.rel * 22 + rng.normal(0, 3, n_e)).astype(int), base - 3, 2022).astype(int)
    road_fy = np.clip((1958 + st.rel * 18 + rng.normal(0, 8, n_e)).astype(int), 1950, 2020)
    return sewer_fy, road_fy


def lay_roads(site: _Site, t: _Town, st: _Streets, road_fy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Road segments on the kept edges. Returns per edge the road's key (-1: none) and width (NaN: none)."""
    rng = site.rng
    ri_ = np.flatnonzero(st.keep_road)
    m = len(ri_)
    rc = st.road_class[ri_]
    width = np.where(rc == "municipal_1", rng.uniform(7, 12, m),
                     np.where(rc == "municipal_2", rng.uniform(5, 8, m), rng.uniform(3.5, 6, m)))
    traffic = np.where(rc == "municipal_1", rng.integers(4000, 15000, m),
                       np.where(rc == "municipal_2", rng.integers(800, 5000, m), rng.integers(50, 900, m)))
    # Lanes out among the fields carry a few dozen vehicles a day: their bridges are the removal candidates.
    traffic = np.where((rc == "municipal_other") & ~st.core[ri_], traffic // 4, traffic)
    pave = np.where(st.core[ri_], rng.choice(["asphalt", "concrete", "block"], m, p=[0.94, 0.04, 0.02]),
                    rng.choice(["asphalt", "gravel", "unpaved"], m, p=[0.8, 0.12, 0.08]))
    road_keys = np.full(len(st.e), -1)
    road_keys[ri_] = site.acc.add("road_segment", {
        "owner": t.code, "source": "demo", "external_id": [f"R{t.code}-{k:06d}" for k in range(m)],
        "name": "", "geom": shapely.to_wkb(shapely.set_srid(site.frame.geom_to_ll(st.seg[ri_]), 6668), hex=True,
                                           include_srid=True),
        "built_fy": road_fy[ri_], "important": st.near_hall[ri_],
    }, {
        "road_class": rc, "route_name": street_route_names(t, st.line[ri_]),
        "is_emergency_route": (rc == "municipal_1") & (rng.random(m) < 0.35), "length_m": np.round(site.spacing, 1),
        "width_m": width.round(1), "pavement_type": pave, "traffic_volume": traffic,
    })
    road_width = np.full(len(st.e), np.nan)
    road_width[ri_] = width
    return road_keys, road_width


def street_route_names(t: _Town, lines: np.ndarray) -> list[str]:
    """The 路線名 of a town street by its grid line, as a 道路台帳 numbers them: 八潮市道12号線."""
    return [f"{t.name}道{ln % 997 + 1}号線" for ln in np.abs(lines)]


def bridge_crossings(site: _Site, t: _Town, st: _Streets, road_width: np.ndarray) -> None:
    """Bridges on the kept crossings, as wide as their road; the detour is to the next bridge on the river."""
    bi = np.flatnonzero(st.bridged)
    if not len(bi):
        return
    rng, rivers, crosses = site.rng, site.rivers, st.crosses
    river_of = [rivers[crosses[i]][2] for i in bi]
    pts = np.array([shapely.get_coordinates(shapely.intersection(st.seg[i], r))[0]
                    for i, r in zip(bi, river_of, strict=True)])
    widths = np.array([rivers[crosses[i]][1] for i in bi])
    length = widths * rng.uniform(1.05, 1.4, len(bi)) + rng.uniform(0, 8, len(bi))
    along = np.array([r.line_locate_point(shapely.Point(p)) for r, p in zip(river_of, pts, strict=True)])
    detour = np.full(len(bi), np.nan)
    for ri in np.unique(crosses[bi]):
        sel = np.flatnonzero(crosses[bi] == ri)
        order = sel[np.argsort(along[sel])]
        pos = along[order]
        gaps = np.diff(pos)
        nearest = np.minimum(np.append(gaps, np.inf), np.insert(gaps, 0, np.inf))
        detour[order] = np.where(np.isfinite(nearest), 2 * nearest + widths[order], np.nan)
    bfy = np.clip(rng.normal(1972, 10, len(bi)).astype(int), 1950, 2018)
    names = [f"{rivers[crosses[i]][0][:-1]}{k + 1}号橋" for k, i in enumerate(bi)]
    site.acc.add("bridge", {
        "owner": t.code, "source": "demo", "external_id": [f"BR0-{t.code}-{k + 1:05d}" for k in range(len(bi))],
        "name": names, "geom": _points_wkb(site.frame, pts), "built_fy": bfy, "important": st.near_hall[bi],
    }, {
        "length_m": length.round(1), "width_m": road_width[bi].round(1),
        "structure_type": np.where(length > 60, "steel", np.where(length > 20, "pc", "rc")),
        "span_count": (length // 30 + 1).astype(int), "crosses": "river",
        "crosses_name": [rivers[crosses[i]][0] for i in bi],
        # The bridge carries its street: the 路線 of the road segment on the same grid edge.
        "detour_length_m": np.round(detour, 0), "route_name": street_route_names(t, st.line[bi]),
    })


def lay_sewers(site: _Site, t: _Town, st: _Streets, sewer_fy: np.ndarray, road_keys: np.ndarray, trunk) -> None:
    """Manholes at the nodes the core's pipes use and pipes under the core's streets, flowing towards the
    outlet on the trunk (the hall without one); pipes grow and age towards the outlet."""
    pi = np.flatnonzero(st.keep_pipe)
    if not len(pi):
        return
    rng, acc, xy = site.rng, site.acc, st.xy
    outlet = t.hall if trunk is None else np.array(
        shapely.get_coordinates(trunk.interpolate(trunk.project(shapely.Point(t.hall))))[0])
    ends = st.e[pi]
    used, inv = np.unique(ends.ravel(), return_inverse=True)
    inv = inv.reshape(-1, 2)
    d_out = np.hypot(*(xy[used] - outlet).T)
    node_fy = np.full(len(used), 9999)
    np.minimum.at(node_fy, inv[:, 0], sewer_fy[pi])
    np.minimum.at(node_fy, inv[:, 1], sewer_fy[pi])
    mh_keys = acc.add("manhole", {
        "owner": t.code, "source": "demo", "external_id": [f"MH{t.code}-{k:06d}" for k in range(len(used))],
        "name": "", "geom": _points_wkb(site.frame, xy[used]), "built_fy": node_fy, "important": False,
    }, {
        "manhole_type": rng.choice(["1号", "2号", "3号"], len(used), p=[0.8, 0.15, 0.05]),
        "depth_m": (1.5 + 3.5 * (1 - d_out / d_out.max()) + rng.uniform(0, 1, len(used))).round(1),
        "cover_type": "鋳鉄製", "cover_installed_fy": node_fy, "drainage_system": "sanitary",
    })
    up_is_a = d_out[inv[:, 0]] >= d_out[inv[:, 1]]
    up = np.where(up_is_a, inv[:, 0], inv[:, 1])
    down = np.where(up_is_a, inv[:, 1], inv[:, 0])
    closeness = 1 - np.minimum(d_out[down] / max(d_out.max(), 1.0), 1)
    trunkish = st.road_class[pi] == "municipal_1"
    diam = np.where(trunkish, _std_diameter(300 + 700 * closeness ** 2), 200)
    diam = np.where(st.road_class[pi] == "municipal_2", np.maximum(diam, 250), diam)
    combined = (sewer_fy[pi] < 1975) & (st.rel[pi] < 0.5) & (t.density > 4000)
    diam = np.where(combined, _std_diameter(diam * 1.6), diam)
    pfy = sewer_fy[pi]
    mat = np.where(pfy < 1975, rng.choice(["clay", "rc"], len(pi), p=[0.4, 0.6]),
                   np.where(pfy < 1990, rng.choice(["rc", "pvc"], len(pi), p=[0.4, 0.6]),
                            rng.choice(["pvc", "pe"], len(pi), p=[0.9, 0.1])))
    mat = np.where(diam >= 700, "rc", mat)
    acc.add("sewer_pipe", {
        "owner": t.code, "source": "demo", "external_id": [f"P{t.code}-{k:06d}" for k in range(len(pi))],
        "name": "", "geom": shapely.to_wkb(shapely.set_srid(site.frame.geom_to_ll(st.seg[pi]), 6668), hex=True,
                                           include_srid=True),
        "built_fy": pfy, "important": st.near_hall[pi],
    }, {
        "drainage_system": np.where(combined, "combined", "sanitary"), "material": mat,
        "diameter_mm": diam.astype(int), "length_m": np.round(site.spacing, 1),
        "cover_depth_m": (1.2 + 3.0 * closeness + rng.uniform(0, 0.8, len(pi))).round(1),
        "up_key": mh_keys[up], "down_key": mh_keys[down], "is_trunk": trunkish, "is_regional": False,
        "is_corrosion_prone": trunkish & (closeness > 0.85), "road_key": road_keys[pi],
        "house_connections": house_connections(site.houses, st.rel[pi], np.full(len(pi), site.spacing), t.density),
    })


def place_septic_tanks(site: _Site, towns: list[_Town], n_assets: int, current_fy: int) -> None:
    """Septic tanks fill the rest exactly, shared among the towns by their unsewered area."""
    rng = site.rng
    n_septic = n_assets - site.acc.next_key
    if n_septic < 0:
        raise ValueError(f"{n_assets} assets are too few for this region's networks ({site.acc.next_key} needed)")
    unsewered_area = [max(t.area - t.sewer_zone.area, 0.0) for t in towns]
    share = np.array(unsewered_area) / max(sum(unsewered_area), 1.0)
    counts = np.floor(share * n_septic).astype(int)
    counts[np.argmax(share)] += n_septic - counts.sum()
    for t, cnt in zip(towns, counts, strict=True):
        if cnt == 0:
            continue
        pts = _septic_points(rng, t, int(cnt))
        d = np.hypot(*(pts - t.hall).T)
        fy = np.clip(rng.normal(1998, 12, cnt).astype(int), 1970, current_fy)
        single = (fy < 2001) & (rng.random(cnt) < 0.55)
        cap = rng.choice([5, 7, 10, 14, 21, 30, 50], cnt, p=[0.55, 0.3, 0.08, 0.03, 0.02, 0.01, 0.01])
        site.acc.add("septic_tank", {
            "owner": t.code, "source": "demo", "external_id": [f"J{t.code}-{k:06d}" for k in range(cnt)],
            "name": "", "geom": _points_wkb(site.frame, pts), "built_fy": fy, "important": cap >= 30,
        }, {
            "treatment": np.where(single, "single", "combined"), "capacity_persons": cap,
            "households_served": np.maximum(1, cap // 5 - 1 + (cap == 5)),
            "ownership": np.where(rng.random(cnt) < (0.25 if t.density < 500 else 0.05), "municipal", "private"),
            "in_sewer_planning_area": d <= t.sewer_r * 1.15,
            "treatment_method": _septic_methods(rng, single, cap),
        })


def trunk_roads(site: _Site, towns: list[_Town]) -> pd.DataFrame:
    """A 国道 bypass and a 県道 through each town outside its sewered core: roads of the state and the prefecture,
    so not in the members' registry, but part of the network a detour uses. Each follows a grid line that has no
    municipal street of its own (outside the core only every third line does), through the nodes where the
    town's lanes cross it, so they meet; it crosses the rivers on bridges of its own. No random draws: the
    registry's assets stay as the seed made them."""
    rows = []
    s = site.spacing
    for t in towns:
        n = _grid_size(t, s)
        k = int(t.sewer_r // s) + 1  # the first grid line clear of the sewered disc, then nearer ones
        order = [j for m in [*range(k, n + 1), *range(k - 1, 0, -1)] for j in (m, -m) if j % 3]
        along = np.arange(-n, n + 1) * s
        for horizontal, road_class, name in ((True, "national", f"国道 {t.name}バイパス"),
                                             (False, "prefectural", f"県道 {t.name}環状線")):
            for j in order:
                across = np.full(len(along), j * s)
                local = np.column_stack([along, across] if horizontal else [across, along])
                lines = _stretches(t, local @ _rot(t.angle).T + t.hall, np.arange(-n, n + 1) % 3 == 0)
                if lines:
                    rows += [{"geom": site.frame.geom_to_ll(line), "road_class": road_class, "name": name}
                             for line in lines]
                    break
    return pd.DataFrame(rows, columns=["geom", "road_class", "name"])


def _stretches(t: _Town, xy: np.ndarray, lane: np.ndarray) -> list:
    """The lines through consecutive grid nodes inside the town and outside its sewered disc that meet at least
    two of the lanes crossing them (`lane`: a node where one does)."""
    ok = shapely.contains_xy(t.poly, xy[:, 0], xy[:, 1]) & (np.hypot(*(xy - t.hall).T) > t.sewer_r)
    bounds = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(int), [0]])))
    return [shapely.LineString(xy[a:b]) for a, b in zip(bounds[::2], bounds[1::2], strict=True)
            if lane[a:b].sum() >= 2]


def collect(acc: _Assets) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The accumulated rows as one asset table (with the ledger's 和暦 text of each built year) and one
    detail table per kind."""
    assets = pd.concat(acc.core, ignore_index=True)
    assets["built_text"] = _built_text(assets["built_fy"].to_numpy())
    details = {k: pd.concat([d for d in v if len(d)], ignore_index=True) for k, v in acc.details.items()}
    return assets, details


def _septic_methods(rng, single: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """処理方式 as ledgers write them (so the 施行規則6条 table has work to do): old 単独 tanks 全ばっ気 or 分離接触ばっ気,
    合併 household tanks 嫌気ろ床/脱窒ろ床接触ばっ気, larger ones 接触ばっ気 or 回転板接触, and a few left blank (unknown:
    the catalogue's conservative default interval)."""
    n = len(single)
    u = rng.random(n)
    small = np.where(u < 0.55, "嫌気ろ床接触ばっ気", np.where(u < 0.9, "脱窒ろ床接触ばっ気", ""))
    large = np.where(u < 0.6, "接触ばっ気", "回転板接触")
    old = np.where(u < 0.4, "全ばっ気", "分離接触ばっ気")
    return np.where(single, old, np.where(cap > 20, large, small))


def _septic_points(rng, t: _Town, cnt: int) -> np.ndarray:
    """Tanks cluster in hamlets (集落) outside the sewered zone; a few sit just inside its fringe."""
    minx, miny, maxx, maxy = t.poly.bounds
    n_hamlets = max(3, cnt // 12)
    centers = []
    while sum(len(c) for c in centers) < n_hamlets:
        cand = np.column_stack([rng.uniform(minx, maxx, n_hamlets * 3), rng.uniform(miny, maxy, n_hamlets * 3)])
        ok = shapely.contains_xy(t.poly, cand[:, 0], cand[:, 1]) & (np.hypot(*(cand - t.hall).T) > t.sewer_r)
        if not ok.any() and len(centers) == 0:
            ok = shapely.contains_xy(t.poly, cand[:, 0], cand[:, 1])
        centers.append(cand[ok])
    centers = np.concatenate(centers)[:n_hamlets]
    out = []
    have = 0
    while have < cnt:
        need = cnt - have
        c = centers[rng.integers(0, len(centers), need * 2)]
        p = c + rng.normal(0, 70, (need * 2, 2))
        ok = shapely.contains_xy(t.poly, p[:, 0], p[:, 1])
        p = p[ok][:need]
        out.append(p)
        have += len(p)
    return np.concatenate(out)
