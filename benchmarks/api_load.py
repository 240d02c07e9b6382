"""API load test (`make bench`, or `python -m benchmarks.api_load` against an existing region): gunicorn as
`make demo` runs it (config/gunicorn.py) on 127.0.0.1 only, CLIENTS concurrent clients (threads, one keep-alive
connection each), a bounded number of requests per scenario and a time cap. Each scenario is reported as p50/p95
and errors beside the same data queries (the SQL Django generates for the endpoint, taken from its queryset) run
directly through psycopg by as many concurrent connections, in the same run.

Scenarios: one asset by global id; a bbox page of ~1,000 features (limit=1000); OGC API items and a vector tile
when those URLs answer in this build (skipped with a note otherwise). Targets (issue 17): p95 ≤ 50 ms for one
asset and ≤ 150 ms for a 1,000-feature page at 20 clients, no errors."""

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from assets import selectors  # noqa: E402
from assets.geometry import parse_bbox  # noqa: E402
from assets.models import ApiToken, Asset, Municipality, Region  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "20"))
PER_CLIENT = int(os.environ.get("BENCH_REQUESTS_PER_CLIENT", "25"))
TIME_CAP_S = float(os.environ.get("BENCH_SCENARIO_SECONDS", "90"))
PAGE = 1000
REGION = os.environ.get("BENCH_REGION", "nakagawa")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def _run_clients(work) -> dict:
    """CLIENTS threads, each calling work(client_no, i) PER_CLIENT times (or until the time cap); work returns
    True for a good answer. Latencies in ms."""
    times: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + TIME_CAP_S

    def client(n: int) -> None:
        state: dict = {}
        for i in range(PER_CLIENT):
            if time.monotonic() > deadline:
                break
            t0 = time.perf_counter()
            try:
                ok = work(n, i, state)
            except Exception as exc:  # a failed request is counted, not fatal
                ok = f"{type(exc).__name__}: {exc}"
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                if ok is True:
                    times.append(ms)
                else:
                    errors.append(str(ok))
        if "close" in state:
            state["close"]()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {"requests": len(times) + len(errors), "errors": len(errors), "error_samples": errors[:3],
            "p50_ms": _pct(times, 50), "p95_ms": _pct(times, 95), "max_ms": _pct(times, 100),
            "per_s": round((len(times) + len(errors)) / wall, 1)}


def _http_work(port: int, key: str, paths: list[str], check):
    def work(n: int, i: int, state: dict):
        conn = state.get("conn")
        if conn is None:
            conn = state["conn"] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            state["close"] = conn.close
        path = paths[(n * PER_CLIENT + i) % len(paths)]
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {key}", "Accept": "application/json"})
            resp = conn.getresponse()
            body = resp.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            state.pop("conn")
            raise
        if resp.status != 200:
            return f"HTTP {resp.status} {path}: {body[:120]!r}"
        return check(body)
    return work


def _sql_work(dsn: str, statements: list[list[tuple[str, list]]]):
    """Each request: the endpoint's data queries, in order, on one psycopg connection per client."""
    def work(n: int, i: int, state: dict):
        conn = state.get("conn")
        if conn is None:
            conn = state["conn"] = psycopg.connect(dsn, autocommit=True)
            state["close"] = conn.close
        with conn.cursor() as cur:
            for sql, params in statements[(n * PER_CLIENT + i) % len(statements)]:
                cur.execute(sql, params)
                cur.fetchall()
        return True
    return work


def _sql_of(qs) -> tuple[str, list]:
    """The queryset's SQL with its parameters inlined (geometries included), as the server receives it."""
    sql, params = qs.query.get_compiler(using="default").as_sql()
    return connection.ops.compose_sql(sql, params), []


def _bbox_around(owner: str) -> tuple[float, float, float, float]:
    """A square around the middle of the municipality's assets that holds about PAGE of them."""
    with connection.cursor() as cur:
        cur.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM assets_asset WHERE owner_id = %s "
                    "ORDER BY random() LIMIT 200000) s", [owner])
        xy = np.array(cur.fetchall(), dtype=float)
    cx, cy = np.median(xy[:, 0]), np.median(xy[:, 1])
    d = np.sort(np.maximum(np.abs(xy[:, 0] - cx), np.abs(xy[:, 1] - cy)))
    r = float(d[min(len(d) - 1, int(PAGE * 1.05))])
    return cx - r, cy - r, cx + r, cy + r


