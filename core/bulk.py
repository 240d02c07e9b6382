"""Bulk writes of millions of rows inside one transaction, and the clock that times their steps."""

import time


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
