"""API load test (`make bench`, or `python -m benchmarks.api_load` against an existing region): gunicorn as
`make demo` runs it (config/gunicorn.py) on 127.0.0.1 only, CLIENTS concurrent clients (threads, one keep-alive
connection each), a bounded number of requests per scenario and a time cap. Each scenario is reported as p50/p95
and errors beside the same queries run directly through psycopg by as many concurrent connections, in the same
run: every query the endpoint makes for that request (token or session and scope included), captured from the
endpoint itself in this process (Django's test client, CaptureQueriesContext) and replayed as sent.

Scenarios, each rotating over many URLs (never one repeated URL the database and caches learn by heart):
- single_asset: one asset by global id (500 random assets of the token's municipality);
- bbox_page_1000: /api/v1/assets with limit=1000 over BBOXES squares around random assets, each holding ~1,000;
- geojson_page_1000: /api/v1/assets.geojson, the same squares (what the map and GIS tools call);
- ogc_items_1000: OGC API items of the municipality's most numerous kind (one collection per kind), over
  squares each holding ~1,000 of that kind;
- tile_z12, tile_z16: the vector tile under each square's centre (a session: tiles are for signed-in people).
  Tiles are cached by data version (web/tiles.py), in a cache directory new for this run: the first request of
  each tile renders it, the rest are cache hits; the SQL column is the uncached render's queries.
Targets (issue 17): p95 ≤ 50 ms for one asset and ≤ 150 ms for a 1,000-feature page or tile at 20 clients,
no errors. The load average (os.getloadavg) is recorded around each scenario: the machine may be shared."""

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("REQUEST_LOG", "0")  # the in-process captures below would log a line per request
django.setup()

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from assets.models import ApiToken, Asset, Membership, Municipality, Region, Role  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "20"))
PER_CLIENT = int(os.environ.get("BENCH_REQUESTS_PER_CLIENT", "25"))
TIME_CAP_S = float(os.environ.get("BENCH_SCENARIO_SECONDS", "90"))
PAGE = 1000
BBOXES = int(os.environ.get("BENCH_BBOXES", "20"))
REGION = os.environ.get("BENCH_REGION", "nakagawa")
TARGETS = {"single_asset": 50, "bbox_page_1000": 150, "geojson_page_1000": 150, "ogc_items_1000": 150,
           "tile_z12": 150, "tile_z16": 150}
# What counts one item in each answer (bytes.count is cheap; parsing 300 kB of JSON in a client thread would
# hold the GIL the other clients need and inflate every latency).
MARKERS = {"single_asset": b'"global_id":', "bbox_page_1000": b'"global_id":',
           "geojson_page_1000": b'"type":"Feature"', "ogc_items_1000": b'"type":"Feature"'}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def _run_clients(work) -> dict:
    """CLIENTS threads, each calling work(client_no, i, state) PER_CLIENT times (or until the time cap); work
    returns True for a good answer. Latencies in ms."""
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

    load_before = _load()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {"requests": len(times) + len(errors), "errors": len(errors), "error_samples": errors[:3],
            "p50_ms": _pct(times, 50), "p95_ms": _pct(times, 95), "max_ms": _pct(times, 100),
            "per_s": round((len(times) + len(errors)) / wall, 1), "load_before": load_before, "load_after": _load()}


def _http_work(port: int, headers: dict, paths: list[str], expect: list[int | None], marker: bytes | None):
    """GET the paths in turn; an answer is good when it is 200 and (with a marker) holds as many items as the
    same request gave in this process."""
    def work(n: int, i: int, state: dict):
        conn = state.get("conn")
        if conn is None:
            conn = state["conn"] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            state["close"] = conn.close
        k = (n * PER_CLIENT + i) % len(paths)
        try:
            conn.request("GET", paths[k], headers=headers)
            resp = conn.getresponse()
            body = resp.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            state.pop("conn")
            raise
        if resp.status != 200:
            return f"HTTP {resp.status} {paths[k]}: {body[:120]!r}"
        if marker is not None and body.count(marker) != expect[k]:
            return f"{paths[k]}: {body.count(marker)} items, {expect[k]} expected"
        return True
    return work


def _sql_work(dsn: str, statements: list[list[str]]):
    """Each request: the endpoint's queries as it sent them, in order, on one psycopg connection per client."""
    def work(n: int, i: int, state: dict):
        conn = state.get("conn")
        if conn is None:
            conn = state["conn"] = psycopg.connect(dsn, autocommit=True)
            state["close"] = conn.close
        with conn.cursor() as cur:
            for sql in statements[(n * PER_CLIENT + i) % len(statements)]:
                cur.execute(sql)  # no parameters: the text is the one the server received
                if cur.description:
                    cur.fetchall()
        return True
    return work


