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


def plan_floor(region: Region) -> float:
    """The same scenarios planned greedily from the stored outlooks, no optimizer and no PDF."""
    import numpy as np

    from clusters.models import EngineRun
    from reports.planning.inputs import outlooks_for
    from reports.planning.optimizer import greedy
    from reports.planning.scenarios import STRATEGIES, default_budget, problem_for

    t0 = time.perf_counter()
    run = EngineRun.objects.filter(region=region, status="done").latest("finished_at")
    o = outlooks_for(run)
    budget = default_budget(o, 10)
    for strategy in STRATEGIES:
        for level in (0.5, 1.0, 1.5):
            greedy(problem_for(o, strategy, 10, np.asarray(budget) * level))
    return time.perf_counter() - t0


def plan(region: Region) -> dict:
    from clusters.models import EngineRun
    from reports.services import plan_create, plan_execute

    run = EngineRun.objects.filter(region=region, status="done").latest("finished_at")
    p = plan_execute(plan_create(principal=None, run=run).pk)
    return {"seconds": p.duration_s, "timings": p.result["timings"], "clusters": p.result["clusters"],
            "solver": [{k: s[k] for k in ("strategy", "level", "solver_status", "solver_gap", "solver_seconds",
                                          "objective", "greedy_objective")} for s in p.result["scenarios"]],
            "pdf_bytes": p.pdf.size}


def main() -> None:
    region = Region.objects.get(slug=sys.argv[1])
    what = sys.argv[2]
    codes = list(region.members.values_list("code", flat=True))
    if what == "floor":
        print(json.dumps({"seconds": floor(codes), "peak_mb": peak_mb()}))
        return
    if what == "plan_floor":
        print(json.dumps({"seconds": plan_floor(region), "peak_mb": peak_mb()}))
        return
    if what == "plan":
        print(json.dumps({**plan(region), "peak_mb": peak_mb()}))
        return
    run = run_execute(run_create(principal=None, region=region).pk)
    print(json.dumps({"seconds": run.duration_s, "clusters": run.summary["clusters"],
                      "cross_municipal": run.summary["cross_municipal_clusters"], "timings": run.summary["timings"],
                      "peak_mb": peak_mb()}))


if __name__ == "__main__":
    main()
