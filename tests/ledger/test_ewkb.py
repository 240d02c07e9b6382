"""The ledger import writes the hex EWKB of points and two-point pipes itself, with numpy (ledger.importer._hex):
byte for byte what shapely writes with its SRID, and nothing where a coordinate is missing."""

import numpy as np
import shapely

from ledger.importer import _hex


def _shapely(geoms, srid):
    return shapely.to_wkb(shapely.set_srid(geoms, srid), hex=True, include_srid=True).tolist()


def test_points_are_the_bytes_shapely_writes():
    rng = np.random.default_rng(3)
    coords = np.column_stack([rng.uniform(122, 154, 50), rng.uniform(20, 46, 50)])
    coords[[0, -1]] = [[139.8390123, 35.8220456], [-0.0, 1e-300]]
    assert _hex(coords, 6668) == _shapely(shapely.points(coords), 6668)


def test_two_point_lines_in_a_plane_zone_are_the_bytes_shapely_writes():
    rng = np.random.default_rng(4)
    coords = rng.uniform(-50_000, 50_000, (40, 2, 2))
    assert _hex(coords, 6677) == _shapely(shapely.linestrings(coords), 6677)


def test_a_missing_coordinate_gives_no_geometry():
    coords = np.array([[139.8, 35.8], [np.nan, 35.8], [139.8, np.inf]])
    out = _hex(coords, 6668)
    assert out[1] is None and out[2] is None and out[0] == _shapely(shapely.points(coords[:1]), 6668)[0]
