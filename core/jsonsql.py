"""JSON written by PostgreSQL: a keyset page of records as JSON objects or GeoJSON features, built in one
query around the queryset's own SQL, so a list hands the database's text to the client without a model instance,
a GEOS geometry or a schema validation per record (issue 17: those cost ~0.7 s for a 1,000-feature page).

The queryset decides what is seen (scope and filters stay the selectors'): its SQL picks the page's keys. The
output columns are ORM paths or expressions, compiled once per process into a query of one row of the model (Django
still makes every join) that each of the page's keys looks up (LATERAL); around that, `row_to_json` writes each object with
the column names as keys (compact, in the given order), ST_AsGeoJSON's text goes in as is (a `Raw` column), and
`string_agg` joins the page into one text. One round trip per page, the count of matches (capped) included."""

import functools
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import CharField, Expression, F, Func, QuerySet
from django.db.models.expressions import RawSQL

__all__ = ["Page", "Raw", "UtcTimestamp", "json_object", "json_page"]


class Raw:
    """An output column whose SQL text is already JSON (ST_AsGeoJSON): embedded, not quoted as a string."""

    def __init__(self, expression: Expression):
        self.expression = expression

    def __eq__(self, other):
        return isinstance(other, Raw) and other.expression == self.expression

    def __hash__(self):
        return hash(("raw", self.expression))


