from django.core.exceptions import PermissionDenied, ValidationError
from ninja import NinjaAPI
from ninja.security import HttpBearer, SessionAuth

from assets.api import router as assets_router
from assets.models import ApiToken
from assets.services import VersionConflict
from clusters.api import router as clusters_router
from inspections.api import router as inspections_router
from inspections.asset_api import router as asset_lists_router
from inspections.measure_api import router as measures_router
from ledger.api import router as ledger_router
from ledger.importer import ImportBusy
from reports.api import router as reports_router


class TokenAuth(HttpBearer):
    """Ledger systems: `Authorization: Bearer gm_…`, a token bound to one municipality and one source."""

    def authenticate(self, request, token):
        found = ApiToken.authenticate(token)
        if found is not None:
            # Who is asking is resolved here, once per request; handlers read it via access.principal_of.
            request.principal = found
        return found


class PersonAuth(SessionAuth):
    """People: the signed-in session (with Django's CSRF check for unsafe methods)."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None:
            request.principal = user
        return user


api = NinjaAPI(title="群マネ API", version="1", auth=[TokenAuth(), PersonAuth()], urls_namespace="api")
# Before the asset router: its /assets/{global_id} would otherwise take /assets/near.
api.add_router("/", asset_lists_router)
api.add_router("/", assets_router)
api.add_router("/", ledger_router)
api.add_router("/", inspections_router)
api.add_router("/", measures_router)
api.add_router("/", clusters_router)
api.add_router("/", reports_router)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": "invalid", "errors": errors}, status=422)


@api.exception_handler(ImportBusy)
def import_busy(request, exc: ImportBusy):
    # A concurrent import of the same ledger got in the way and nothing was written: try again (409).
    return api.create_response(request, {"detail": " ".join(exc.messages), "errors": exc.message_dict}, status=409)


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return api.create_response(request, {"detail": str(exc) or "forbidden"}, status=403)


@api.exception_handler(VersionConflict)
def version_conflict(request, exc: VersionConflict):
    return api.create_response(request, {"detail": str(exc), "version": exc.current}, status=409)
