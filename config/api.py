from django.core.exceptions import PermissionDenied, ValidationError
from ninja import NinjaAPI
from ninja.security import HttpBearer, django_auth

from assets.api import router as assets_router
from assets.ledger.api import router as ledger_router
from assets.models import ApiToken
from assets.services import VersionConflict
from clusters.api import router as clusters_router
from inspections.api import router as inspections_router
from reports.api import router as reports_router


class TokenAuth(HttpBearer):
    """Ledger systems: `Authorization: Bearer gm_…`, a token bound to one municipality and one source."""

    def authenticate(self, request, token):
        return ApiToken.authenticate(token)


api = NinjaAPI(title="群マネ API", version="1", auth=[TokenAuth(), django_auth], urls_namespace="api")
api.add_router("/", assets_router)
api.add_router("/", ledger_router)
api.add_router("/", inspections_router)
api.add_router("/", clusters_router)
api.add_router("/", reports_router)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": "invalid", "errors": errors}, status=422)


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return api.create_response(request, {"detail": str(exc) or "forbidden"}, status=403)


@api.exception_handler(VersionConflict)
def version_conflict(request, exc: VersionConflict):
    return api.create_response(request, {"detail": str(exc), "version": exc.current}, status=409)
