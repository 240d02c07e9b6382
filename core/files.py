"""Stored files (inspection photos, plan PDFs) leave the server only through views that have checked the
record's scope; this is how such a view hands the bytes over.

FILES_SERVE_MODE "django" streams the file from the app; "x-accel" answers with an X-Accel-Redirect to
FILES_INTERNAL_URL (an nginx `internal` location aliased to MEDIA_ROOT), "x-sendfile" with X-Sendfile (Apache
mod_xsendfile, lighttpd): the web server then sends the bytes and the app only decides who may have them."""

import mimetypes
from pathlib import PurePosixPath
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header


def stored_file_response(field_file, *, filename: str | None = None, as_attachment: bool = False,
                         content_type: str | None = None) -> HttpResponse:
    if not field_file or not field_file.name:
        raise Http404
    storage_name = field_file.name
    # Stored names come from our own upload_to, but a path that climbs out of MEDIA_ROOT is never served.
    if ".." in PurePosixPath(storage_name).parts or storage_name.startswith("/"):
        raise Http404
    filename = filename or PurePosixPath(storage_name).name
    content_type = content_type or mimetypes.guess_type(storage_name)[0] or "application/octet-stream"
    mode = getattr(settings, "FILES_SERVE_MODE", "django")
    if mode == "django":
        try:
            handle = field_file.storage.open(storage_name, "rb")
        except FileNotFoundError:
            raise Http404 from None
        response = FileResponse(handle, content_type=content_type, as_attachment=as_attachment, filename=filename)
    else:
        if not field_file.storage.exists(storage_name):
            raise Http404
        response = HttpResponse(content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
        if mode == "x-accel":
            response["X-Accel-Redirect"] = settings.FILES_INTERNAL_URL.rstrip("/") + "/" + quote(storage_name)
        else:
            response["X-Sendfile"] = str(field_file.storage.path(storage_name))
    # Files behind a sign-in: no shared cache may keep them, and no page may frame or sniff them.
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response
