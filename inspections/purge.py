"""What inspections keeps for assets deleted outright (a generated region before it is generated again):
conditions, measures, inspections with their photos, and the history of each. Set-based: one statement per
table, whatever the number of assets."""

from django.db import transaction

from assets.history import forget_changes
from core.bulk import delete_where_in
from inspections.models import AssetCondition, Inspection, InspectionPhoto, Measure

__all__ = ["purge_for_assets"]


def purge_for_assets(assets) -> dict[str, int]:
    """Delete everything this app keeps for the assets of a queryset; photo files go once the transaction
    commits (a rollback keeps them with their rows). Returns the rows deleted per model."""
    inspections = Inspection.objects.filter(asset__in=assets)
    measures = Measure.objects.filter(asset__in=assets)
    photos = list(InspectionPhoto.objects.filter(inspection__in=inspections).only("image", "thumbnail"))
    done = {"conditions": delete_where_in(AssetCondition, "asset", assets)}
    forget_changes(measures)
    done["measures"] = delete_where_in(Measure, "asset", assets)
    done["photos"] = delete_where_in(InspectionPhoto, "inspection", inspections)
    forget_changes(inspections)
    done["inspections"] = delete_where_in(Inspection, "asset", assets)
    files = [f for p in photos for f in (p.image, p.thumbnail)]
    if files:
        transaction.on_commit(lambda: [f.delete(save=False) for f in files])
    return done
