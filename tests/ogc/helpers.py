"""Registries big enough to page through, made set-based (bulk_create), as the generator does."""

from django.contrib.gis.geos import LineString

from assets.models import Asset, SewerPipe


def bulk_pipes(owner, n: int, *, lon0=139.80, lat0=35.80, start=500_000) -> list[int]:
    """`n` sewer pipes of `owner` on a grid of short lines; returns their record numbers."""
    assets = [Asset(global_id=f"{owner.code}-SP-{start + i:06d}", owner=owner, kind="sewer_pipe", source="daicho",
                    external_id=f"B-{start + i}", name=f"管渠{i}", built_fiscal_year=1970 + i % 40,
                    geom=LineString((lon0 + (i % 50) * 0.001, lat0 + (i // 50) * 0.001),
                                    (lon0 + (i % 50) * 0.001 + 0.0005, lat0 + (i // 50) * 0.001), srid=6668))
              for i in range(n)]
    Asset.objects.bulk_create(assets, batch_size=2000)
    SewerPipe.objects.bulk_create([
        SewerPipe(asset=a, drainage_system="sanitary", material="rc" if i % 2 else "pvc", diameter_mm=200 + 50 * (i % 4),
                  length_m=50.0) for i, a in enumerate(assets)], batch_size=2000)
    return [a.pk for a in assets]
