"""Names from the registry are text in the PDF, never reportlab markup: no fetch, no file, no failed plan."""

import socket
import subprocess
import threading

from assets.history import Actor
from clusters.services import run_create, run_execute
from inspections.services import inspection_record
from reports.models import Plan
from reports.services import plan_create, plan_execute
from tests.conftest import make_pipe


def test_markup_in_asset_names_prints_as_text_and_fetches_nothing(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # A listener stands in for the internal service an attacker would aim at: it must never be called.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    calls = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                calls.append(conn.recv(200))
                conn.close()
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    names = [f'<img src="http://127.0.0.1:{port}/x"/>', '<img src="http://127.0.0.1:9/x"/>', "<b>太字",
             "&lt;a&amp;", f'<img src="{tmp_path}/secret.jpg"/>']
    for k, name in enumerate(names):
        pipe = make_pipe(world.yashio, external_id=f"M-{k}", lon=139.823 + 0.005 * k)
        pipe.name = name
        pipe.save(update_fields=["name"])
        inspection_record(actor=Actor.system(), asset=pipe, inspected_on="2025-05-01", grade="緊急度Ⅰ")
    try:
        run = run_execute(run_create(principal=world.carol, region=world.region).pk)
        plan = plan_execute(plan_create(principal=world.carol, run=run).pk)
    finally:
        stop.set()
    assert plan.status == Plan.Status.DONE, plan.error
    assert calls == []
    text = subprocess.run(["pdftotext", plan.pdf.path, "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())  # table cells wrap long names
    for name in names:
        assert "".join(name.split()) in flat, name
