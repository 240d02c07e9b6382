"""django-q2 entry points: thin wrappers over services (imported inside, to keep import cycles away)."""


def ledger_import_task(import_id: int) -> None:
    from ledger.imports import import_execute

    import_execute(import_id)