class UtcTimestamp(Func):
    """A timestamp as Django's JSON encoder writes it (UTC, milliseconds, Z): `2024-05-01T03:04:05.123Z`."""

    template = """to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""
    output_field = CharField()


@dataclass(frozen=True)
class Page:
    items: str  # the page's JSON objects joined by commas (wrap in [] for an array)
    returned: int
    # The key of the page's last object when more follow (the next page's `after`), else None.
    last: int | None
    # How many records the queryset holds, when asked and at most count_cap; None otherwise.
    matched: int | None

    @property
    def array(self) -> str:
        return "[" + self.items + "]"


def _expr(value):
    return F(value) if isinstance(value, str) else value


def _quoted(name: str) -> str:
    if '"' in name or "\x00" in name:
        raise ValueError(f"not a column name: {name!r}")
    return f'"{name}"'


@functools.lru_cache(maxsize=512)
def _rows(model, columns: tuple, feature_id, geometry) -> tuple[str, tuple, str]:
    """(SQL of every row of `model` with its output columns `_jc0…` (and `_jid`, `_jgeom`) and its key `_jrow`,
    its parameters, SQL writing row `m` as one JSON object). Compiled once per shape: composing it through the
    ORM costs more than running it for a page."""
    annotations = {f"_jc{n}": _expr(v.expression if isinstance(v, Raw) else v) for n, (_name, v) in enumerate(columns)}
    if feature_id is not None:
        annotations["_jid"] = _expr(feature_id)
        annotations["_jgeom"] = geometry
    # The page's key `k._jkey` (a LATERAL reference): each key is looked up by its primary key with its joins.
    # LIMIT 1 keeps the planner from pulling the sub-select up: past from_collapse_limit tables (a sewer pipe's
    # manholes and road) it would then build every row of the table and hash-join the page to them (4 s at 1M).
    rows = (model._base_manager.filter(pk=RawSQL("k._jkey", ())).annotate(_jrow=F("pk"), **annotations).order_by()
            .values_list("_jrow", *annotations)[:1])
    sql, params = rows.query.sql_with_params()
    selects = [f"m._jc{n}::json AS {_quoted(name)}" if isinstance(v, Raw) else f"m._jc{n} AS {_quoted(name)}"
               for n, (name, v) in enumerate(columns)]
    obj = f"(SELECT row_to_json(o) FROM (SELECT {', '.join(selects)}) o)::text"
    if feature_id is not None:
        obj = (f"""'{{"type":"Feature","id":' || to_json(m._jid)::text || ',"geometry":' || """
               f"""coalesce(m._jgeom::text, 'null') || ',"properties":' || {obj} || '}}'""")
    return sql, tuple(params), obj


def json_page(qs: QuerySet, columns: dict, *, limit: int, after=None, offset: int = 0, feature_id=None,
              geometry: Expression | None = None, count_cap: int | None = None) -> Page:
    """Up to `limit` records of `qs` after record number `after` (its pk), in pk order, as JSON objects of
    `columns` (name → ORM path, expression, or Raw(expression) for JSON text). With `feature_id` (path or
    expression) they are GeoJSON Features instead: id, `geometry` (an expression giving GeoJSON text, e.g.
    AsGeoJSON) and the columns as `properties`. `offset` skips records (after `after`). `count_cap`: also count
    the matches, up to that many (None above); a first page that holds them all is its own count."""
    keys = qs.filter(pk__gt=after) if after is not None else qs
    keys = keys.order_by("pk").values_list("pk")[offset:offset + limit + 1]
    try:
        inner, inner_params = keys.query.sql_with_params()
    except EmptyResultSet:  # qs.none(): nobody's scope, nothing to ask the database
        return Page(items="", returned=0, last=None, matched=None if count_cap is None else 0)
    rows, rows_params, obj = _rows(qs.model, tuple(columns.items()), feature_id, geometry)
    count_sql, count_params = "NULL::int", []
    if count_cap is not None:
        counted = qs.order_by().values("pk")[:count_cap + 1]
        sql, count_params = counted.query.sql_with_params()
        # An uncorrelated sub-select runs only when its value is needed (an InitPlan): not for a first page
        # that ends before `limit`, whose own length is the count.
        count_sql = f"(SELECT count(*)::int FROM ({sql}) c)"
        if after is None and offset == 0:
            count_sql = f"CASE WHEN count(*) <= %s THEN count(*)::int ELSE {count_sql} END"
            count_params = [limit, *count_params]
    # The page's keys numbered in order, joined to their rows; the one beyond `limit` only says that more follow.
    sql = (f"SELECT count(*)::int, max(k._jkey) FILTER (WHERE k._rn <= %s), "
           f"string_agg({obj}, ',' ORDER BY k._rn) FILTER (WHERE k._rn <= %s), {count_sql} "
           f"FROM (SELECT i._jkey, row_number() OVER (ORDER BY i._jkey) AS _rn FROM ({inner}) i(_jkey)) k "
           f"CROSS JOIN LATERAL ({rows}) m")
    with connections[keys.db].cursor() as cursor:
        cursor.execute(sql, [limit, limit, *count_params, *inner_params, *rows_params])
        n, last, items, matched = cursor.fetchone()
    return Page(items=items or "", returned=min(n, limit), last=last if n > limit else None,
                matched=matched if matched is not None and matched <= count_cap else None)


def json_object(qs: QuerySet, columns: dict, *, also: tuple[str, ...] = ()) -> tuple[str, tuple] | None:
    """The first record of `qs` as one JSON object of `columns` (as json_page writes them) and the values of the
    fields `also` (e.g. a version for an ETag), or None when there is none. One query."""
    keys = qs.order_by().values_list("pk", *also)[:1]
    try:
        inner, inner_params = keys.query.sql_with_params()
    except EmptyResultSet:
        return None
    rows, rows_params, obj = _rows(qs.model, tuple(columns.items()), None, None)
    extra = "".join(f", k._ja{n}" for n in range(len(also)))
    names = ", ".join(["_jkey", *(f"_ja{n}" for n in range(len(also)))])
    sql = f"SELECT {obj}{extra} FROM ({inner}) k({names}) CROSS JOIN LATERAL ({rows}) m"
    with connections[keys.db].cursor() as cursor:
        cursor.execute(sql, [*inner_params, *rows_params])
        row = cursor.fetchone()
    return None if row is None else (row[0], tuple(row[1:]))
