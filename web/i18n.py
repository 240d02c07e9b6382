"""The language switch. Django's set_language translates `next` by resolving it in the language of the
request, which here is the one being left: /en/x resolved as Japanese is no page, so it sent the person back
to /en/x (and English again). Here the language prefix is swapped by rule instead: /en/x ↔ /x (Japanese, the
default language, has no prefix)."""

from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language


def _prefixes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def switch_path(path: str, language: str) -> str:
    """`path` (with query) as it reads in `language`: /en/assets/?q=1 → /assets/?q=1 for ja, and back."""
    parts = urlsplit(path or "/")
    bare = parts.path or "/"
    for code in _prefixes():
        if bare == f"/{code}" or bare.startswith(f"/{code}/"):
            bare = bare[len(code) + 1:] or "/"
            break
    if language != settings.LANGUAGE_CODE and language in dict(settings.LANGUAGES):
        bare = f"/{language}{bare}"
    return urlunsplit(("", "", bare, parts.query, ""))


@require_POST
def set_language(request):
    """Django's view (cookie, safe-URL check) with `next` already in the chosen language."""
    language = request.POST.get("language", "")
    post = request.POST.copy()
    nxt = post.get("next") or request.META.get("HTTP_REFERER", "")
    if nxt:
        # Only a local path is rewritten; anything else goes to Django's check (and is refused there).
        parts = urlsplit(nxt)
        if not parts.scheme and not parts.netloc and nxt.startswith("/") and not nxt.startswith("//"):
            post["next"] = switch_path(nxt, language)
    request.POST = post
    return django_set_language(request)
