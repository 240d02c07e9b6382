from django.core.exceptions import PermissionDenied, ValidationError
from ninja import NinjaAPI

from assets.api import router as assets_router
from assets.api_auth import api_auth
from assets.services import VersionConflict
from clusters.api import router as clusters_router
from inspections.api import router as inspections_router
from inspections.asset_api import router as asset_lists_router
from inspections.measure_api import router as measures_router
from ledger.api import router as ledger_router
from ledger.importer import ImportBusy
from reports.api import router as reports_router

api = NinjaAPI(title="群マネ API", version="1", auth=api_auth(), urls_namespace="api")
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
