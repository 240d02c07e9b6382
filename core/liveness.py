"""Is the process that runs a job still alive? Its owner holds a session-level PostgreSQL advisory lock on
(kind, id) for as long as it works: the lock goes with the owner's connection, so a killed worker or `rank`
(SIGKILL, OOM, a lost machine) frees it at once. Anyone may then find a 'running' job whose lock is free and mark
it failed, instead of waiting hours for a timeout (core.jobs does that)."""

import contextlib

from django.db import connection


def try_hold(kind: int, pk: int) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [kind, pk])
        return bool(cur.fetchone()[0])


def release(kind: int, pk: int) -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_unlock(%s, %s)", [kind, pk])


@contextlib.contextmanager
def owning(kind: int, pk: int):
    """Hold the job's lock while the body runs; yields False (and holds nothing) if someone else owns it."""
    if not try_hold(kind, pk):
        yield False
        return
    try:
        yield True
    finally:
        with contextlib.suppress(Exception):  # the connection may be gone; its lock went with it
            release(kind, pk)

