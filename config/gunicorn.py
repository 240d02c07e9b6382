"""gunicorn settings: `gunicorn -c config/gunicorn.py config.wsgi` (`make demo` does this).

Workers: WEB_CONCURRENCY, else 2 × CPUs + 1 (at most 9), each a gthread worker answering GUNICORN_THREADS
requests at once. Each worker process has its own database connection pool of DB_POOL_MAX_SIZE (default: the
thread count), so the web server holds at most workers × threads connections; README "Deploying" has the
arithmetic against PostgreSQL's max_connections. Requests beyond workers × threads wait in the listen backlog
(no error), so 50 concurrent clients are answered by 5 × 4 = 20 at a time on a 2-CPU machine."""

import json
import os
import traceback
from datetime import UTC, datetime

from gunicorn import glogging

# Before the app loads (workers import config.wsgi after this file is read): pooled connections in the server.
os.environ.setdefault("DB_POOL", "1")
# No JIT compilation for the web server's queries (config/settings.py, DB_JIT).
os.environ.setdefault("DB_JIT", "0")


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * _cpus() + 1, 9)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
os.environ.setdefault("GUNICORN_THREADS", str(threads))  # the pool's default size (config/settings.py)
backlog = 2048
# Web requests are short: imports, engine runs and plans are background jobs. A worker stuck longer is restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (memory held by a large GeoJSON page goes back to the system).
max_requests = 2000
max_requests_jitter = 200
# X-Forwarded-* are believed only from these addresses (the reverse proxy).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_allow_ips = forwarded_allow_ips

# Logs: JSON lines on stdout. The access log is gunicorn's own line per request (also for requests the app never
# sees); the app's line (config.requestlog) adds the user. Both carry the request id.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


class JsonAccessLogger(glogging.Logger):
    """gunicorn's access line as one JSON object, built with json.dumps (a quote in a path or a user agent
    cannot break the line, as it would in a format string)."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = dict((k.lower(), v) for k, v in (resp.headers or []))
        try:
            self.access_log.info(json.dumps({
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"), "logger": "gunicorn.access",
                "request_id": headers.get("x-request-id"), "remote": environ.get("REMOTE_ADDR"),
                "method": environ.get("REQUEST_METHOD"), "path": environ.get("PATH_INFO"),
                "query": environ.get("QUERY_STRING") or None, "status": int(status),
                "bytes": getattr(resp, "sent", None), "pid": os.getpid(),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "user_agent": environ.get("HTTP_USER_AGENT"),
            }, ensure_ascii=False))
        except Exception:
            self.error(traceback.format_exc())


logger_class = JsonAccessLogger
