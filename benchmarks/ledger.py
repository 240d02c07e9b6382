"""Ledger import benchmark, run in its own process: our import of a 100,000-row ledger with full validation,
beside a raw COPY of the same file (the floor) and django-import-export on a slice of it (row by row), and the
change feed paging through the changes the import wrote."""

import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import numpy as np  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from assets.history import Actor  # noqa: E402
from assets.models import Asset, Via  # noqa: E402
from ledger.feed import change_feed  # noqa: E402
from ledger.importer import import_ledger  # noqa: E402

OWNER = "112348"
SOURCE = f"bench-{int(time.time())}"
HEADER = "管渠番号,管種,管径,延長,布設年度,排除方式,始点経度,始点緯度,終点経度,終点緯度"


def ledger_csv(n: int) -> bytes:
    """n pipes inside 八潮市, as a CP932 ledger with 和暦 years."""
    with connection.cursor() as cur:
        cur.execute("SELECT ST_X(g), ST_Y(g) FROM (SELECT (ST_Dump(ST_GeneratePoints(boundary, %s, 1))).geom AS g "
                    "FROM assets_municipality WHERE code = %s) p", [n, OWNER])
        pts = np.array(cur.fetchall())
    rng = np.random.default_rng(1)
    eras = np.array(["S48", "昭和55年", "H6年度", "平成10年", "R2", "令和元年", "1988", "不明"])
    mats = np.array(["ヒューム管", "塩ビ管", "陶管"])
    lines = [HEADER]
    for i in range(n):
        x, y = pts[i]
        lines.append(f"BK-{i:06d},{mats[i % 3]},{200 + 50 * (i % 6)},{20 + i % 40}.5,{eras[rng.integers(8)]},汚水,"
                     f"{x:.7f},{y:.7f},{x + 0.0003:.7f},{y:.7f}")
    return "\r\n".join(lines).encode("cp932")


def raw_copy(data: bytes) -> float:
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE _raw (a text, b text, c text, d text, e text, f text, g text, h text, i text, "
                    "j text) ON COMMIT DROP")
        with cur.cursor.copy("COPY _raw FROM STDIN WITH (FORMAT csv, HEADER)") as cp:
            cp.write(data.decode("cp932"))
    return time.perf_counter() - t0


def import_export_rows(data: bytes, n: int) -> float:
    """django-import-export's ModelResource importing the first n rows into the same kind of table, row by
    row (its documented way, with its own validation), rolled back afterwards."""
    import tablib
    from import_export import resources

    from assets.models import Municipality

    class PipeResource(resources.ModelResource):
        class Meta:
            model = Asset
            fields = ("global_id", "owner", "kind", "source", "external_id", "geom", "built_year_text")
            import_id_fields = ("global_id",)

    text = data.decode("cp932").splitlines()
    ds = tablib.Dataset(headers=["global_id", "owner", "kind", "source", "external_id", "geom", "built_year_text"])
    Municipality.objects.get(code=OWNER)
    for i, line in enumerate(text[1:n + 1]):
        c = line.split(",")
        ds.append([f"{OWNER}-BX-{i:06d}", OWNER, "sewer_pipe", "bench-iex", c[0],
                   f"SRID=6668;LINESTRING({c[6]} {c[7]},{c[8]} {c[9]})", c[4]])
    t0 = time.perf_counter()
    with transaction.atomic():
        result = PipeResource().import_data(ds, dry_run=False, raise_errors=True)
        assert not result.has_errors()
        transaction.set_rollback(True)
    return time.perf_counter() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    iex_n = min(n, 5_000)
    data = ledger_csv(n)
    with connection.cursor() as cur:
        # The registry as autovacuum keeps it. This machine's PostgreSQL runs with autovacuum off (its CI
        # configuration), so the rows of the regions `make bench` generated and deleted before this step (over a
        # million) would stay dead in every table and index the import writes to; a deployment's autovacuum
        # clears them. Outside a transaction (VACUUM cannot run in one).
        cur.execute("VACUUM ANALYZE")
    with connection.cursor() as cur:  # the feed is measured over what this import writes
        cur.execute("SELECT coalesce(max(txid), 0), coalesce(max(id), 0) FROM assets_changerecord")
        start = "{}.{}".format(*cur.fetchone())
    floor = raw_copy(data)
    t0 = time.perf_counter()
    report = import_ledger(actor=Actor.system(Via.IMPORT), data=data, filename="bench.csv", kind="sewer_pipe",
                           municipality=OWNER, source=SOURCE)
    ours = time.perf_counter() - t0
    assert report.ok and report.created == n, report.errors[:5]
    t0 = time.perf_counter()
    again = import_ledger(actor=Actor.system(Via.IMPORT), data=data, filename="bench.csv", kind="sewer_pipe",
                          municipality=OWNER, source=SOURCE)
    unchanged = time.perf_counter() - t0
    assert again.unchanged == n
    iex = import_export_rows(data, iex_n)
    t0 = time.perf_counter()
    cursor, pages, seen, admin = start, 0, 0, _admin()
    while True:
        page = change_feed(principal=admin, cursor=cursor, limit=1000)
        seen += len(page["changes"])
        pages += 1
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    feed = time.perf_counter() - t0
    print(json.dumps({"rows": n, "import_s": round(ours, 2), "rows_per_s": round(n / ours),
                      "reimport_unchanged_s": round(unchanged, 2), "raw_copy_s": round(floor, 3),
                      "import_over_raw_copy": round(ours / floor, 1), "import_export_rows": iex_n,
                      "import_export_s": round(iex, 2), "import_export_rows_per_s": round(iex_n / iex),
                      "feed_changes": seen, "feed_pages": pages, "feed_s": round(feed, 2),
                      "feed_changes_per_s": round(seen / feed)}))


def _admin():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-admin", defaults={"is_superuser": True,
                                                                                      "is_staff": True})
    return user


if __name__ == "__main__":
    main()
