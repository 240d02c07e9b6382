"""Web security: the Content-Security-Policy and no inline script, error pages, DEBUG and SECRET_KEY defaults,
deployment settings, the login throttle, failed jobs' tracebacks, the admin's filters, Content-Disposition."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.urls import path, reverse

from clusters.models import EngineRun
from clusters.services import run_create, run_execute
from inspections.services import inspection_record
from reports.models import Plan
from reports.services import plan_create, plan_execute
from tests.conftest import make_pipe

ROOT = Path(__file__).resolve().parents[2]


def boom(request):
    raise RuntimeError("secret-in-the-traceback DATABASE_URL=postgresql://user:pw@db/x")


def fine(request):
    return HttpResponse("ok")


# The 500 test routes through this module's URLconf, beside the project's.
urlpatterns = [path("boom/", boom), path("fine/", fine)]


@pytest.fixture
def ran(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    for k, (owner, lon) in enumerate(((world.yashio, 139.835), (world.soka, 139.80))):
        pipe = make_pipe(owner, external_id=f"P-{k}", lon=lon)
        from assets.history import Actor

        inspection_record(actor=Actor.system(), asset=pipe, inspected_on="2025-05-01", grade="緊急度Ⅰ")
    return run_execute(run_create(principal=world.carol, region=world.region).pk)


# --- CSP and inline script -----------------------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def _pages(world, run, client):
    from assets.models import Asset

    asset = Asset.objects.filter(owner=world.yashio).first()
    plan = plan_execute(plan_create(principal=world.carol, run=run).pk, render=False)
    yield world.carol, [reverse("region-map") + "?region=nakagawa", reverse("runs"), reverse("run-detail", args=[run.pk]),
                        reverse("cluster-detail", args=[run.pk, 1]), reverse("plan-detail", args=[plan.pk]),
                        reverse("asset-list"), reverse("overdue"), reverse("ledger-import")]
    yield world.alice, [reverse("inspection-pick"), reverse("inspection-pick") + "?q=P-0",
                        reverse("inspection-new", args=[asset.global_id]), reverse("asset-detail", args=[asset.global_id])]
    yield world.admin, [reverse("admin:index"), reverse("admin:assets_asset_change", args=[asset.pk]),
                        reverse("admin:assets_asset_changelist"), reverse("admin:clusters_cluster_changelist"),
                        reverse("admin:clusters_enginerun_change", args=[run.pk]),
                        reverse("admin:reports_plan_changelist")]


def test_every_page_has_the_csp_and_no_inline_script(world, ran, client):
    seen = 0
    for user, urls in _pages(world, ran, client):
        client.force_login(user)
        for url in urls:
            r = client.get(url)
            assert r.status_code == 200, url
            csp = r["Content-Security-Policy"]
            script_src = re.search(r"script-src ([^;]*)", csp).group(1)
            assert script_src.split() == ["'self'"], (url, csp)
            html = r.content.decode()
            assert not INLINE_SCRIPT.findall(html), (url, INLINE_SCRIPT.findall(html))
            assert not INLINE_HANDLER.findall(html), (url, INLINE_HANDLER.findall(html)[:3])
            assert "javascript:" not in html, url
            seen += 1
    assert seen == 18


def test_the_admin_map_widget_gets_its_options_as_json(world, ran, client):
    from assets.models import Asset

    client.force_login(world.admin)
    asset = Asset.objects.filter(owner=world.yashio).first()
    html = client.get(reverse("admin:assets_asset_change", args=[asset.pk])).content.decode()
    assert 'id="id_geom_mapwidget_options" type="application/json"' in html
    assert "js/mapwidget.js" in html and "new MapWidget" not in html


# --- error pages, DEBUG, SECRET_KEY ------------------------------------------------------------------------

def test_the_404_page_shows_no_urlconf(client, db):
    r = client.get("/en/no-such-page/")
    assert r.status_code == 404
    html = r.content.decode()
    assert "Page not found" in html and "ページが見つかりません" in html
    assert "URLconf" not in html and "config.urls" not in html and "DATABASE" not in html


@pytest.mark.urls("tests.web.test_security")
def test_the_500_page_shows_no_traceback(client, db):
    client.raise_request_exception = False
    r = client.get("/boom/")
    assert r.status_code == 500
    html = r.content.decode()
    assert "エラーが発生しました" in html and "Something went wrong" in html
    assert "secret-in-the-traceback" not in html and "Traceback" not in html and "DATABASE_URL" not in html


def _settings_in_subprocess(env: dict, code: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "HTTPS"}}
    return subprocess.run([sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
                           + code], cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
                          capture_output=True, text=True, check=True).stdout.strip()


def test_debug_is_off_and_the_secret_key_is_made_locally_by_default(tmp_path):
    keyfile = tmp_path / "key"
    out = _settings_in_subprocess({"SECRET_KEY_FILE": str(keyfile)}, "print(settings.DEBUG, settings.SECRET_KEY)")
    debug, key = out.split()
    assert debug == "False"
    assert keyfile.read_text().strip() == key and len(key) >= 50 and "insecure" not in key
    assert keyfile.stat().st_mode & 0o077 == 0  # readable by its owner only
    again = _settings_in_subprocess({"SECRET_KEY_FILE": str(keyfile)}, "print(settings.SECRET_KEY)")
    assert again == key  # sessions survive a restart
    assert _settings_in_subprocess({"SECRET_KEY_FILE": str(keyfile), "DEBUG": "1"}, "print(settings.DEBUG)") == "True"
    assert ".secret_key" in (ROOT / ".gitignore").read_text()


def test_https_settings_come_from_the_environment():
    out = _settings_in_subprocess({"HTTPS": "1", "SECURE_PROXY_SSL_HEADER": "1", "SECRET_KEY": "k" * 20 + "x" * 40},
                                  "print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
                                  "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS, "
                                  "settings.SECURE_PROXY_SSL_HEADER)")
    assert out == "True True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https')"


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    import secrets

    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never has it.
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env = {**clean, "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "HTTPS": "1", "SECURE_HSTS_PRELOAD": "1",
           "ALLOWED_HOSTS": "gunmane.example.jp"}
    r = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues" in r.stdout


# --- login throttle -------------------------------------------------------------------------------------------

def _login(client, user, password, url="/en/accounts/login/", addr="10.0.0.1"):
    return client.post(url, {"username": user, "password": password}, REMOTE_ADDR=addr)


def test_five_wrong_passwords_lock_the_user_out_with_429(world, client, caplog):
    for _ in range(4):
        r = _login(client, "alice", "wrong")
        assert r.status_code == 200  # the form again, with its error
    assert _login(client, "alice", "wrong").status_code == 429  # the fifth failure locks
    r = _login(client, "alice", "wrong")
    assert r.status_code == 429 and "Too many failed sign-ins" in r.content.decode()
    # Locked: even the right password is refused, on the sign-in page and on the admin's.
    assert _login(client, "alice", "pw-alice").status_code == 429
    assert _login(client, "alice", "pw-alice", url="/en/admin/login/").status_code == 429
    assert "_auth_user_id" not in client.session
    # Another person, from another address, signs in as usual.
    r = _login(client, "bob", "pw-bob", addr="10.0.0.2")
    assert r.status_code == 302 and client.session["_auth_user_id"] == str(world.bob.pk)
    assert any("alice" in rec.getMessage() and rec.name.startswith("axes") for rec in caplog.records)


def test_one_address_trying_many_user_names_is_locked_out(world, client):
    for name in ("alice", "bob", "carol", "victor", "charlie"):
        _login(client, name, "wrong", addr="10.9.9.9")
    assert _login(client, "admin", "pw-admin", addr="10.9.9.9").status_code == 429
    assert _login(client, "admin", "pw-admin", addr="10.9.9.10").status_code == 302


def test_the_admin_login_is_throttled_too(world, client):
    for _ in range(4):
        assert _login(client, "admin", "wrong", url="/en/admin/login/").status_code == 200
    assert _login(client, "admin", "wrong", url="/en/admin/login/").status_code == 429
    assert _login(client, "admin", "pw-admin", url="/en/admin/login/").status_code == 429


def test_a_lockout_does_not_touch_existing_api_sessions(world, client):
    api = type(client)()
    api.force_login(world.alice)
    for _ in range(6):
        _login(client, "alice", "wrong")
    assert api.get("/api/v1/inspections").status_code == 200


# --- failed jobs: a message for users, the traceback for operators ---------------------------------------------

def test_a_failed_plan_shows_a_short_message_and_keeps_the_traceback(world, ran, client, settings, tmp_path, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.MEDIA_ROOT = blocker  # the PDF cannot be stored: a real failure inside the worker
    plan = plan_create(principal=world.carol, run=ran)
    with pytest.raises(OSError):
        plan_execute(plan.pk)
    plan.refresh_from_db()
    assert plan.status == Plan.Status.FAILED
    assert "Traceback" in plan.error and "not-a-directory" in plan.error  # kept for the operators
    assert any(rec.name == "gunmane.jobs" and rec.exc_info for rec in caplog.records)
    client.force_login(world.carol)
    got = client.get(f"/api/v1/plans/{plan.pk}").json()
    assert got["status"] == "failed"
    assert got["error"] == got["message"] == f"Plan #{plan.pk} failed with an internal error; the operators have the details"
    page = client.get(reverse("plan-detail", args=[plan.pk])).content.decode()
    assert "Traceback" not in page and "not-a-directory" not in page


def test_a_failed_run_answers_without_its_traceback(world, ran, client):
    EngineRun.objects.filter(pk=ran.pk).update(status="failed", message="Engine run #1 failed", error=(
        'Traceback (most recent call last):\n  File "/srv/gunmane/clusters/services.py", line 1\nKeyError: x'))
    client.force_login(world.carol)
    got = client.get(f"/api/v1/runs/{ran.pk}").json()
    assert got["error"] == "Engine run #1 failed" and "Traceback" not in str(got)
    assert "Traceback" not in client.get(reverse("run-detail", args=[ran.pk])).content.decode()
    # In the admin only a superuser sees it.
    carol_view = client.get(reverse("admin:clusters_enginerun_change", args=[ran.pk])).content.decode()
    assert "Traceback" not in carol_view
    client.force_login(world.admin)
    assert "Traceback" in client.get(reverse("admin:clusters_enginerun_change", args=[ran.pk])).content.decode()


# --- admin filters ----------------------------------------------------------------------------------------------

def test_the_admin_run_filter_lists_only_visible_regions_runs(world, ran, client):
    from assets.models import Region

    other = Region.objects.create(slug="noto", name="能登", lead=world.wajima)
    other.members.set([world.wajima])
    foreign = EngineRun.objects.create(region=other, status="done", params={})
    EngineRun.objects.create(region=world.region, status="done", params={})  # a filter shows from two choices on
    client.force_login(world.carol)
    html = client.get(reverse("admin:clusters_cluster_changelist")).content.decode()
    assert f"run__id__exact={ran.pk}" in html
    assert f"run__id__exact={foreign.pk}" not in html and "noto" not in html
    html = client.get(reverse("admin:clusters_enginerun_changelist")).content.decode()
    assert f"region__id__exact={other.pk}" not in html and "能登" not in html
    client.force_login(world.admin)
    assert f"run__id__exact={foreign.pk}" in client.get(reverse("admin:clusters_cluster_changelist")).content.decode()


# --- Content-Disposition ------------------------------------------------------------------------------------------

def test_content_disposition_survives_quotes_and_newlines(world, client):
    client.force_login(world.alice)
    r = client.get("/api/v1/ledger/export", {"kind": "sewer_pipe", "municipality": 'a"b\r\nSet-Cookie: x=1'})
    assert r.status_code == 200
    cd = r["Content-Disposition"]
    assert "\r" not in cd and "\n" not in cd and cd.startswith("attachment; filename")
    assert "Set-Cookie" not in r.headers
