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

def _instant(text: str, end: bool) -> datetime.datetime | None:
    if text in ("", ".."):
        return None
    dt = parse_datetime(text.replace("z", "Z"))
    if dt is None:
        d = parse_date(text)
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
    if prop.format == "date" and parse_date(raw) is None:
        raise OgcError(f"{prop.name}: a date YYYY-MM-DD, got {raw!r}")
    if prop.choices and raw not in {c for c, _ in prop.choices}:
        raise OgcError(f"{prop.name}: one of {', '.join(c for c, _ in prop.choices)}, got {raw!r}")
    return raw


def _attributes(node):
    """Every property name a CQL2 expression refers to (pygeofilter's Django backend would pass an unknown name
    through as an ORM path, so they are checked against the queryables first)."""
    from pygeofilter import ast

    if isinstance(node, ast.Attribute):
        yield node.name
    if isinstance(node, ast.Node):
        for sub in node.get_sub_nodes():
            yield from _attributes(sub)
    elif isinstance(node, list | tuple):
        for sub in node:
            yield from _attributes(sub)


def _cql2_filter(text: str, lang: str | None, collection: Collection) -> Q:
    from pygeofilter.backends.django import to_filter
    from pygeofilter.parsers.cql2_json import parse as parse_json
    from pygeofilter.parsers.cql2_text import parse as parse_text

    # GDAL before 3.7 names the text encoding of the drafts "cql-text": the same grammar for what it sends.
    lang = {"cql-text": "cql2-text", "cql-json": "cql2-json"}.get(lang or "", lang) or "cql2-text"
    if lang not in FILTER_LANGS:
        raise OgcError(f"filter-lang: one of {', '.join(FILTER_LANGS)}, got {lang!r}")
    try:
        ast_ = parse_json(json.loads(text)) if lang == "cql2-json" else parse_text(text)
    except Exception as exc:  # lark and json raise many kinds; every one is the client's filter
        raise OgcError(f"filter: not valid {lang}: {str(exc).splitlines()[0][:200]}") from None
    mapping = collection.mapping
    unknown = sorted({a for a in _attributes(ast_) if a not in mapping})
    if unknown:
        raise OgcError(f"filter: unknown properties {', '.join(unknown)}; queryables: {', '.join(mapping)}")
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
