"""The two ways to sign in to the APIs (config.api's /api/v1/ and ogc.api's /ogc/): a ledger system's Bearer
token and a person's session. Each resolves who is asking once per request, onto `request.principal`, which
handlers read through access.principal_of."""

from ninja.security import HttpBearer, SessionAuth

from assets.models import ApiToken

__all__ = ["PersonAuth", "TokenAuth", "api_auth"]


class TokenAuth(HttpBearer):
    """Ledger systems and GIS clients: `Authorization: Bearer gm_…`, a token bound to one municipality and one
    source."""

    def authenticate(self, request, token):
        found = ApiToken.authenticate(token)
        if found is not None:
            request.principal = found
        return found


class PersonAuth(SessionAuth):
    """People: the signed-in session (with Django's CSRF check for unsafe methods)."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None:
            request.principal = user
        return user


def api_auth() -> list:
    """The `auth` of a NinjaAPI: a token first, then the session."""
    return [TokenAuth(), PersonAuth()]
