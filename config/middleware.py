"""The API is not under a language prefix: it answers in the language the client asks for (Accept-Language),
Japanese by default, where the pages follow their URL prefix."""

from django.utils import translation


class ApiLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            language = translation.get_language_from_request(request, check_path=False)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