def _start_gunicorn(port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_ACCESS_LOG": "", "REQUEST_LOG": "0"}
    out = log.open("w")
    proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"], cwd=ROOT,
                            env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request("GET", "/healthz")
            c.getresponse().read()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start (see {log})") from None
            time.sleep(0.3)


def _get(port: int, key: str, path: str) -> tuple[int, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", path, headers={"Authorization": f"Bearer {key}"})
    r = c.getresponse()
    return r.status, r.read()


def main() -> dict:
    region = Region.objects.get(slug=REGION)
    counts = (Asset.objects.filter(owner__in=region.members.all()).values_list("owner_id")
              .order_by().annotate(n=Count("id")))
    owner, n_owner = max(counts, key=lambda r: r[1])
    total = Asset.objects.filter(owner__in=region.members.all()).count()
    token, key = ApiToken.issue(name="bench", municipality=Municipality.objects.get(pk=owner), source="bench",
                                can_write=False)
    with connection.cursor() as cur:
        cur.execute("SELECT global_id FROM assets_asset WHERE owner_id = %s ORDER BY random() LIMIT 500", [owner])
        gids = [r[0] for r in cur.fetchall()]
    x0, y0, x1, y1 = _bbox_around(owner)
    bbox = f"{x0:.6f},{y0:.6f},{x1:.6f},{y1:.6f}"
    dsn = connection.get_connection_params()
    dsn = " ".join(f"{k}={v}" for k, v in dsn.items() if k in {"dbname", "host", "port", "user", "password"} and v)

    # The data queries each endpoint makes, as Django generates them (token scope included).
    single_sql = [[_sql_of(selectors.asset_list(principal=token).filter(global_id=g))] for g in gids]
    # The list endpoint pages with a count and a LIMIT query, ordered as Django orders it.
    page_qs = selectors.asset_list(principal=token, bbox=parse_bbox(bbox))
    count_sql, count_params = _sql_of(page_qs.order_by())
    page_sql = [[(f"SELECT count(*) FROM ({count_sql}) c", count_params), _sql_of(page_qs[:PAGE])]]

    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    port = _free_port()
    proc = _start_gunicorn(port, out / "bench-gunicorn.log")
    result = {"assets": total, "municipality": owner, "municipality_assets": n_owner, "clients": CLIENTS,
              "requests_per_client": PER_CLIENT, "bbox": bbox, "scenarios": {}, "skipped": {}}
    try:
        status, body = _get(port, key, f"/api/v1/assets?bbox={bbox}&limit={PAGE}")
        features = len(json.loads(body)["items"]) if status == 200 else 0
        result["bbox_features"] = features
        # Warm every worker (imports, pools, caches) before measuring.
        for _ in range(3):
            _run_clients(_http_work(port, key, [f"/api/v1/assets/{g}" for g in gids[:40]], lambda b: True))

        def has_items(b: bytes):
            return True if len(json.loads(b)["items"]) == features else f"page of {len(json.loads(b)['items'])}"

        scenarios = {
            "single_asset": (_http_work(port, key, [f"/api/v1/assets/{g}" for g in gids],
                                        lambda b: True if b"global_id" in b else "no asset"), _sql_work(dsn, single_sql)),
            "bbox_page_1000": (_http_work(port, key, [f"/api/v1/assets?bbox={bbox}&limit={PAGE}"], has_items),
                               _sql_work(dsn, page_sql)),
        }
        # OGC API Features and vector tiles, when this build has them (other branches add them).
        status, body = _get(port, key, "/ogc/collections")
        if status == 200:
            ids = [c.get("id") for c in json.loads(body).get("collections", [])]
            coll = next((c for c in ids if c and "asset" in c), ids[0] if ids else None)
            if coll:
                path = f"/ogc/collections/{coll}/items?bbox={bbox}&limit=100"
                if _get(port, key, path)[0] == 200:
                    scenarios["ogc_items_100"] = (_http_work(port, key, [path], lambda b: True), None)
        if "ogc_items_100" not in scenarios:
            result["skipped"]["ogc_items_100"] = f"/ogc/collections answered {status}: no OGC API in this build"
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        z = 14
        tx = int((cx + 180) / 360 * 2 ** z)
        ty = int((1 - np.log(np.tan(np.radians(cy)) + 1 / np.cos(np.radians(cy))) / np.pi) / 2 * 2 ** z)
        tile_tpl = os.environ.get("BENCH_TILE_URL", "/tiles/assets/{z}/{x}/{y}.pbf")
        tile = tile_tpl.format(z=z, x=tx, y=ty)
        tile_status = _get(port, key, tile)[0]
        if tile_status == 200:
            scenarios["vector_tile"] = (_http_work(port, key, [tile], lambda b: True), None)
        else:
            result["skipped"]["vector_tile"] = f"{tile} answered {tile_status}: no vector tiles in this build " \
                                               "(BENCH_TILE_URL sets the template)"

        for name, (api_work, sql_work) in scenarios.items():
            api = _run_clients(api_work)
            sql = _run_clients(sql_work) if sql_work else None
            r = result["scenarios"][name] = {"api": api, "sql": sql}
            if sql and sql["p50_ms"] and api["p50_ms"]:
                r["p50_over_sql"] = round(api["p50_ms"] / sql["p50_ms"], 1)
                r["p95_over_sql"] = round(api["p95_ms"] / sql["p95_ms"], 1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        token.delete()
    targets = {"single_asset": 50, "bbox_page_1000": 150}
    for name, limit in targets.items():
        r = result["scenarios"].get(name)
        if r:
            r["target_p95_ms"] = limit
            r["meets_target"] = bool(r["api"]["p95_ms"] is not None and r["api"]["p95_ms"] <= limit
                                     and r["api"]["errors"] == 0)
    return result


def report(result: dict) -> None:
    print(f"API under load: {result['clients']} clients, gunicorn on 127.0.0.1, region of {result['assets']:,} assets "
          f"(token of {result['municipality']}, {result['municipality_assets']:,} assets; bbox page "
          f"{result.get('bbox_features')} features)")
    for name, r in result["scenarios"].items():
        a, s = r["api"], r["sql"]
        line = (f"  {name:<15} API p50 {a['p50_ms']} ms, p95 {a['p95_ms']} ms, {a['errors']} errors of "
                f"{a['requests']} ({a['per_s']}/s)")
        if s:
            line += (f"; direct SQL p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms -> API/SQL p50 x{r.get('p50_over_sql')}, "
                     f"p95 x{r.get('p95_over_sql')}")
        if "target_p95_ms" in r:
            line += f"; target p95 <= {r['target_p95_ms']} ms: {'met' if r['meets_target'] else 'NOT met'}"
        print(line)
    for name, why in result["skipped"].items():
        print(f"  {name:<15} skipped: {why}")


if __name__ == "__main__":
    res = main()
    report(res)
    print(json.dumps(res))
    sys.exit(0)
