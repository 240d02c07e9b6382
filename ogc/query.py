"""Items of a collection: the request's filters (bbox, datetime, property=value, CQL2 text/JSON) on the scoped
queryset, a keyset page (`after` = the last record number seen, never OFFSET) and GeoJSON written set-based:
one query writes the page's features in PostgreSQL (core.jsonsql: row_to_json of the properties, the geometry as
ST_AsGeoJSON, transformed and axis-flipped in SQL), so nothing runs per feature in Python."""

import datetime
import functools
import json

from django.contrib.gis.db.models.functions import AsGeoJSON, GeomOutputGeoFunc, Transform
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import F, Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime

from core.jsonsql import Page, UtcTimestamp, json_page
from ogc.collections import Collection, Prop
from ogc.crs import CRS84, STORAGE_SRID, Crs, OgcError, parse_bbox, parse_crs

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# numberMatched is counted up to this many; beyond it the count would cost more than the page, so it is left out
# (the standard allows omitting it): a 1,000-feature bbox page is counted, a whole municipality is not.
COUNT_CAP = 10_000
RESERVED = {"limit", "after", "bbox", "bbox-crs", "crs", "datetime", "filter", "filter-lang", "filter-crs", "f"}
FILTER_LANGS = ("cql2-text", "cql2-json")


class FlipCoordinates(GeomOutputGeoFunc):
    function = "ST_FlipCoordinates"
    arity = 1


def _dump(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


# --- filters ---------------------------------------------------------------------------------------------------

def _parsed(parse, text: str):
    """Django's parse_date/parse_datetime, with a well-formed but impossible date (2024-02-30, year 0) as None:
    they raise ValueError for those, which would otherwise surface as a 500."""
    try:
        return parse(text)
    except ValueError:
        return None


def _instant(text: str, end: bool) -> datetime.datetime | None:
    if text in ("", ".."):
        return None
    dt = _parsed(parse_datetime, text.replace("z", "Z"))
    if dt is None:
        d = _parsed(parse_date, text)
        if d is None:
            raise OgcError(f"datetime: an RFC 3339 date-time, a date or an interval a/b (open with ..), got {text!r}")
        dt = datetime.datetime.combine(d, datetime.time.max if end else datetime.time.min)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.UTC)
    return dt


def _datetime_filter(value: str, prop: Prop) -> Q:
    if "/" in value:
        start_s, end_s = value.split("/", 1)
        start, end = _instant(start_s, False), _instant(end_s, True)
    else:
        start, end = _instant(value, False), _instant(value, True)
        if start is None:
            raise OgcError("datetime: '..' needs an interval, e.g. ../2024-12-31")
    as_date = prop.format == "date"
    q = Q()
    if start is not None:
        q &= Q(**{f"{prop.path}__gte": start.date() if as_date else start})
    if end is not None:
        q &= Q(**{f"{prop.path}__lte": end.date() if as_date else end})
    return q


def _typed(prop: Prop, raw: str):
    try:
        if prop.type == "integer":
            return int(raw)
        if prop.type == "number":
            return float(raw)
    except ValueError:
        raise OgcError(f"{prop.name}: a {prop.type}, got {raw!r}") from None
    if prop.type == "boolean":
        if raw.lower() not in ("true", "false", "1", "0"):
            raise OgcError(f"{prop.name}: true or false, got {raw!r}")
        return raw.lower() in ("true", "1")
    if prop.format == "date" and _parsed(parse_date, raw) is None:
        raise OgcError(f"{prop.name}: a date YYYY-MM-DD, got {raw!r}")
    if prop.choices and raw not in {c for c, _ in prop.choices}:
        raise OgcError(f"{prop.name}: one of {', '.join(c for c, _ in prop.choices)}, got {raw!r}")
    return raw


# Bounds on a CQL2 filter, so that a crafted one is a 400 rather than a deep recursion (Django compiles nested
# conditions recursively; `a AND b AND …` nests one level per term) or seconds of parsing. GDAL and QGIS send a
# few terms; a GET's query string is also bounded by the server (gunicorn: 4,094 bytes a request line).
MAX_FILTER_CHARS = 20_000
MAX_FILTER_DEPTH = 100
MAX_FILTER_NODES = 5_000


