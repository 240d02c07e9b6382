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

from assets.models import Region  # noqa: E402
from generator.loader import clear_region  # noqa: E402

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


def in_child(*args: str) -> tuple[dict, float]:
    """Run a benchmark step in a fresh process; return its JSON line and its own peak memory (MB)."""
    import subprocess

    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.engine", *args], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    if proc.wait() != 0:
        raise RuntimeError(f"benchmark step {args} failed")
    data = json.loads(out.strip().splitlines()[-1])
    return data, data["peak_mb"]


def engine_at(n: int, results: dict, generate: bool = True) -> None:
    if generate:
        call_command("generate_region", region=REGION, assets=n, seed=1, force=True, verbosity=0)
    floor_n, _ = in_child(REGION, "floor")
    run, peak = in_child(REGION, "run")
    results[f"engine_{n}"] = {"floor_s": round(floor_n["seconds"], 1), "run_s": run["seconds"],
                              "run_over_floor": round(run["seconds"] / floor_n["seconds"], 2),
                              "peak_rss_mb": round(peak), "clusters": run["clusters"],
                              "cross_municipal": run["cross_municipal"], "steps_s": run["timings"]}
    r = results[f"engine_{n}"]
    print(f"engine at {n:>9,} assets: {r['run_s']:.1f} s = {r['run_over_floor']:.2f} x the floor ({r['floor_s']:.1f} s: "
          f"reading the same rows + one clustering query); peak memory {r['peak_rss_mb']} MB; "
          f"{r['clusters']} clusters, {r['cross_municipal']} cross-municipal")


def plan_at(n: int, results: dict) -> None:
    """The multi-year plan (six scenarios, optimizer, PDF) from the run just made, beside the same scenarios
    planned greedily without a PDF."""
    floor_p, _ = in_child(REGION, "plan_floor")
    p, peak = in_child(REGION, "plan")
    results[f"plan_{n}"] = {"greedy_floor_s": round(floor_p["seconds"], 2), "plan_s": p["seconds"],
                            "plan_over_floor": round(p["seconds"] / max(floor_p["seconds"], 1e-3), 1),
                            "peak_rss_mb": round(peak), "clusters": p["clusters"], "steps_s": p["timings"],
                            "pdf_bytes": p["pdf_bytes"], "solver": p["solver"]}
    r = results[f"plan_{n}"]
    print(f"plan at {n:>9,} assets: {r['plan_s']:.1f} s for {r['clusters']:,} clusters (scenarios "
          f"{r['steps_s'].get('plan', 0):.1f} s, PDF {r['steps_s'].get('pdf', 0):.1f} s) = {r['plan_over_floor']:.1f} x "
          f"greedy-only planning ({r['greedy_floor_s']:.2f} s); peak memory {r['peak_rss_mb']} MB")


def main() -> int:
    call_command("load_reference_data", verbosity=0)
    region = Region.objects.get(slug=REGION)
    with transaction.atomic():
        clear_region(list(region.members.values_list("code", flat=True)))
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
    if os.environ.get("BENCH_API", "1") == "1":
        # The API under 20 concurrent clients, on the region just generated (before the engine regenerates smaller
        # ones), in a process of its own (benchmarks/api_load.py starts gunicorn).
        import subprocess

        proc = subprocess.run([sys.executable, "-m", "benchmarks.api_load"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"API load benchmark failed: {proc.stderr[-2000:]}")
        lines = proc.stdout.strip().splitlines()
        print("\n".join(lines[:-1]))
        result["api_load"] = json.loads(lines[-1])
    if os.environ.get("BENCH_ENGINE", "1") == "1":
        # The 1,000,000-asset region generated above is measured first, then smaller ones.
        engine_at(N, result, generate=False)
        plan_at(N, result)
        for n in (100_000, 10_000):
            engine_at(n, result)
    if os.environ.get("BENCH_LEDGER", "1") == "1":
        import subprocess

        proc = subprocess.run([sys.executable, "-m", "benchmarks.ledger", "100000"], capture_output=True, text=True,
                              check=True)
        r = result["ledger_import"] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"ledger import {r['rows']:,} rows: {r['import_s']:.1f} s = {r['rows_per_s']:,} rows/s "
              f"({r['import_over_raw_copy']:.0f} x a raw COPY of the same file, {r['raw_copy_s']:.2f} s); the same "
              f"file again (nothing changes) {r['reimport_unchanged_s']:.1f} s; django-import-export "
              f"{r['import_export_rows_per_s']:,} rows/s on {r['import_export_rows']:,} rows; change feed "
              f"{r['feed_changes']:,} changes in {r['feed_pages']} pages, {r['feed_s']:.1f} s")
    out = Path("out")
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=2))
    print(f"\ngenerate_region {N:,} assets: {gen:.1f} s = {gen / base:.2f} x the baseline "
          f"(COPY of {N:,} bare points + GiST index: {base:.1f} s); peak memory {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
