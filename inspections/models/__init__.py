from inspections.models.catalogue import Grade, GradingScheme, MemberKind, RecordType
from inspections.models.condition import AssetCondition
from inspections.models.inspection import Inspection, InspectionPhoto, Method
from inspections.models.measure import Effect, Measure, MeasureKind

__all__ = ["AssetCondition", "Effect", "Grade", "GradingScheme", "Inspection", "InspectionPhoto", "Measure", "MeasureKind",
           "MemberKind", "Method", "RecordType"]
