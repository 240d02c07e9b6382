"""What the registry tells the apps built on it. The registry never imports them: an app that keeps state per
asset (inspections' condition table, say) connects a receiver in its AppConfig.ready().

`assets_changed` is sent inside the writing transaction, after the rows are written, so a receiver's own
writes commit or roll back with them. Arguments:
- `change`: one of Change (created, updated, retired, imported); `created` promises the assets are new in this
  transaction, so nothing is recorded for them yet (a receiver may skip looking for it);
- `asset_ids`: the ids written (sorted, distinct), an `IdTable` (a bulk writer's ids kept in a temporary table
  of its transaction rather than sent to Python and back), or None for "every asset from `min_asset_id` on"
  (bulk loads);
- `min_asset_id`: with asset_ids=None, the first id of a bulk load (None: the whole registry).

`reference_data_loaded` is sent by `manage.py load_reference_data` inside its transaction, after the
municipalities and regions: an app with reference data of its own (inspections' grading catalogue) loads it then
and returns a few words saying what it loaded, which the command prints."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import TextChoices
from django.dispatch import Signal

__all__ = ["Change", "IdTable", "assets_changed", "notify", "reference_data_loaded"]

assets_changed = Signal()
reference_data_loaded = Signal()


class Change(TextChoices):
    CREATED = "created"
    UPDATED = "updated"
    RETIRED = "retired"
    IMPORTED = "imported"


@dataclass(frozen=True)
class IdTable:
    """Asset ids held in a temporary table of the current transaction: `column` of `table`, with a unique index on
    it and the table analyzed, so a receiver's statements join it with its statistics and, whatever plan they
    get, look an id up rather than scan the table again; `count` of them, from `lo` to `hi`. Iterating reads
    them (sorted), for a receiver that wants them in Python."""

    table: str
    column: str
    count: int
    lo: int | None
    hi: int | None

    @classmethod
    def of(cls, table: str, column: str) -> "IdTable":
        with connection.cursor() as cur:
            cur.execute(f"SELECT count(*), min({column}), max({column}) FROM {table}")
            return cls(table, column, *cur.fetchone())

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        with connection.cursor() as cur:
            cur.execute(f"SELECT {self.column} FROM {self.table} ORDER BY 1")
            return iter([r[0] for r in cur.fetchall()])


def notify(change: str, asset_ids=None, *, min_asset_id: int | None = None, sender=None) -> None:
    ids = asset_ids if asset_ids is None or isinstance(asset_ids, IdTable) else sorted(set(asset_ids))
    if ids is not None and not len(ids):
        return
    assets_changed.send(sender=sender or notify, change=Change(change), asset_ids=ids, min_asset_id=min_asset_id)
