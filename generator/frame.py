"""A local metric frame for synthesis: equirectangular around the region's centre.

Over a region of a few tens of km the scale error is far below 0.1 %, which is plenty for synthetic
data, and both directions are plain numpy (no per-point PROJ call for a million assets)."""

from dataclasses import dataclass

import numpy as np
import shapely


@dataclass(frozen=True)
class LocalFrame:
    lon0: float
    lat0: float

    @property
    def kx(self) -> float:  # metres per degree of longitude
        phi = np.radians(self.lat0)
        return 111412.84 * np.cos(phi) - 93.5 * np.cos(3 * phi)

    @property
    def ky(self) -> float:  # metres per degree of latitude
        phi = np.radians(self.lat0)
        return 111132.92 - 559.82 * np.cos(2 * phi) + 1.175 * np.cos(4 * phi)

    def to_m(self, lon, lat):
        return (np.asarray(lon) - self.lon0) * self.kx, (np.asarray(lat) - self.lat0) * self.ky

    def to_ll(self, x, y):
        return np.asarray(x) / self.kx + self.lon0, np.asarray(y) / self.ky + self.lat0

    def geom_to_m(self, geom):
        return shapely.transform(geom, lambda c: np.column_stack(self.to_m(c[:, 0], c[:, 1])))

    def geom_to_ll(self, geom):
        return shapely.transform(geom, lambda c: np.column_stack(self.to_ll(c[:, 0], c[:, 1])))