def _capture(client: Client, headers: dict, path: str, marker: bytes | None) -> tuple[list[str], int | None]:
    """The queries one request makes (as the server received them) and how many items it answered."""
    client.get(path, **headers)  # first: a token's first use, translations, content types
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(path, **headers)
    if r.status_code != 200:
        raise RuntimeError(f"{path} answered {r.status_code} in process: {r.content[:200]!r}")
    # Transaction brackets are not queries; what runs inside them runs alike without.
    queries = [q["sql"] for q in ctx.captured_queries if q["sql"] not in ("BEGIN", "COMMIT", "ROLLBACK")]
    return queries, (r.content.count(marker) if marker else None)


def _bboxes(owner: str, rng, kind: str | None = None) -> list[tuple[float, float, float, float]]:
    """BBOXES squares, each around a random asset of the municipality (of `kind`), holding about PAGE assets'
    (of that kind) centres."""
    with connection.cursor() as cur:
        cur.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(Box2D(geom)) c FROM assets_asset "
                    "WHERE owner_id = %s AND (%s::text IS NULL OR kind = %s)) s", [owner, kind, kind])
        xy = np.array(cur.fetchall(), dtype=float)
    out = []
    for k in rng.choice(len(xy), size=min(BBOXES, len(xy)), replace=False):
        cx, cy = xy[k]
        d = np.maximum(np.abs(xy[:, 0] - cx), np.abs(xy[:, 1] - cy))
        # Lines reach into the square from outside: a little under PAGE centres makes about PAGE features.
        r = float(np.partition(d, int(PAGE * 0.9))[int(PAGE * 0.9)])
        out.append((cx - r, cy - r, cx + r, cy + r))
    return out


def _tile(lon: float, lat: float, z: int) -> str:
    x = int((lon + 180) / 360 * 2 ** z)
    y = int((1 - np.log(np.tan(np.radians(lat)) + 1 / np.cos(np.radians(lat))) / np.pi) / 2 * 2 ** z)
    return f"/tiles/assets/{z}/{x}/{y}.pbf"


def _start_gunicorn(port: int, log: Path, cache_dir: str) -> subprocess.Popen:
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_ACCESS_LOG": "", "REQUEST_LOG": "0",
           "CACHE_DIR": cache_dir}
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


def _spread(values: list) -> dict:
    v = [x for x in values if x is not None]
    return {"min": min(v), "median": int(np.median(v)), "max": max(v)} if v else {}


