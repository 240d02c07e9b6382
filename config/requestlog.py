"""Structured logs: JSON lines on stdout, one per request (id, user, method, path, status, duration), and every
other log line with the id of the request it was written in, so an operator can follow one request through the
web server's, the app's and a proxy's logs (the id comes from X-Request-ID when a proxy sets one, and goes back
in the response's X-Request-ID)."""

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
log = logging.getLogger("gunmane.request")

# A proxy's id is taken as given only when it looks like one (no spaces, quotes or control characters in logs).
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, the record's extra
    fields, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def _who(request) -> str | None:
    """Who asked, without a query of its own: the token or user already resolved while answering."""
    principal = getattr(request, "principal", None)
    if principal is not None and hasattr(principal, "prefix"):  # an ApiToken
        return f"token:{principal.pk}"
    user = request.__dict__.get("_cached_user")  # set once something read request.user
    if user is None:
        user = principal
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return None


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = rid
        # Left set after the response (the next request replaces it): Django's own lines about this request
        # (django.request: 4xx, 5xx tracebacks) are written once the middleware has returned.
        request_id_var.set(rid)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        log.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "method": request.method, "path": request.path, "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1), "user": _who(request),
        })
        return response
