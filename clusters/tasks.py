"""django-q2 entry points: thin wrappers over services (imported inside, to keep import cycles away)."""


def run_execute_task(run_id: int) -> None:
    from clusters.services import run_execute

    run_execute(run_id)
