from assets.models import Municipality
from core.queries import narrowed


def lookups(qs):
    return sorted((c.lhs.target.name, c.lookup_name, c.rhs) for c in qs.query.where.children)


def test_narrowed_applies_only_the_filters_asked_for():
    qs = Municipality.objects.all()
    assert narrowed(qs, code=None, name="") is qs
    assert lookups(narrowed(qs, code=None, name="", kind="city", population=0, population__gte=None)) == [
        ("kind", "exact", "city"), ("population", "exact", 0)]
    assert lookups(narrowed(qs, valid_to__isnull=False)) == [("valid_to", "isnull", False)]