def _nodes(root):
    """(node, depth) for every node and literal of a CQL2 expression, iteratively (a deep one must not exhaust
    the stack here), stopping with a 400 past MAX_FILTER_DEPTH or MAX_FILTER_NODES."""
    from pygeofilter import ast

    stack, count = [(root, 1)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_FILTER_DEPTH or count > MAX_FILTER_NODES:
            raise OgcError(f"filter: nested more than {MAX_FILTER_DEPTH} levels or more than "
                           f"{MAX_FILTER_NODES:,} terms; split it into simpler requests")
        yield node, depth
        if isinstance(node, ast.Node):
            stack.extend((sub, depth + 1) for sub in node.get_sub_nodes())
        elif isinstance(node, list | tuple):
            stack.extend((sub, depth + 1) for sub in node)


def _compared(node) -> tuple[object, list] | None:
    """(attribute side, literal values) of a scalar predicate, or None for the other kinds."""
    from pygeofilter import ast

    if isinstance(node, ast.Comparison):
        if isinstance(node.rhs, ast.Attribute) and not isinstance(node.lhs, ast.Node):
            return node.rhs, [node.lhs]
        return node.lhs, [node.rhs]
    if isinstance(node, ast.Between):
        return node.lhs, [node.low, node.high]
    if isinstance(node, ast.In):
        return node.lhs, list(node.sub_nodes)
    if isinstance(node, ast.Like):
        return node.lhs, [node.pattern]
    return None


def _literal_fits(prop: Prop, value) -> bool:
    """Whether the database can compare the property with this literal (a mismatch is a DataError there)."""
    import math

    if isinstance(value, bool):
        return prop.type == "boolean"
    if prop.format in ("date", "date-time"):
        if isinstance(value, datetime.date):
            return True
        return isinstance(value, str) and (_parsed(parse_date, value) or _parsed(parse_datetime, value)) is not None
    if prop.type in ("integer", "number"):
        return isinstance(value, int | float) and math.isfinite(value)
    if prop.type == "string":
        return isinstance(value, str)
    return prop.type != "boolean"  # a boolean compared with anything but true/false


def _check_cql2(root, collection: Collection) -> None:
    """The expression is a condition, names only queryables, compares each with a literal of its type, holds no
    NUL (PostgreSQL text cannot) and stays within the bounds above; else a 400 saying which."""
    from pygeofilter import ast

    if not isinstance(root, ast.Condition | ast.Predicate):
        raise OgcError(f"filter: a CQL2 condition such as name = 'x' or diameter_mm > 300, got {root!r}"[:300])
    mapping = collection.mapping
    unknown = set()
    for node, _depth in _nodes(root):
        if isinstance(node, ast.Attribute) and node.name not in mapping:
            unknown.add(node.name)
        elif isinstance(node, str) and "\x00" in node:
            raise OgcError("filter: a text value contains a NUL character")
        pair = _compared(node)
        if pair is None or not isinstance(pair[0], ast.Attribute):
            continue
        prop = collection.prop(pair[0].name)
        if prop is None:
            continue
        if isinstance(node, ast.Like) and prop.type != "string":
            raise OgcError(f"filter: LIKE compares text; {prop.name} is {prop.type}")
        for value in pair[1]:
            if not isinstance(value, ast.Node) and not _literal_fits(prop, value):
                kind = prop.format or prop.type
                raise OgcError(f"filter: {prop.name} is {kind}; {value!r} is not"[:300])
    if unknown:
        raise OgcError(f"filter: unknown properties {', '.join(sorted(unknown))}; queryables: {', '.join(mapping)}")


def _cql2_filter(text: str, lang: str | None, collection: Collection) -> Q:
    from pygeofilter.backends.django import to_filter
    from pygeofilter.parsers.cql2_json import parse as parse_json
    from pygeofilter.parsers.cql2_text import parse as parse_text

    # GDAL before 3.7 names the text encoding of the drafts "cql-text": the same grammar for what it sends.
    lang = {"cql-text": "cql2-text", "cql-json": "cql2-json"}.get(lang or "", lang) or "cql2-text"
    if lang not in FILTER_LANGS:
        raise OgcError(f"filter-lang: one of {', '.join(FILTER_LANGS)}, got {lang!r}")
    if len(text) > MAX_FILTER_CHARS:
        raise OgcError(f"filter: {len(text):,} characters; at most {MAX_FILTER_CHARS:,}")
    try:
        ast_ = parse_json(json.loads(text)) if lang == "cql2-json" else parse_text(text)
    except Exception as exc:  # lark and json raise many kinds; every one is the client's filter
        raise OgcError(f"filter: not valid {lang}: {(str(exc).splitlines() or [type(exc).__name__])[0][:200]}") \
            from None
    _check_cql2(ast_, collection)
    mapping = collection.mapping
    try:
        return to_filter(ast_, mapping)
    except Exception as exc:
        raise OgcError(f"filter: not supported: {str(exc)[:200]}") from None


def filtered(collection: Collection, qs: QuerySet, params) -> tuple[QuerySet, bool]:
    """The collection's records the request's filters select, and whether any filter narrowed them."""
    narrowed = False
    if params.get("bbox"):
        box = parse_bbox(params["bbox"], parse_crs(params.get("bbox-crs"), "bbox-crs"))
        qs = qs.filter(**{f"{collection.geom_path}__intersects": box})
        narrowed = True
    if params.get("datetime"):
        qs = qs.filter(_datetime_filter(params["datetime"], collection.prop(collection.temporal)))
        narrowed = True
    for key in params:
        if key in RESERVED:
            continue
        prop = collection.prop(key)
        if prop is None:
            raise OgcError(f"unknown parameter {key!r}; allowed: {', '.join(sorted(RESERVED))} and the "
                           f"queryables {', '.join(p.name for p in collection.props)}")
        qs = qs.filter(**{prop.path: _typed(prop, params[key])})
        narrowed = True
    if params.get("filter"):
        filter_crs = params.get("filter-crs")
        if filter_crs and parse_crs(filter_crs, "filter-crs").uri != CRS84:
            raise OgcError(f"filter-crs: only {CRS84} (lon/lat)")
        qs = qs.filter(_cql2_filter(params["filter"], params.get("filter-lang"), collection))
        narrowed = True
    return qs, narrowed


# --- output ----------------------------------------------------------------------------------------------------

def _geometry(collection: Collection, crs: Crs):
    expr = F(collection.geom_path)
    if crs.srid != STORAGE_SRID:
        expr = Transform(collection.geom_path, crs.srid)
    if crs.north_first:
        expr = FlipCoordinates(expr)
    return AsGeoJSON(expr, precision=crs.precision)


def _columns(collection: Collection) -> dict:
    """The collection's properties as SQL columns (core.jsonsql), then a `<name>_label` for each coded one: the
    code's label in the request's language (a CASE over its choices), an unknown code as itself. Built once per
    collection and language (the same expressions each time, so core.jsonsql's compiled SQL is found cheaply)."""
    from django.utils import translation

    return _columns_in(collection.id, translation.get_language())


@functools.lru_cache(maxsize=64)
def _columns_in(collection_id: str, language: str | None) -> dict:
    from django.db.models import Case as SqlCase
    from django.db.models import CharField, Value, When
    from django.db.models.functions import Cast

    from ogc.collections import get

    collection = get(collection_id)
    # Date-times as before (DjangoJSONEncoder: UTC, milliseconds, Z); dates, numbers and text as to_json writes them.
    columns = {p.name: UtcTimestamp(p.path) if p.format == "date-time" else p.path for p in collection.props}
    for p in collection.props:
        if p.choices:
            columns[f"{p.name}_label"] = SqlCase(*[When(**{p.path: code}, then=Value(str(label)))
                                                   for code, label in p.choices],
                                                 default=Cast(F(p.path), CharField()), output_field=CharField())
    return columns


def features(collection: Collection, qs: QuerySet, crs: Crs, *, limit: int, after: int | None = None,
             count_cap: int | None = None) -> Page:
    """A keyset page of GeoJSON features written by PostgreSQL in one query (core.jsonsql): `items` their text,
    `last` the record number to continue after (None on the last page), `matched` counted up to `count_cap`."""
    return json_page(qs, _columns(collection), limit=limit, after=after, feature_id=collection.id_path,
                     geometry=_geometry(collection, crs), count_cap=count_cap)


def dump(value) -> str:
    return _dump(value)