def main() -> dict:
    rng = np.random.default_rng(int(os.environ.get("BENCH_SEED", "1")))
    region = Region.objects.get(slug=REGION)
    counts = (Asset.objects.filter(owner__in=region.members.all()).values_list("owner_id")
              .order_by().annotate(n=Count("id")))
    owner, n_owner = max(counts, key=lambda r: r[1])
    total = Asset.objects.filter(owner__in=region.members.all()).count()
    kind = (Asset.objects.filter(owner_id=owner).values_list("kind").order_by().annotate(n=Count("id"))
            .order_by("-n")[0][0])
    token, key = ApiToken.issue(name="bench", municipality=Municipality.objects.get(pk=owner), source="bench",
                                can_write=False)
    user = get_user_model().objects.create_user(f"bench-{token.prefix}", password=None)
    Membership.objects.create(user=user, role=Role.ENGINEER, municipality_id=owner)
    session = Client()
    session.force_login(user)
    bearer = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    cookie = {"Cookie": f"sessionid={session.cookies['sessionid'].value}"}
    with connection.cursor() as cur:
        cur.execute("SELECT global_id FROM assets_asset WHERE owner_id = %s ORDER BY random() LIMIT 500", [owner])
        gids = [r[0] for r in cur.fetchall()]
    boxes = _bboxes(owner, rng)
    bbox_texts = [f"{x0:.6f},{y0:.6f},{x1:.6f},{y1:.6f}" for x0, y0, x1, y1 in boxes]
    kind_texts = [f"{x0:.6f},{y0:.6f},{x1:.6f},{y1:.6f}" for x0, y0, x1, y1 in _bboxes(owner, rng, kind)]
    paths = {
        "single_asset": (bearer, [f"/api/v1/assets/{g}" for g in gids]),
        "bbox_page_1000": (bearer, [f"/api/v1/assets?bbox={b}&limit={PAGE}" for b in bbox_texts]),
        "geojson_page_1000": (bearer, [f"/api/v1/assets.geojson?bbox={b}&limit={PAGE}" for b in bbox_texts]),
        "ogc_items_1000": (bearer, [f"/ogc/collections/{kind}/items?bbox={b}&limit={PAGE}" for b in kind_texts]),
        "tile_z12": (cookie, [_tile((x0 + x1) / 2, (y0 + y1) / 2, 12) for x0, y0, x1, y1 in boxes]),
        "tile_z16": (cookie, [_tile((x0 + x1) / 2, (y0 + y1) / 2, 16) for x0, y0, x1, y1 in boxes]),
    }
    only = [s for s in os.environ.get("BENCH_SCENARIOS", "").split(",") if s]
    if only:
        paths = {k: v for k, v in paths.items() if k in only}
    dsn = connection.get_connection_params()
    dsn = " ".join(f"{k}={v}" for k, v in dsn.items() if k in {"dbname", "host", "port", "user", "password"} and v)

    # The queries each request makes, captured from the endpoint in this process (tiles uncached).
    captured: dict[str, tuple[list[list[str]], list[int | None]]] = {}
    meta = {}
    client = Client()
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}):
        for name, (headers, urls) in paths.items():
            wsgi_headers = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
            if "Cookie" in headers:
                c = session
                wsgi_headers = {}
            else:
                c = client
            rows = [_capture(c, wsgi_headers, u, MARKERS.get(name)) for u in urls]
            captured[name] = ([q for q, _n in rows], [n for _q, n in rows])
            meta[name] = {"urls": len(urls), "queries_per_request": _spread([len(q) for q, _n in rows])}
            if name in MARKERS and name != "single_asset":
                meta[name]["items_per_page"] = _spread([n for _q, n in rows])

    out = ROOT / "out"
    out.mkdir(exist_ok=True)
    port = _free_port()
    cache_dir = tempfile.mkdtemp(prefix="gunmane-bench-cache-")
    proc = _start_gunicorn(port, out / "bench-gunicorn.log", cache_dir)
    result = {"assets": total, "municipality": owner, "municipality_assets": n_owner, "ogc_kind": kind,
              "clients": CLIENTS, "requests_per_client": PER_CLIENT, "bboxes": bbox_texts, "ogc_bboxes": kind_texts,
              "load_start": _load(),
              "scenarios": {}}
    try:
        # Warm every worker (imports, pools) before measuring: single assets only, so no page or tile is cached.
        for _ in range(2):
            _run_clients(_http_work(port, bearer, [f"/api/v1/assets/{g}" for g in gids[:40]], [], None))
        for name, (headers, urls) in paths.items():
            queries, expect = captured[name]
            api = _run_clients(_http_work(port, headers, urls, expect, MARKERS.get(name)))
            sql = _run_clients(_sql_work(dsn, queries))
            r = result["scenarios"][name] = {**meta[name], "api": api, "sql": sql}
            if sql["p50_ms"] and api["p50_ms"]:
                r["p50_over_sql"] = round(api["p50_ms"] / sql["p50_ms"], 1)
                r["p95_over_sql"] = round(api["p95_ms"] / sql["p95_ms"], 1)
            if name in TARGETS:
                r["target_p95_ms"] = TARGETS[name]
                r["meets_target"] = bool(api["p95_ms"] is not None and api["p95_ms"] <= TARGETS[name]
                                         and api["errors"] == 0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        token.delete()
        user.delete()
        subprocess.run(["rm", "-rf", cache_dir], check=False)
    result["load_end"] = _load()
    return result


def report(result: dict) -> None:
    print(f"API under load: {result['clients']} clients, gunicorn on 127.0.0.1, region of {result['assets']:,} assets "
          f"(token of {result['municipality']}, {result['municipality_assets']:,} assets; OGC collection "
          f"{result['ogc_kind']}); load average {result['load_start']} at the start, {result['load_end']} at the end")
    for name, r in result["scenarios"].items():
        a, s = r["api"], r["sql"]
        items = f", {r['items_per_page']['median']} items/page" if r.get("items_per_page") else ""
        line = (f"  {name:<17} API p50 {a['p50_ms']} ms, p95 {a['p95_ms']} ms, {a['errors']} errors of "
                f"{a['requests']} ({a['per_s']}/s, load {a['load_before']}→{a['load_after']}{items}); direct SQL "
                f"({r['queries_per_request'].get('median')} queries) p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms "
                f"-> API/SQL p50 x{r.get('p50_over_sql')}, p95 x{r.get('p95_over_sql')}")
        if "target_p95_ms" in r:
            line += f"; target p95 <= {r['target_p95_ms']} ms: {'met' if r['meets_target'] else 'NOT met'}"
        print(line)
        if a["error_samples"]:
            print("    errors:", a["error_samples"])


if __name__ == "__main__":
    res = main()
    report(res)
    print(json.dumps(res))
    sys.exit(0)
