from assets.models.access import ApiToken, Membership, Role
from assets.models.asset import Asset, AssetSerial, AssetStatus, Kind
from assets.models.details import Bridge, Manhole, RoadSegment, RoadStructure, SepticTank, SewerPipe, SewerPlanArea
from assets.models.external import ExternalId, ExternalSystem
from assets.models.history import ChangeRecord, Via
from assets.models.municipality import Municipality, MunicipalityKind, Region

__all__ = [
    "ApiToken",
    "Asset",
    "AssetSerial",
    "AssetStatus",
    "Bridge",
    "ChangeRecord",
    "ExternalId",
    "ExternalSystem",
    "Kind",
    "Manhole",
    "Membership",
    "Municipality",
    "MunicipalityKind",
    "Region",
    "RoadSegment",
    "RoadStructure",
    "Role",
    "SepticTank",
    "SewerPipe",
    "SewerPlanArea",
    "Via",
]
