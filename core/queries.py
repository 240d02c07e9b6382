"""Small query helpers every app's selectors share."""

from django.db.models import QuerySet

__all__ = ["narrowed"]


def narrowed(qs: QuerySet, **lookups) -> QuerySet:
    """`qs` filtered by each lookup whose value was given. None and "" mean "not asked for"; False, 0 and an
    empty list are asked for. Selectors take their optional filters this way, one line a filter."""
    given = {k: v for k, v in lookups.items() if v is not None and not (isinstance(v, str) and v == "")}
    return qs.filter(**given) if given else qs
