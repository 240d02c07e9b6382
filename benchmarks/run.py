"""`make bench`: timings reported as ratios to a baseline measured in the same run (machines are noisy).

Baseline: COPY of the same number of bare rows (id, point, text) into a temporary table plus a GiST index —
the floor any loader of that many geometries pays on this machine today."""

import io
import json
import os
import resource
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from assets.generator.loader import delete_generated  # noqa: E402
from assets.models import Region  # noqa: E402

N = int(os.environ.get("BENCH_ASSETS", "1000000"))
REGION = os.environ.get("BENCH_REGION", "nakagawa")


def baseline_copy(n: int) -> float:
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(139.7, 139.9, n), rng.uniform(35.8, 36.0, n)
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE _bench (id bigint, geom geometry(Point, 6668), name text) ON COMMIT DROP")
        with cur.cursor.copy("COPY _bench (id, geom, name) FROM STDIN") as cp:
            for start in range(0, n, 200_000):
                buf = io.StringIO()
                for i in range(start, min(n, start + 200_000)):
                    buf.write(f"{i}\tSRID=6668;POINT({lon[i]:.7f} {lat[i]:.7f})\tasset {i}\n")
                cp.write(buf.getvalue())
        cur.execute("CREATE INDEX ON _bench USING gist (geom)")
    return time.perf_counter() - t0


def main() -> int:
    call_command("load_reference_data", verbosity=0)
    region = Region.objects.get(slug=REGION)
    with transaction.atomic():
        delete_generated(list(region.members.values_list("code", flat=True)))
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE assets_asset")
    base = baseline_copy(N)
    t0 = time.perf_counter()
    call_command("generate_region", region=REGION, assets=N, seed=1, force=True, verbosity=2)
    gen = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "assets": N,
        "baseline_copy_s": round(base, 1),
        "generate_region_s": round(gen, 1),
        "generate_over_baseline": round(gen / base, 2),
        "peak_rss_mb": round(peak_mb),
    }
    out = Path("out")
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=2))
    print(f"\ngenerate_region {N:,} assets: {gen:.1f} s = {gen / base:.2f} x the baseline "
          f"(COPY of {N:,} bare points + GiST index: {base:.1f} s); peak memory {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
