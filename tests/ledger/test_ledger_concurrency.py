"""Ledger imports under concurrency and crashes, against real PostGIS with real concurrent transactions:
imports of the same ledger are serialized (the loser sees the winner's result, never a 500, never a second
history row for one change), and an import killed in the middle of its write leaves the registry as it was."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client

from assets.models import ApiToken, Asset, ChangeRecord

ROOT = Path(__file__).resolve().parents[2]
ROWS = 400


def ledger(depth: float, rows: int = ROWS) -> bytes:
    lines = ["マンホール番号,深さ(m),設置年度,経度,緯度"]
    lines += [f"M-{k:05d},{depth + k / 1000:.3f},S50,{139.825 + (k % 100) * 0.0003:.6f},{35.81 + (k // 100) * 0.00005:.6f}"
              for k in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


@pytest.fixture
def token(world):
    _t, key = ApiToken.issue(name="下水道台帳システム", municipality=world.yashio, source="gesuido")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_ACCEPT_LANGUAGE": "en"}


def concurrently(n: int, token: dict, data: bytes) -> list:
    """n clients post the same file at once, each in its own thread, connection and transaction."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def post(i: int) -> None:
        try:
            barrier.wait()
            r = Client(raise_request_exception=False).post(
                "/api/v1/ledger/import", {"file": SimpleUploadedFile("mh.csv", data), "kind": "manhole"}, **token)
            results[i] = (r.status_code, r.json() if r.status_code != 500 else r.content[:300])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results


def feed(client, token, timeout: float = 60.0) -> list[dict]:
    """The whole change feed. It serves only transactions older than any still running in the cluster, so it
    is read again until it stops growing (other databases' transactions may hold it back for a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        seen, cursor = [], ""
        while True:
            r = client.get(f"/api/v1/changes?limit=1000&cursor={cursor}", **token).json()
            seen += r["changes"]
            cursor = r["next_cursor"]
            if not r["has_more"]:
                break
        expected = ChangeRecord.objects.filter(content_type=ContentType.objects.get_for_model(Asset)).count()
        if len(seen) >= expected or time.monotonic() > deadline:
            return seen
        time.sleep(0.5)


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_imports_of_one_new_file_create_once(client, world, token):
    results = concurrently(5, token, ledger(2.0))
    assert all(status == 200 for status, _body in results), results
    created = sorted(body["created"] for _s, body in results)
    assert created == [0, 0, 0, 0, ROWS], results
    assert sum(body["summary"].startswith("Nothing to change") for _s, body in results) == 4
    assert Asset.objects.count() == ROWS
    assert ChangeRecord.objects.filter(action="create").count() == ROWS
    changes = feed(client, token)
    assert len(changes) == ROWS and len({c["asset"] for c in changes}) == ROWS


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_updates_of_the_same_ids_write_one_history_row_per_change(client, world, token):
    first = client.post("/api/v1/ledger/import", {"file": SimpleUploadedFile("mh.csv", ledger(2.0)),
                                                  "kind": "manhole"}, **token)
    assert first.json()["created"] == ROWS
    results = concurrently(2, token, ledger(3.0))
    assert all(status == 200 for status, _body in results), results
    assert sorted(body["updated"] for _s, body in results) == [0, ROWS], results
    assert sorted(body["unchanged"] for _s, body in results) == [0, ROWS], results
    updates = ChangeRecord.objects.filter(action="update")
    assert updates.count() == ROWS
    assert set(updates.values_list("before__version", "after__version").distinct()) == {(1, 2)}
    assert set(Asset.objects.values_list("version", flat=True)) == {2}
    changes = feed(client, token)
    updates_served = [(c["asset"], c["values"]["version"]) for c in changes if c["action"] == "update"]
    assert len(updates_served) == ROWS and len(set(updates_served)) == ROWS


def _db_url() -> str:
    db = settings.DATABASES["default"]
    user = f"{db['USER']}{':' + db['PASSWORD'] if db.get('PASSWORD') else ''}@" if db.get("USER") else ""
    host = f"{db['HOST']}{':' + str(db['PORT']) if db.get('PORT') else ''}" if db.get("HOST") else ""
    return f"postgresql://{user}{host}/{db['NAME']}"


def _command(path: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": _db_url()}
    return subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "import_ledger", str(path), "--kind", "manhole",
                             "--municipality", "112348", "--source", "gesuido"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.django_db(transaction=True)
def test_an_import_killed_while_writing_leaves_the_registry_unchanged(world, tmp_path):
    rows = 40_000
    path = tmp_path / "mh.csv"
    path.write_bytes(ledger(2.0, rows))
    watch = psycopg.connect(**{k: v for k, v in connection.get_connection_params().items()
                               if k in ("dbname", "user", "host", "port", "password")}, autocommit=True)
    before = (Asset.objects.count(), ChangeRecord.objects.count())
    proc = _command(path)
    backend = None
    deadline = time.monotonic() + 180
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            row = watch.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'active' AND query ~ '^\\s*INSERT INTO (assets_asset|assets_manhole|assets_changerecord)'"
            ).fetchone()
            if row:
                backend = row[0]
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.005)
        proc.wait(timeout=60)
        assert backend is not None and proc.returncode == -signal.SIGKILL, (
            "the import was not caught writing", proc.returncode, proc.stderr.read()[-2000:])
        # The server notices the lost client at the end of the statement and rolls the transaction back.
        while watch.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend]).fetchone():
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
        watch.close()
    assert (Asset.objects.count(), ChangeRecord.objects.count()) == before
    again = _command(path)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()[-2000:]
    assert Asset.objects.count() == before[0] + rows
    assert ChangeRecord.objects.filter(action="create").count() == rows
    # Serial numbers continue from where they were: the killed run's reservation was rolled back too.
    assert Asset.objects.order_by("global_id").first().global_id.endswith("-000001")
