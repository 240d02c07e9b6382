"""Django's cache, where web/tiles.py keeps rendered vector tiles, is shared by every gunicorn worker (issue 17):
RedisCache when REDIS_URL is set (a real redis-server), else files under CACHE_DIR. Each case runs two separate
Python processes with the settings as deployed: what one worker stores, another reads."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.config.test_jobs_redis import redis_url  # noqa: F401  the real redis-server fixture

ROOT = Path(__file__).resolve().parents[2]
STORE = ("from django.core.cache import cache; from web import tiles; "
         "assert tiles.cache is cache; cache.set('tile:abc', b'\\x1a\\x00pbf', 60); print(json.dumps(True))")
READ = ("from django.conf import settings; from django.core.cache import cache; v = cache.get('tile:abc'); "
        "print(json.dumps([settings.CACHES['default']['BACKEND'].rsplit('.', 1)[1], "
        "settings.CACHES['default']['LOCATION'], v.hex() if v else None]))")


def _worker(code: str, **env) -> object:
    clean = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CACHE_REDIS_URL", "CACHE_DIR"}}
    r = subprocess.run([sys.executable, "-c", "import django, json; django.setup(); " + code], cwd=ROOT,
                       env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env}, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_without_redis_workers_share_files_under_cache_dir(tmp_path):
    where = tmp_path / "tiles-cache"
    assert _worker(STORE, CACHE_DIR=str(where))
    assert _worker(READ, CACHE_DIR=str(where)) == ["FileBasedCache", str(where), "1a00706266"]
    assert any(where.iterdir())
    # Another directory is another cache: nothing is shared by accident.
    assert _worker(READ, CACHE_DIR=str(tmp_path / "other"))[2] is None


def test_with_redis_url_workers_share_redis(redis_url):  # noqa: F811
    import redis

    assert _worker(STORE, REDIS_URL=redis_url)
    assert _worker(READ, REDIS_URL=redis_url) == ["RedisCache", redis_url, "1a00706266"]
    assert redis.Redis.from_url(redis_url).keys("gunmane:*:tile:abc")  # really in Redis, under the site's prefix
