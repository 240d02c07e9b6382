"""The hostile-file corpus (tests/ledger/hostile.py) through every entry point: the import_ledger command, the
API with a token and with a session, and the upload page. Each file gets a clear 4xx/error naming the problem,
no server error, nothing changed; the exhaustion cases run in a subprocess whose peak memory is measured."""

import html
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from assets.models import ApiToken, Asset, ChangeRecord
from ledger.readers import MAX_RECORDS
from tests.conftest import make_pipe
from tests.ledger.hostile import CASES, LAT, LON, Hostile

GIB = 2**30
ROOT = Path(__file__).resolve().parents[2]
# The stated bound (README, "Ledger sync"): reading and checking a file takes at most 10 s + 1 s per MB.
SECONDS_BASE, SECONDS_PER_MB = 10.0, 1.0


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    paths = {}
    for case in CASES:
        paths[case.name] = folder / case.name
        paths[case.name].write_bytes(case.build())
    return paths


def _counts() -> tuple[int, int]:
    return Asset.objects.count(), ChangeRecord.objects.count()


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


def _text(response) -> str:
    """Every message of a JSON answer, or the text of a page, as one string to search."""
    if response["Content-Type"].startswith("application/json"):
        return " | ".join(_strings(response.json()))
    return html.unescape(response.content.decode("utf-8", "replace"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_file_is_refused_clearly_everywhere_and_changes_nothing(case: Hostile, corpus, world, client):
    make_pipe(world.yashio)  # something in the registry that must stay as it is
    before = _counts()
    data = corpus[case.name].read_bytes()

    t0 = time.perf_counter()
    with pytest.raises(CommandError) as exc:
        call_command("import_ledger", str(corpus[case.name]), kind=case.kind, municipality="112348",
                     stdout=(out := io.StringIO()))
    assert case.expect in str(exc.value) + out.getvalue()
    assert time.perf_counter() - t0 < SECONDS_BASE + SECONDS_PER_MB * len(data) / 2**20

    _t, key = ApiToken.issue(name="台帳", municipality=world.yashio, source="ledger")
    token = {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_ACCEPT_LANGUAGE": "en"}
    r = client.post("/api/v1/ledger/import", {"file": SimpleUploadedFile(case.name, data), "kind": case.kind,
                                               "dry_run": "false"}, **token)
    assert r.status_code == 422, (r.status_code, r.content[:300])
    assert case.expect in _text(r)

    client.force_login(world.alice)
    r = client.post("/api/v1/ledger/import", {"file": SimpleUploadedFile(case.name, data), "kind": case.kind,
                                               "municipality": "112348", "dry_run": "false"},
                    HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 422, (r.status_code, r.content[:300])
    assert case.expect in _text(r)

    r = client.post("/en/ledger/import/",
                    {"file": SimpleUploadedFile(case.name, data), "kind": case.kind, "municipality": "112348",
                     "action": "load"}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code < 500 and case.expect in _text(r)

    assert _counts() == before


def _database_url() -> str:
    d = connection.settings_dict
    auth = f"{quote(d['USER'] or '')}:{quote(d['PASSWORD'] or '')}@" if d["USER"] else ""
    host = f"{d['HOST']}:{d['PORT'] or 5432}" if d["HOST"] else ""
    return f"postgresql://{auth}{host}/{d['NAME']}"


# manage.py import_ledger FILE --kind KIND --municipality 112348 for each case, with English messages for the
# assertions, each in a process of its own: a parent that has set Django up once (the interpreter, Django and GDAL
# take seconds to start, several times what the smaller cases cost) forks one child per case, as a fresh
# `manage.py` would be at the point the command starts. The child's peak memory is its own VmHWM, read as it ends:
# it counts what the child shares with the parent, so Django, GDAL and the interpreter are included (ru_maxrss of
# a child would include this large pytest process's RSS at fork time).
RUNNER = """
import json, os, re, sys, time
import django
from django.conf import settings

django.setup()
settings.LANGUAGE_CODE = "en"
for arg in sys.argv[1:]:
    path, kind = arg.rsplit(":", 1)
    err = os.path.join(os.path.dirname(path), os.path.basename(path) + ".stderr")
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
        sys.stdout, sys.stderr = open(1, "w", closefd=False), open(2, "w", closefd=False)
        status = 0
        try:
            from django.core.management import execute_from_command_line

            execute_from_command_line(["manage.py", "import_ledger", path, "--kind", kind, "--municipality", "112348"])
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else 1
        except BaseException:
            import traceback

            traceback.print_exc()
            status = 2
        sys.stdout.flush()
        sys.stderr.write("VmHWM " + re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1) + "\\n")
        sys.stderr.flush()
        os._exit(status)
    _pid, wait = os.waitpid(pid, 0)
    seconds = time.perf_counter() - t0
    with open(err, encoding="utf-8", errors="replace") as f:
        print(json.dumps({"status": os.waitstatus_to_exitcode(wait), "stderr": f.read(), "seconds": seconds}), flush=True)
"""


def _peak_rss_children(cases: list[tuple[Path, str]]) -> list[tuple[int, str, int, float]]:
    """manage.py import_ledger in a child process per (file, kind): (exit status, stderr, peak RSS in bytes,
    seconds) of each."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "config.settings",
           "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", RUNNER, *(f"{path}:{kind}" for path, kind in cases)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = []
    for line in r.stdout.splitlines():
        got = json.loads(line)
        peak = re.search(r"VmHWM (\d+)", got["stderr"])
        out.append((got["status"], got["stderr"], int(peak.group(1)) * 1024 if peak else 2 * GIB, got["seconds"]))
    assert len(out) == len(cases), r.stdout
    return out


HEAVY = [c for c in CASES if c.heavy]


@pytest.mark.django_db(transaction=True)
def test_exhaustion_cases_stay_under_1_gib_and_the_time_bound(corpus, capsys):
    """Each exhaustion case in its own process: refused with the reason, under 1 GiB peak memory (Django, GDAL
    and the interpreter included), within 10 s + 1 s per MB of the file."""
    rows = []
    results = _peak_rss_children([(corpus[case.name], case.kind) for case in HEAVY])
    for case, (status, err, rss, seconds) in zip(HEAVY, results, strict=True):
        path = corpus[case.name]
        mb = path.stat().st_size / 2**20
        rows.append((case.name, mb, status, rss / 2**20, seconds))
        assert status == 1 and "Traceback" not in err and case.expect in err, (case.name, err[-500:])
        assert rss < GIB, (case.name, rss)
        assert seconds < SECONDS_BASE + SECONDS_PER_MB * mb, (case.name, seconds)
    with capsys.disabled():
        print("\nhostile corpus, exhaustion cases (file MB, exit, peak MB, s):")
        for row in rows:
            name, mb, status, peak, seconds = row
            print(f"  {name:26} {mb:6.1f} MB  exit {status}  {peak:5.0f} MB  {seconds:4.1f} s")


def test_the_whole_corpus_is_refused_by_the_reader(corpus):
    """The counts for the report: every file of the corpus is refused (or, for the one with a bogus sheet
    dimension, read within bounds and refused by the importer)."""
    from django.core.exceptions import ValidationError

    from ledger.readers import read_table

    refused = 0
    for case in CASES:
        try:
            read_table(corpus[case.name].read_bytes(), case.name)
        except ValidationError:
            refused += 1
    assert refused == len(CASES) - 1  # dimension.xlsx is a readable file: its refusal comes from the importer


def test_a_long_pipe_exported_as_csv_imports_back(world, client):
    """A cell over Python csv's default 131,072 characters (the WKT of a long pipe) round-trips."""
    from django.contrib.gis.geos import LineString

    from assets.history import Actor
    from assets.models import Via
    from ledger.importer import import_ledger

    pipe = make_pipe(world.yashio, external_id="LONG-1")
    n = 8000
    line = LineString([(round(LON + 0.01 * k / n, 6), round(LAT + 0.0001 * (k % 2), 6)) for k in range(n)], srid=6668)
    Asset.objects.filter(pk=pipe.pk).update(geom=line)  # a pipe far longer than any form would take
    client.force_login(world.admin)
    body = client.get("/api/v1/ledger/export?kind=sewer_pipe&format=csv").content
    import csv

    assert max(len(c) for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for c in row) > 131_072
    report = import_ledger(actor=Actor.system(Via.IMPORT), data=body, filename="back.csv", kind="sewer_pipe",
                           source="gesuido-daicho")
    assert report.ok, report.errors[:3]
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)


def test_the_record_bound_is_named(world):
    from assets.history import Actor
    from assets.models import Via
    from ledger.importer import import_ledger

    lines = ["管渠番号,経度,緯度"] + [f"K-{k},{LON},{LAT}" for k in range(MAX_RECORDS + 1)]
    with pytest.raises(Exception) as exc:
        import_ledger(actor=Actor.system(Via.IMPORT), data="\n".join(lines).encode(), filename="big.csv",
                      kind="sewer_pipe", municipality="112348")
    assert "more than 200,000 records" in str(exc.value)
