"""What the registry tells the apps built on it. The registry never imports them: an app that keeps state per
asset (inspections' condition table, say) connects a receiver in its AppConfig.ready().

`assets_changed` is sent inside the writing transaction, after the rows are written, so a receiver's own
writes commit or roll back with them. Arguments:
- `change`: one of Change (created, updated, retired, imported); `created` promises the assets are new in this
  transaction, so nothing is recorded for them yet (a receiver may skip looking for it);
- `asset_ids`: the ids written, or None for "every asset from `min_asset_id` on" (bulk loads);
- `min_asset_id`: with asset_ids=None, the first id of a bulk load (None: the whole registry).

`reference_data_loaded` is sent by `manage.py load_reference_data` inside its transaction, after the
municipalities and regions: an app with reference data of its own (inspections' grading catalogue) loads it then
and returns a few words saying what it loaded, which the command prints."""

from django.db.models import TextChoices
from django.dispatch import Signal

__all__ = ["Change", "assets_changed", "notify", "reference_data_loaded"]

assets_changed = Signal()
reference_data_loaded = Signal()


class Change(TextChoices):
    CREATED = "created"
    UPDATED = "updated"
    RETIRED = "retired"
    IMPORTED = "imported"


def notify(change: str, asset_ids=None, *, min_asset_id: int | None = None, sender=None) -> None:
    ids = None if asset_ids is None else sorted(set(asset_ids))
    if ids == []:
        return
    assets_changed.send(sender=sender or notify, change=Change(change), asset_ids=ids, min_asset_id=min_asset_id)
