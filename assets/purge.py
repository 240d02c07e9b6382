"""Deleting assets outright, set-based: only for data that was never real (a generated demo region before it
is generated again). A real asset is retired (`assets.services.asset_retire`), never deleted."""

from assets.history import forget_changes
from assets.kinds import KINDS
from assets.models import Asset, ExternalId, SewerPipe
from core.bulk import delete_where_in

__all__ = ["purge_assets"]

# The references a pipe holds to other assets; they outlive the asset they name.
PIPE_REFERENCES = ("upstream_manhole", "downstream_manhole", "road_segment")


def purge_assets(assets) -> int:
    """Delete the assets of a queryset with their details and history, one statement per table; pipes that
    named one of them as manhole or road above forget it. The apps built on the registry purge what they keep
    for these assets first (their deferred foreign keys refuse the commit otherwise). Returns how many went."""
    # One detail table may serve several kinds (RoadStructure: tunnels, sheds, overpasses, gantry signs).
    for model in dict.fromkeys(spec.detail_model for spec in KINDS.values()):
        delete_where_in(model, "asset", assets)
    delete_where_in(ExternalId, "asset", assets)  # another system's ids for them (xROAD)
    ids = assets.order_by().values("pk")
    for field in PIPE_REFERENCES:
        SewerPipe.objects.filter(**{f"{field}__in": ids}).update(**{field: None})
    forget_changes(assets)
    return delete_where_in(Asset, "pk", assets)
