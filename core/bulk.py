"""Bulk writes (and purges) of millions of rows inside one transaction, and the clock that times their steps."""

import gc
import time
from contextlib import contextmanager

from django.db import connection


class Clock:
    """Named laps, in seconds, for the step timings that bulk jobs report."""

    def __init__(self):
        self.t = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.t, 2)
        self.t = now


def bulk_mode(cur) -> bool:
    """Skip per-row foreign-key triggers for the current transaction when the role may (a superuser).
    Callers then check integrity set-based before commit: per-row checks of millions of rows cost more than
    the COPY itself. Returns whether bulk mode is on."""
    cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if not cur.fetchone()[0]:
        return False
    cur.execute("SET LOCAL session_replication_role = replica")
    cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
    return True


@contextmanager
def without_cycle_collection():
    """Python's cyclic garbage collector paused for a block that builds millions of small acyclic objects (a
    ledger's cells): each collection walks every object alive, so a 100,000-row file triggered hundreds of them,
    a third of the time spent reading it. Reference counting still frees everything as usual; the collector is
    on again afterwards (if it was on), and nested blocks leave it as they found it."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


@contextmanager
def references_checked_here(cur):
    """`bulk_mode` for a part of a transaction: the per-row foreign-key triggers are off inside the block (when
    the role may) and on again after it, so what the transaction writes later is checked as usual. Yields
    whether they are off. The caller guarantees every reference written inside the block, set-based: each is
    either a row written in this transaction or a row it locked FOR KEY SHARE, as the trigger would have (so a
    concurrent delete of the referenced row waits for the commit, or fails, exactly as with the trigger)."""
    off = bulk_mode(cur)
    yield off
    # Not in a `finally`: after an error the transaction is rolled back, and SET LOCAL with it.
    if off:
        cur.execute("SET LOCAL session_replication_role = origin")


def delete_where_in(model, field: str, rows) -> int:
    """DELETE FROM `model`'s table WHERE `field` (a foreign key, or "pk") IN the primary keys of `rows` (a
    queryset): one statement however many rows go, for the app that owns `model` to purge what it keeps for a
    set of rows (a region's generated assets, say). Django's own `delete()` would load every row to emulate
    on_delete in Python. Cascades are the caller's: it purges the referencing tables first (the deferred
    foreign keys refuse the commit otherwise). Returns the number of rows deleted."""
    meta = model._meta
    column = meta.pk.column if field == "pk" else meta.get_field(field).column
    qn = connection.ops.quote_name
    sql, params = rows.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {qn(meta.db_table)} WHERE {qn(column)} IN ({sql})", params)
        return cur.rowcount
