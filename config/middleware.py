"""The API is not under a language prefix: it answers in the language the client asks for (Accept-Language),
Japanese by default, where the pages follow their URL prefix.

The same middleware (already first in line for every request) also turns away requests that no view can
answer: a NUL anywhere in the path, the query string or a form field (PostgreSQL text cannot hold one), a NUL
inside a JSON body, and a multipart body that cannot be parsed (no boundary, broken framing). Each gets a 422 (a
400 on a page) naming the parameter, or the JSON path of the value, instead of a 500 deep in a view; a body over
DATA_UPLOAD_MAX_MEMORY_SIZE gets a 413 saying the bound (not Django's bare 400)."""

import json
from urllib.parse import parse_qsl, unquote

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import translation
from django.utils.translation import gettext as _


def _bad(request, field: str, message: str):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "errors": {field: [message]}}, status=422)
    return HttpResponseBadRequest(f"{field}: {message}", content_type="text/plain; charset=utf-8")


def _too_big(request):
    """413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE (Django refuses to read it): the size, the bound and the
    way out, instead of a bare 400."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    size = request.META.get("CONTENT_LENGTH") or ""
    message = _("The request body is %(size)s bytes; at most %(max)s bytes (%(mb)s MB) are accepted. Send the "
                "records in several requests, or upload them as a file (POST /api/v1/ledger/import, up to 50 MB)") % {
        "size": f"{int(size):,}" if size.isdigit() else _("more than that"), "max": f"{limit:,}",
        "mb": f"{limit / 2**20:g}"}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "max_bytes": limit}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


def _nul_path(value) -> str | None:
    """JSON path of the first text holding a NUL (e.g. `records[0].名称`), so the client knows which
    record and field to fix. Iterative, so a deeply nested body cannot exhaust the stack here."""
    stack = [(value, "")]
    while stack:
        v, where = stack.pop()
        if isinstance(v, str):
            if "\x00" in v:
                return where or "body"
        elif isinstance(v, dict):
            for k, item in reversed(list(v.items())):
                key = f"{where}.{k}" if where else str(k)
                if "\x00" in str(k):
                    return key.replace("\x00", "\\0")
                stack.append((item, key))
        elif isinstance(v, list):
            stack.extend((item, f"{where}[{i}]") for i, item in reversed(list(enumerate(v))))
    return None


def refuse_unreadable(request):
    """A response for a request that must not reach a view, or None."""
    raw_path = request.META.get("PATH_INFO", "")
    if "\x00" in raw_path or "\x00" in unquote(raw_path) or "%00" in request.get_full_path().split("?")[0]:
        return _bad(request, "path", _("The path contains a NUL character (U+0000)"))
    query = request.META.get("QUERY_STRING", "")
    if "\x00" in query or "%00" in query:
        names = sorted({k.replace("\x00", "\\0") for k, v in parse_qsl(query, keep_blank_values=True)
                        if "\x00" in k or "\x00" in v}) or ["query"]
        return _bad(request, names[0], _("The query parameter %s contains a NUL character (U+0000)") % names[0])
    content_type = request.META.get("CONTENT_TYPE", "")
    form = content_type.startswith(("multipart/", "application/x-www-form-urlencoded"))
    if request.method in ("POST", "PUT", "PATCH") and form:
        try:
            fields = request.POST  # parses (and caches) the body; the view then reads the same result
        except RequestDataTooBig:  # form fields (not files) beyond the bound
            return _too_big(request)
        except MultiPartParserError as exc:
            return _bad(request, "body", _("The multipart body cannot be read (%s); send multipart/form-data "
                                           "with a boundary") % exc)
        # A form field is text for the database as a query parameter is (a pin's reason, a mapping's header).
        names = sorted({k.replace("\x00", "\\0") for k, values in fields.lists()
                        if "\x00" in k or any("\x00" in v for v in values)})
        if names:
            return _bad(request, names[0], _("The form field %s contains a NUL character (U+0000)") % names[0])
    elif request.path.startswith("/api/") and "json" in content_type:
        try:
            body = request.body
        except RequestDataTooBig:
            return _too_big(request)
        if b"\\u0000" in body:
            try:
                where = _nul_path(json.loads(body))
                if where:
                    return _bad(request, where, _("A text value contains a NUL character (U+0000)"))
            except ValueError:
                pass  # not JSON at all: the API says so itself
    return None


class ApiLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            language = translation.get_language_from_request(request, check_path=False)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        refused = refuse_unreadable(request)
        if refused is not None:
            return refused
        return self.get_response(request)
