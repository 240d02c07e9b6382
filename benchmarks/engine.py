"""Engine benchmark step, run in its own process so its peak memory is its own (wait4 reports it)."""

import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import connection  # noqa: E402

from assets.models import Region  # noqa: E402
from clusters.data import ASSETS, _copy_frame  # noqa: E402
from clusters.engine.params import Params  # noqa: E402
from clusters.services import run_create, run_execute  # noqa: E402


def floor(codes: list[str]) -> float:
    """Plain SQL reading the same rows plus one clustering query over them: what any engine must pay."""
    p = Params()
    t0 = time.perf_counter()
    _copy_frame(ASSETS, codes)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(DISTINCT c) FROM (SELECT ST_ClusterDBSCAN(ST_Transform(geom, %s), eps := %s, minpoints := 1)"
            " OVER (PARTITION BY kind) AS c FROM assets_asset WHERE owner_id = ANY(%s)) t",
            [p.metric_srid, p.cluster_distance_m, codes])
    return time.perf_counter() - t0


def peak_mb() -> float:
    """This process's own high-water mark (VmHWM); ru_maxrss would include the forking parent's pages."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    region = Region.objects.get(slug=sys.argv[1])
    what = sys.argv[2]
    codes = list(region.members.values_list("code", flat=True))
    if what == "floor":
        print(json.dumps({"seconds": floor(codes), "peak_mb": peak_mb()}))
        return
    run = run_execute(run_create(principal=None, region=region).pk)
    print(json.dumps({"seconds": run.duration_s, "clusters": run.summary["clusters"],
                      "cross_municipal": run.summary["cross_municipal_clusters"], "timings": run.summary["timings"],
                      "peak_mb": peak_mb()}))


if __name__ == "__main__":
    main()
