"""django-q2 entry points: thin wrappers over services (imported inside, to keep import cycles away)."""


def plan_execute_task(plan_id: int) -> None:
    from reports.services import plan_execute

    plan_execute(plan_id)
