"""Bulk writes of millions of rows inside one transaction."""


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
