"""What the engine keeps for assets deleted outright (a generated region before it is generated again)."""

from clusters.models import AssetScore
from core.bulk import delete_where_in

__all__ = ["purge_for_assets"]


def purge_for_assets(assets) -> int:
    """Delete the scores of the assets of a queryset in every run, one statement. The runs and their lots stay
    as they were computed: they are history, and a newer run sees the region as it is now."""
    return delete_where_in(AssetScore, "asset", assets)
