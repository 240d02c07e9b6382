from inspections.models.catalogue import Grade, GradingScheme, RecordType
from inspections.models.condition import AssetCondition
from inspections.models.inspection import Inspection, InspectionPhoto, Method

__all__ = ["AssetCondition", "Grade", "GradingScheme", "Inspection", "InspectionPhoto", "Method", "RecordType"]
