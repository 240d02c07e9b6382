"""Ledger import: read, map, parse and validate every record, then upsert by (owner, source, external id)
all or nothing. Set-based: one COPY into a staging table, checks and writes in SQL, no save per row.

Idempotent: a record whose values equal the stored ones changes nothing (and is counted as unchanged).
Columns absent from the file are left as they are. Every bad record is reported as
`Record N (line L) field: message` (the first MAX_ERRORS_SHOWN of them, with the total count); with any error,
or in a dry run, nothing is written.

Concurrent imports into the same (owner, source, kind) are serialized by a transaction-scoped advisory lock
taken before the file is compared with the registry, and the rows to be updated are locked before their
history is written: the second import waits, then compares with what the first one wrote."""

import datetime
import itertools
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import psycopg
import shapely
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from assets import access
from assets.codes import normalize_lg_code
from assets.geometry import JAPAN_BBOX, PLANE_LIMIT_M, PLANE_ZONES, check_lonlat, check_plane_xy
from assets.history import Action, Actor, record_changes
from assets.kinds import KINDS, spec_for
from assets.models import Asset, Municipality
from assets.services import allocate_serials
from assets.signals import Change, IdTable, notify
from core.bulk import references_checked_here, without_cycle_collection
from core.text import describe_columns, find_header, similar
from core.wareki import fiscal_year
from ledger import values as V
from ledger.completeness import WARN_FIELDS
from ledger.fields import field_label, fields_for, header_names, known_keys
from ledger.models import LedgerMapping
from ledger.owner_names import codes_for_names
from ledger.readers import Table, check_srid, far_out, far_out_message, read_table
from ledger.vocabularies import Vocabulary, words_for

CORE_COLUMNS = ("name", "built_fiscal_year", "built_year_text", "serves_important_facility")
MAX_CHANGES_SHOWN = 200
# A file of a million bad rows must not answer with a million messages (it once made 235 MB): the first ones
# by record, and the count.
MAX_ERRORS_SHOWN = 1000
# Distinct words of one column listed in the report (and offered for a value mapping on the upload page).
MAX_WORDS_SHOWN = 200
# Formats our exporters neutralise formulas in (and a spreadsheet user may have edited).
SPREADSHEETS = ("csv", "xlsx")
# How long an import waits for another import of the same ledger before it answers 409.
LOCK_WAIT = "300s"


class ImportBusy(ValidationError):
    """Another import or change of the same records got in the way; nothing was written. The API answers 409."""


@dataclass
class LedgerReport:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    written: bool = False
    errors: list[str] = field(default_factory=list)
    error_count: int = 0  # every error found; `errors` holds the first MAX_ERRORS_SHOWN of them
    bad_records: int = 0
    warnings: list[str] = field(default_factory=list)
    # New records without a key attribute, by field (stored empty; issue 16).
    missing: dict[str, int] = field(default_factory=dict)
    # Inspections the ledger carried (点検年度 / 点検年月日 with 判定区分 …): recorded now, or already there.
    inspections_recorded: int = 0
    inspections_present: int = 0
    changes: list[dict] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    # Columns not read: [{"column": header, "position": 1-based, "suggestions": [field, …], "why": …}].
    ignored: list[dict] = field(default_factory=list)
    # Words of choice columns and what they were read as: {field: {word: value}} ("" = not matched).
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    value_mapping: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)  # what was applied
    format: str = ""
    encoding: str = ""
    owners: list[str] = field(default_factory=list, repr=False)  # the municipalities the records belong to

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            bad = self.bad_records or len({e.split(" (")[0] for e in self.errors})
            if self.error_count > len(self.errors):
                return _("%(bad)d bad records, %(n)d errors (the first %(shown)d are listed); nothing was written") % {
                    "bad": bad, "n": self.error_count, "shown": len(self.errors)}
            return _("%d bad records; nothing was written") % bad
        if not self.created and not self.updated:
            text = _("Nothing to change: all %d records are already in the registry as sent") % self.rows
        else:
            verb = _("would be") if self.dry_run else _("were")
            text = _("%(c)d created, %(u)d updated, %(n)d unchanged (%(verb)s written)") % {
                "c": self.created, "u": self.updated, "n": self.unchanged, "verb": verb}
        if self.inspections_recorded or self.inspections_present:
            text += "; " + _("inspections: %(r)d recorded, %(p)d already present") % {
                "r": self.inspections_recorded, "p": self.inspections_present}
        return text

    def to_dict(self) -> dict:
        return {"kind": self.kind, "rows": self.rows, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "dry_run": self.dry_run, "written": self.written, "ok": self.ok,
                "summary": self.summary(), "errors": self.errors,
                "error_count": max(self.error_count, len(self.errors)),
                "errors_truncated": self.error_count > len(self.errors), "warnings": self.warnings,
                "missing": self.missing, "inspections_recorded": self.inspections_recorded,
                "inspections_present": self.inspections_present,
                "changes": self.changes, "mapping": self.mapping, "ignored": self.ignored, "values": self.values,
                "format": self.format, "encoding": self.encoding}


def split_mapping(mapping: dict | None) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """A mapping as given: {"columns": {header: field}, "values": {field: {word: value}}}, or (as saved before
    value mappings) just {header: field}."""
    if not mapping:
        return {}, {}
    if set(mapping) <= {"columns", "values"} and all(isinstance(v, dict) for v in mapping.values()):
        return dict(mapping.get("columns") or {}), {f: dict(w) for f, w in (mapping.get("values") or {}).items()}
    return dict(mapping), {}


def _find_header(table: Table, kind: str, saved: dict | None,
                 report: LedgerReport | None = None) -> tuple[int, dict[int, str]]:
    """The first of the top rows that names an id column and at least one other: title and date rows above
    the header are skipped, as real ledgers have them. A GIS file's header is its first row. Headers are
    matched as typed, without their units and brackets, or by a known name inside them (`header_names`).
    Two columns that could be the same field: both left unread, with a warning naming them (an id column
    named twice is refused: no record could be told apart). Every column not read is listed in the report
    with the fields it might be."""
    header = find_header(table.rows, header_names(kind, saved),
                         lambda names: "external_id" in names and len(names) >= 2,
                         **({"scan": 1} if table.header_fixed else {}))
    if header is None:
        ids = ", ".join(fields_for(kind)["external_id"].headers[:8])
        raise ValidationError({"file": _("No header row found in the first 10 rows: it needs an id column (%s) and "
                                         "at least one other known column, or a saved column mapping") % ids})
    row = table.rows[header.at]
    if "external_id" in header.twice:
        raise ValidationError({"file": _(
            "Columns %(cols)s all give %(field)s; keep one of them, or map them to different fields")
            % {"cols": describe_columns(row, header.twice["external_id"]), "field": "external_id"}})
    columns = dict(header.columns)
    why: dict[int, str] = {}
    for name, cols in header.twice.items():
        for c in cols:
            columns.pop(c, None)
            why[c] = _("could be the same field as another column")
        if report is not None:
            report.warnings.append(_(
                "Columns %(cols)s could all be %(field)s (%(label)s); none of them was read: map one of them on the "
                "upload page (or in the mapping file)") % {"cols": describe_columns(row, cols), "field": name,
                                                          "label": field_label(kind, name)})
    for c, either in header.unsure.items():
        why[c] = _("could be %s") % ", ".join(either)
    if report is not None:
        known = known_keys(kind)
        for c, cell in enumerate(row):
            text = " ".join(str(cell or "").split())
            if c in columns or not text:
                continue
            hints = list(header.unsure.get(c, ())) or [n for n, cs in header.twice.items() if c in cs]
            hints += [f for f in similar(text, known) if f not in hints]
            report.ignored.append({"column": text, "position": c + 1, "suggestions": hints[:3],
                                   "labels": [field_label(kind, f) for f in hints[:3]], "why": why.get(c, "")})
    return header.at, columns


def _detail_fields(kind: str) -> dict:
    model = KINDS[kind].detail_model
    return {f.name: f for f in model._meta.concrete_fields if f.name != "asset" and not f.is_relation}


def _keep_when_blank(kind: str) -> set[str]:
    """Detail columns a blank cell does not erase on update: the key attributes (WARN_FIELDS) and the NOT NULL
    ones. A ledger that leaves 管径 blank has not said the pipe lost its diameter."""
    return set(WARN_FIELDS.get(kind, ())) | {n for n, f in _detail_fields(kind).items() if not f.null}


class _Errors:
    """Every bad record is counted; only the first MAX_ERRORS_SHOWN messages by record are kept and worded."""

    def __init__(self, report: LedgerReport, lines: list[int]):
        self.report, self.lines = report, lines
        self.mask = np.zeros(len(lines), dtype=bool)
        self.count = 0
        self._kept: list[tuple[int, int, str]] = []  # (record, order found, message)
        self._threshold: int | None = None
        self._seq = 0

    @property
    def bad(self) -> np.ndarray:
        return np.flatnonzero(self.mask)

    def __contains__(self, pos: int) -> bool:
        return bool(self.mask[pos])

    def add(self, pos: int, fld: str, message: str) -> None:
        self.mask[pos] = True
        self.count += 1
        self._keep(pos, lambda: message, fld)

    def add_many(self, problems: V.Problems, fld: str) -> None:
        """Bad cells of one column: all marked, only as many worded as could be shown."""
        if not len(problems):
            return
        self.mask[problems.positions] = True
        self.count += len(problems)
        for pos in problems.positions[:MAX_ERRORS_SHOWN].tolist():
            self._keep(pos, lambda p=pos: problems.message(p), fld)

    def _keep(self, pos: int, message, fld: str) -> None:
        if self._threshold is not None and pos > self._threshold:
            return  # later than every message already kept: it would not be shown
        self._seq += 1
        self._kept.append((pos, self._seq, f"Record {pos + 1} (line {self.lines[pos]}) {fld}: {message()}"))
        if len(self._kept) > 2 * MAX_ERRORS_SHOWN:
            self._trim()

    def _trim(self) -> None:
        self._kept.sort()
        del self._kept[MAX_ERRORS_SHOWN:]
        if len(self._kept) == MAX_ERRORS_SHOWN:
            self._threshold = self._kept[-1][0]

    def mark(self, positions: np.ndarray) -> None:
        """Bad records beyond those shown: counted, not worded."""
        self.mask[positions] = True
        self.count += len(positions)

    def finish(self) -> None:
        self._trim()
        self.report.errors = [m for _p, _n, m in self._kept]
        self.report.error_count = self.count
        self.report.bad_records = int(self.mask.sum())


def _value_report(report: LedgerReport, name: str, matched: dict[str, str | None]) -> None:
    """The words of a column and what they became, unknown ones first; at most MAX_WORDS_SHOWN (a column of
    100,000 different words is free text, not a choice, and the page must stay small)."""
    words = sorted((w for w in matched if w), key=lambda w: (matched[w] is not None, w))[:MAX_WORDS_SHOWN]
    report.values[name] = {w: (matched[w] or "") for w in words}


def _choice(cells: "_Distinct", text: pd.Series, kind: str, name: str, model_field, report: LedgerReport,
            errors: "_Errors", spreadsheet: bool) -> tuple[pd.Series, V.Problems]:
    """A choice column's words matched to registry values (`ledger.vocabularies`), once per distinct word. A
    word that matches nothing is stored empty with a warning (every attribute but the id and the place may be
    unknown), naming the word, the column, the first record and the allowed values. Works on the column's
    distinct cells (`_Distinct`); the values returned are per distinct cell."""
    allowed = [(c, str(label)) for c, label in model_field.flatchoices]
    vocab = Vocabulary(name, allowed, report_values_mapping(report, name))
    given = V.text_value(cells.values, text, spreadsheet=spreadsheet)
    matched = {t: vocab.match(t).value for t in given.unique().tolist()}
    _value_report(report, name, matched)
    mapped = given.map(matched)
    unknown = mapped.isna().to_numpy()
    # Blank (or mapped to nothing): not given (kept as stored on update; required for a new asset).
    values = mapped.where(mapped.notna() & (mapped != ""), None)
    if not unknown.any():
        return values, V.Problems.none()
    column = report_column(report, name)
    words = ", ".join(f"{label} ({v})" for v, label in allowed)
    message = _("unknown value %(value)s in column %(column)s; allowed: %(allowed)s; map it on the upload page")
    # Per unknown word (several distinct cells may clean to one word): its first record and how many have it.
    found = pd.DataFrame({"word": given[unknown].to_numpy(), "first": cells.first[unknown],
                          "n": cells.counts[unknown]}).groupby("word", sort=False).agg(first=("first", "min"),
                                                                                       n=("n", "sum"))
    for w, pos, count in found.sort_values("first").head(MAX_WORDS_SHOWN).itertuples():
        report.warnings.append(f"Record {pos + 1} (line {errors.lines[pos]}) {name}: " + message % {
            "value": V.shown(w), "column": repr(column), "allowed": words} + " " + _(
            "(%d records; stored empty)") % count)
    return values, V.Problems.none()


def _standard_spelling(cells: "_Distinct", text: pd.Series, name: str, report: LedgerReport,
                       spreadsheet: bool) -> pd.Series:
    """A free-text column with known terms (処理方式): a word that matches takes the standard spelling
    (分離接触ばっ気 → 分離接触ばっ気方式); any other is kept as written."""
    vocab = Vocabulary(name, None, report_values_mapping(report, name))
    given = V.text_value(cells.values, text, spreadsheet=spreadsheet)
    matched = {t: vocab.match(t).value for t in given.unique().tolist()}
    _value_report(report, name, {w: (v if v is not None else w) for w, v in matched.items()})
    return given.map({w: (v if v is not None else w) for w, v in matched.items()})


def report_values_mapping(report: LedgerReport, name: str) -> dict[str, str]:
    return report.value_mapping.get(name, {})


def report_column(report: LedgerReport, name: str) -> str:
    return next((h for h, f in report.mapping.items() if f == name), name)


class _Distinct:
    """A column's distinct cells, in the order they first appear, and which one each record holds: a ledger
    column has few spellings (管種, 和暦 years, 不明) repeated over 100,000 records, so every cell is cleaned and
    parsed once per distinct value and the results are spread back to the records (`expand`, `problems`)."""

    def __init__(self, col: pd.Series):
        codes, uniques = pd.factorize(col.to_numpy(dtype=object))
        self.codes, self.index = codes, col.index
        self.values = pd.Series(uniques, dtype=object)
        # factorize numbers the values in order of appearance: the first record holding each is increasing.
        self.first = np.unique(codes, return_index=True)[1] if len(codes) else np.zeros(0, dtype=np.int64)
        self.counts = np.bincount(codes, minlength=len(uniques))

    def expand(self, values: pd.Series) -> pd.Series:
        """Per-distinct-value results, per record."""
        return pd.Series(values.array.take(self.codes), index=self.index, name=values.name)

    def rows(self, mask) -> np.ndarray:
        """A per-distinct-value mask, per record."""
        return np.asarray(mask, dtype=bool)[self.codes]

    def problems(self, p: V.Problems) -> V.Problems:
        """Bad distinct values → the records holding them, each worded as its value was."""
        if not len(p):
            return p
        mask = np.zeros(len(self.values), dtype=bool)
        mask[p.positions] = True
        codes = self.codes
        return V.Problems.where(mask[codes], lambda pos: p.message(int(codes[pos])))


def _parse(raw: pd.DataFrame, kind: str, errors: _Errors, report: LedgerReport) -> pd.DataFrame:
    fields = fields_for(kind)
    spreadsheet = report.format in SPREADSHEETS
    detail = _detail_fields(kind)
    out = pd.DataFrame(index=raw.index)
    for name in raw.columns:
        fld = fields[name]
        if fld.parse in ("number", "positive") and _plain_numbers(raw[name], fld, errors, out, name):
            continue
        # Never holds a NUL: the readers refuse it (PostgreSQL text cannot hold one).
        cells = _Distinct(raw[name])
        col = cells.values
        text = V.clean(col)
        short = name.removeprefix("detail.")
        problems: list[V.Problems] = []
        if fld.parse == "year":
            vals, p = V.fiscal_year(col, text)
            out[name] = cells.expand(vals)
            problems.append(p)
            if name == "built_fiscal_year":
                out["built_year_text"] = cells.expand(V.text_value(col, text, spreadsheet=spreadsheet))
        elif fld.parse in ("number", "positive", "integer"):
            vals, problems = V.number(col, positive=fld.parse == "positive", text=text, lo=fld.lo, hi=fld.hi)
            if fld.parse == "integer":
                frac = vals.notna() & (vals != vals.round())
                problems.append(V.Problems.where(frac.to_numpy(), lambda pos, col=col: _("%s is not a whole number")
                                                 % V.shown(col.iloc[pos])))
                vals = vals.where(~frac)
            out[name] = cells.expand(vals)
        elif fld.parse == "flag":
            vals, p = V.flag(col, text)
            out[name] = cells.expand(vals)
            problems.append(p)
        elif fld.parse == "choice":
            vals, p = _choice(cells, text, kind, name, detail[short], report, errors, spreadsheet)
            out[name] = cells.expand(vals)
            problems.append(p)
        elif fld.parse == "text" and words_for(short):
            vals = _standard_spelling(cells, text, name, report, spreadsheet)
            out[name] = cells.expand(vals)
        else:
            vals = V.text_value(col, text, spreadsheet=spreadsheet) if fld.parse != "code" else text
            out[name] = cells.expand(vals)
        if fld.parse in ("text", "code") and name != "wkt":  # stored as text: no character text may not hold
            problems.append(V.forbidden(vals))  # per distinct value, spread to the records below
        for p in problems:
            errors.add_many(cells.problems(p), name)
        blanks = cells.rows(V.is_unknown(text) & (text != ""))
        for pos in np.flatnonzero(blanks)[:20].tolist():
            report.warnings.append(f"Record {pos + 1} (line {errors.lines[pos]}) {name}: "
                                   + _("%s read as empty") % V.shown(raw[name].iloc[pos]))
    if "built_year_text" in raw:  # an explicit original spelling wins over the year column's own text
        cells = _Distinct(raw["built_year_text"])
        out["built_year_text"] = cells.expand(V.text_value(cells.values, spreadsheet=spreadsheet))
    elif "built_year_text" in out:  # the year column as written is stored too
        errors.add_many(V.forbidden(out["built_year_text"]), "built_year_text")
    _check_lengths(out, fields, errors)
    return out


def _plain_numbers(col: pd.Series, fld, errors: _Errors, out: pd.DataFrame, name: str) -> bool:
    """A column of plain numbers only (coordinates: 100,000 different ones), read in one C call with their range
    checked, when every cell reads as a finite number as it is: cleaning could not change such a cell's value
    (NFKC leaves ASCII as it is; trimmed spaces do not change a number). Otherwise False, and the column takes the
    general path (full-width digits, units, separators, 不明 …)."""
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if not np.isfinite(values).all():
        return False
    vals, problems = V.number(col, positive=fld.parse == "positive", text=pd.Series(values, index=col.index),
                              lo=fld.lo, hi=fld.hi)
    out[name] = vals
    for p in problems:
        errors.add_many(p, name)
    return True


def _check_lengths(out: pd.DataFrame, fields: dict, errors: _Errors) -> None:
    """Text longer than its column is refused with the limit (the database would refuse it with a 500)."""
    for name in out.columns:
        limit = fields[name].max_length if name in fields else None
        if not limit or out[name].dtype != object:
            continue
        cells = _Distinct(out[name].fillna(""))
        lengths = cells.values.astype(str).str.len().to_numpy()
        errors.add_many(cells.problems(V.Problems.where(lengths > limit, lambda k, lengths=lengths, limit=limit: _(
            "%(n)d characters; at most %(max)d are allowed") % {"n": lengths[k], "max": limit})), name)


def _by_name(values, default: str | None, munis: dict[str, tuple[str, str, bool]]) -> dict[str, tuple[str, str]]:
    """A 市町村 column's names → (code, message). "八潮市" or "埼玉県八潮市"; a name two municipalities share
    (府中市) needs its prefecture, and the message names both. In a prefecture's own ledger (the import is for a
    prefecture) a 市町村 inside that prefecture says where the asset lies, not who owns it: the prefecture."""
    index: dict[str, list[str]] = {}
    for code, (name, pref, current) in munis.items():
        if current:
            for key in {name, pref + name} - {""}:
                index.setdefault(key, []).append(code)
    out = {}
    for value in values:
        key = "".join(str(value).split())
        codes = index.get(key, [])
        if default and default[2:5] == "000" and any(c[:2] == default[:2] for c in codes):
            out[value] = (default, "")
        elif len(codes) == 1:
            out[value] = (codes[0], "")
        elif codes:
            out[value] = ("", _("%(name)s names several municipalities (%(which)s); give the prefecture too, or a "
                                "団体コード column") % {"name": value, "which": ", ".join(
                                    f"{munis[c][1]}{munis[c][0]} ({c})" for c in sorted(codes))})
        else:
            out[value] = ("", _("no municipality named %s is registered") % value)
    return out


def _owners(raw: pd.DataFrame, default: str | None, actor: Actor, source: str, errors: _Errors) -> pd.Series:
    """Each record's 6-digit owner code (団体コード column, 5 or 6 digits; else a 市町村 name column; else the given
    municipality). A row the importer may not write is refused naming its municipality; one refused row refuses
    the file (the import is one transaction), so nothing is written for anyone."""
    munis = {c: (n, p, vt is None) for c, n, p, vt in Municipality.objects.values_list("code", "name", "prefecture",
                                                                                       "valid_to")}
    names: dict[str, tuple[str, str]] = {}
    if "owner" in raw:
        given = V.clean(raw["owner"]).replace("", default or "")
        # Names the actor's scope did not resolve (codes_for_names): said as names, not as malformed codes.
        names = _by_name([v for v in given.unique() if v and not v.isdigit() and v != default], default, munis)
    elif "owner_name" in raw and (V.clean(raw["owner_name"]) != "").any():
        given = V.clean(raw["owner_name"]).replace("", default or "")
        names = _by_name([v for v in given.unique() if v and v != default], default, munis)
    elif default:
        given = pd.Series(default, index=raw.index)
    else:
        raise ValidationError({"municipality": _("Give the municipality (--municipality CODE), a 団体コード column or "
                                                 "a 市町村 column")})
    scope = None if actor.is_system else access.scope_for(actor.principal)
    resolved: dict[str, tuple[str, str]] = {}
    for value in given.unique():
        try:
            code, msg = names[value] if value in names else (normalize_lg_code(value), "")
            if not msg and code not in munis:
                msg = _("no municipality with code %s is registered") % code
            if not msg and scope is not None and not scope.can_write(code, source):
                msg = _("you may not write %(code)s (%(name)s)'s %(source)s ledger") % {
                    "name": munis[code][0], "code": code, "source": source}
        except ValidationError as exc:
            code, msg = "", " ".join(exc.messages)
        resolved[value] = (code, msg)
    if default:
        # A file sent for one municipality must not carry rows of another without a word: refused, named.
        for value, (code, msg) in resolved.items():
            if not msg and code != default:
                resolved[value] = (code, _("団体コード %(code)s differs from the municipality this import is for "
                                           "(%(given)s); give no municipality to import several, or correct the row")
                                   % {"code": code, "given": default})
    messages = given.map({v: m for v, (_c, m) in resolved.items()})
    errors.add_many(V.Problems.where((messages != "").to_numpy(), lambda pos: messages.iloc[pos]), "owner")
    return given.map({v: c for v, (c, _m) in resolved.items()})


def _hex(coords: np.ndarray, srid: int) -> list[str | None]:
    """Hex EWKB (little-endian, with its SRID, so COPY stores the geometry as it is) of a point per record
    (coords n×2) or of a two-point line per record (n×2×2, pipes from start to end), None where a coordinate is
    missing. Written with numpy in one pass: the byte layout is fixed (OGC WKB with PostGIS's SRID flag), the
    same bytes shapely.to_wkb(…, include_srid=True) writes."""
    n = len(coords)
    ok = np.isfinite(coords).reshape(n, -1).all(axis=1)
    line = coords.ndim == 3
    head = [("order", "u1"), ("type", "<u4"), ("srid", "<u4")] + ([("points", "<u4")] if line else [])
    rec = np.zeros(n, dtype=np.dtype(head + [("xy", "<f8", (coords.shape[1] * 2,) if line else (2,))]))
    rec["order"], rec["type"], rec["srid"] = 1, (2 if line else 1) | 0x20000000, srid
    if line:
        rec["points"] = coords.shape[1]
    rec["xy"] = np.where(ok[:, None], coords.reshape(n, -1), 0.0)
    width = rec.dtype.itemsize * 2
    text = np.frombuffer(rec.tobytes().hex().upper().encode("ascii"), dtype=f"S{width}").astype(f"U{width}")
    return np.where(ok, text, None).tolist()


def _ewkb(geoms: np.ndarray, srid: int | None) -> np.ndarray:
    """Hex EWKB of each geometry (None stays None): the staging table's geometry column reads it directly."""
    if srid is not None:
        geoms = shapely.set_srid(geoms, srid)
    return shapely.to_wkb(geoms, hex=True, include_srid=srid is not None)


def _check_points(coords: np.ndarray, plane: bool, errors: _Errors, fld: str) -> None:
    """Coordinates given as columns ((lon, lat) or plane (Y, X) per row) must be finite and plausible before
    a geometry is built from them (GEOS aborts on some extreme values). Blank rows are left to the
    `missing` check."""
    x, y = coords[:, 0], coords[:, 1]
    given = ~(np.isnan(x) & np.isnan(y))
    with np.errstate(invalid="ignore"):
        if plane:
            ok = (np.abs(x) <= PLANE_LIMIT_M) & (np.abs(y) <= PLANE_LIMIT_M)
        else:
            x0, y0, x1, y1 = JAPAN_BBOX
            ok = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)

    def message(pos: int) -> str:
        try:
            if plane:
                check_plane_xy(y[pos], x[pos], field=fld)
            else:
                check_lonlat(x[pos], y[pos], field=fld)
        except ValidationError as exc:
            text = " ".join(exc.messages)
            if not plane and JAPAN_BBOX[1] <= x[pos] <= JAPAN_BBOX[3] and JAPAN_BBOX[0] <= y[pos] <= JAPAN_BBOX[2]:
                text += _(". It looks like latitude and longitude are swapped")
            return text
        return _("one coordinate is missing")

    errors.add_many(V.Problems.where(given & ~ok, message), fld)


def _check_extent(geoms: np.ndarray, srid: int | None, errors: _Errors, fld: str, coordinates: bool = True) -> None:
    """Empty geometries refused; with `coordinates`, every coordinate checked by the readers' one rule
    (`far_out`) before PostGIS transforms it: for a WKT column, and for a file whose CRS is given only now."""
    present = ~shapely.is_missing(geoms)
    empty = present & shapely.is_empty(geoms)
    errors.add_many(V.Problems.where(empty, lambda pos: _("the geometry is empty")), fld)
    if coordinates:
        message = far_out_message(srid)
        errors.add_many(V.Problems.where(far_out(geoms, srid) & present & ~empty, lambda pos: message), fld)


def _srids(srid: int | None, plane: bool, n: int) -> list[int | None]:
    """Plane X/Y need their zone; lon/lat are JGD2011 unless another geographic system is named. In a plane
    zone X is northing and Y easting, so the columns are read as (Y, X)."""
    if plane:
        if srid not in PLANE_ZONES:
            raise ValidationError({"srid": _("X/Y columns are plane rectangular coordinates: give their zone as "
                                             "EPSG:6669–6687 (JGD2011) or 2443–2461 (JGD2000)")})
        return [srid] * n
    return [srid if srid and srid not in PLANE_ZONES else 6668] * n


def _geometry(df: pd.DataFrame, table_geoms: list | None, srid: int | None, errors: _Errors, *,
              read_checked: bool) -> tuple[list, list]:
    """(hex EWKB or None, srid) per record, from the file's geometries, a WKT column, lon/lat or plane X/Y.
    `read_checked`: the reader checked the file's coordinates against its own CRS."""
    n = len(df)
    wkb: list[str | None] = [None] * n
    srids: list[int | None] = [srid] * n
    if table_geoms is not None:
        geoms = shapely.from_wkb([g or None for g in table_geoms], on_invalid="ignore")
        _check_extent(geoms, srid, errors, "geometry", coordinates=not read_checked)
        geoms[errors.mask] = None
        wkb = _ewkb(geoms, srid).tolist()
    elif "wkt" in df and (df["wkt"] != "").any():
        geoms = shapely.from_wkt(df["wkt"].replace("", None).to_numpy(), on_invalid="ignore")
        for i, (g, text) in enumerate(zip(geoms, df["wkt"], strict=True)):
            if text and g is None:
                errors.add(i, "wkt", _("%s is not readable WKT") % V.shown(text, 60))
        srids = [srid or 6668] * n
        _check_extent(geoms, srids[0], errors, "wkt")
        geoms[errors.mask] = None
        wkb = _ewkb(geoms, srids[0]).tolist()
    elif {"lon0", "lat0", "lon1", "lat1"} <= set(df) or {"plane_x0", "plane_y0", "plane_x1", "plane_y1"} <= set(df):
        plane = "plane_x0" in df
        ends = (("plane_y0", "plane_x0"), ("plane_y1", "plane_x1")) if plane else (("lon0", "lat0"), ("lon1", "lat1"))
        coords = np.stack([df[list(e)].to_numpy(dtype=float) for e in ends], axis=1)
        srids = _srids(srid, plane, n)
        for k, end in enumerate(ends):
            _check_points(coords[:, k, :], plane, errors, "/".join(reversed(end)) if plane else "/".join(end))
        coords[errors.mask] = np.nan
        wkb = _hex(coords, srids[0])
    elif ("lon" in df and "lat" in df) or ("plane_x" in df and "plane_y" in df):
        plane = "lon" not in df
        coords = df[["plane_y", "plane_x"] if plane else ["lon", "lat"]].to_numpy(dtype=float)
        srids = _srids(srid, plane, n)
        _check_points(coords, plane, errors, "plane_x/plane_y" if plane else "lon/lat")
        coords[errors.mask] = np.nan
        wkb = _hex(coords, srids[0])
    given = np.fromiter((w is not None for w in wkb), dtype=bool, count=n)
    errors.add_many(V.Problems.where(~given & ~errors.mask, lambda pos: _(
        "missing: give lon/lat (経度/緯度), X/Y in a plane zone, WKT, or a GIS file")), "geometry")
    unknown = np.fromiter((s is None for s in srids), dtype=bool, count=n)
    errors.add_many(V.Problems.where(given & unknown & ~errors.mask, lambda pos: _(
        "the coordinate system is unknown; give its EPSG code (srid)")), "geometry")
    return wkb, srids


def _staging(cur, df: pd.DataFrame, kind: str) -> list[str]:
    """The checked records in a temporary table, in one COPY: the geometry arrives as hex EWKB (its SRID
    inside), so only records in another CRS than JGD2011 lon/lat are touched again (transformed)."""
    detail = _detail_fields(kind)
    types = {"owner": "text", "external_id": "text", "name": "text", "built_fiscal_year": "integer",
             "built_year_text": "text", "serves_important_facility": "boolean", "wkb": "geometry", "srid": "integer",
             "pos": "integer"}
    for name in df.columns:
        if name.startswith("detail."):
            f = detail[name.removeprefix("detail.")]
            t = f.get_internal_type()
            types[name] = ("boolean" if t == "BooleanField" else "double precision" if t == "FloatField"
                           else "integer" if "Integer" in t else "text")
    cols = [c for c in types if c in df.columns]
    names = ", ".join('"geom"' if c == "wkb" else f'"{c}"' for c in cols)
    cur.execute("DROP TABLE IF EXISTS _ledger")
    cur.execute("CREATE TEMP TABLE _ledger (" + ", ".join(
        ('"geom" geometry' if c == "wkb" else f'"{c}" {types[c]}') for c in cols)
        + ", asset_id bigint, changed boolean) ON COMMIT DROP")
    columns = []
    for c in cols:
        values = df[c]
        if c == "pos":  # 0 … n-1, every one different: nothing to format once
            columns.append(values.astype(str).to_numpy(dtype=object))
        elif c == "wkb":  # hex EWKB, every one different, no character COPY would need escaped
            columns.append(np.array([r"\N" if v is None else v for v in values.tolist()], dtype=object))
        elif types[c] == "integer":
            columns.append(_copy_text(pd.to_numeric(values.replace("", None), errors="coerce").astype("Int64"),
                                      types[c]))
        else:
            columns.append(_copy_text(values, types[c]))
    with cur.cursor.copy(f"COPY _ledger ({names}) FROM STDIN") as cp:
        if len(df):
            cp.write("\n".join(map("\t".join, zip(*columns, strict=True))) + "\n")
    cur.execute("UPDATE _ledger SET geom = ST_Transform(geom, 6668) WHERE ST_SRID(geom) <> 6668")
    return cols


def _copy_text(values: pd.Series, sql_type: str) -> np.ndarray:
    """A column in COPY's text format (\\N for null, backslash, tab and line breaks escaped), each distinct
    value formatted once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    items = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
    if sql_type == "boolean":
        text = ["t" if v else "f" for v in items]
    elif sql_type == "integer":
        text = [str(int(v)) for v in items]
    elif sql_type == "double precision":
        text = [repr(float(v)) for v in items]
    else:
        text = [str(v) for v in items]
        if any(ch in "".join(text) for ch in "\\\t\n\r"):
            text = [t.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
                    for t in text]
    return np.array(text + ["\\N"], dtype=object)[codes]


# Messages come in as parameters so they are translated; the SQL only fills in the facts.
CHECK_SQL = """
SELECT s.pos, CASE
    WHEN NOT (replace(ST_GeometryType(s.geom), 'ST_', '') = ANY(%(types)s)) THEN
        'geometry: ' || replace(%(not_allowed)s, '{type}', replace(ST_GeometryType(s.geom), 'ST_', ''))
    WHEN NOT ST_IsValid(s.geom) THEN 'geometry: ' || replace(%(invalid)s, '{reason}', ST_IsValidReason(s.geom))
    WHEN m.boundary IS NOT NULL AND NOT ST_DWithin(m.boundary, s.geom, 0.01) THEN
        'geometry: ' || replace(replace(replace(%(outside)s, '{owner}', m.name),
                                        '{lon}', round(ST_X(ST_Centroid(s.geom))::numeric, 4)::text),
                                '{lat}', round(ST_Y(ST_Centroid(s.geom))::numeric, 4)::text) ||
        CASE WHEN s.srid = ANY(%(plane)s) THEN %(axis)s ELSE '' END
END
FROM _ledger s JOIN assets_municipality m ON m.code = s.owner
"""


def _detail_value(kind: str, name: str) -> str:
    """What a detail column becomes: a blank cell keeps a key or NOT NULL value as it is."""
    if name not in _keep_when_blank(kind):
        return f's."detail.{name}"'
    return f'coalesce(s."detail.{name}", d.{name})'


def _compare_sql(kind: str, cols: list[str], only_changed: bool = False) -> str:
    table = KINDS[kind].detail_model._meta.db_table
    core, det = _split(cols)
    left = [f"a.{c}" for c in core] + [f"d.{c}" for c in det]
    right = [f's."{c}"' for c in core] + [_detail_value(kind, c) for c in det]
    differs = (f"({', '.join(left)}) IS DISTINCT FROM ({', '.join(right)}) OR " if left else "")
    return f"""
    UPDATE _ledger s SET asset_id = a.id,
        changed = {differs} NOT ST_OrderingEquals(ST_SnapToGrid(a.geom, 1e-9), ST_SnapToGrid(s.geom, 1e-9))
    FROM assets_asset a LEFT JOIN {table} d ON d.asset_id = a.id
    WHERE a.owner_id = s.owner AND a.source = %(source)s AND a.external_id = s.external_id AND a.kind = %(kind)s
    {"AND s.changed" if only_changed else ""}
    """


def _split(cols: list[str]) -> tuple[list[str], list[str]]:
    """The core and detail columns the file brought."""
    return [c for c in CORE_COLUMNS if c in cols], [c.removeprefix("detail.") for c in cols if c.startswith("detail.")]


def _pairs(kind: str, cols: list[str]) -> tuple[str, str]:
    """jsonb_build_object arguments for the stored values (a, d) and the values after this import (s)."""
    core, det = _split(cols)
    old = [f"'{c}', a.{c}" for c in core] + [f"'detail.{c}', d.{c}" for c in det]
    new = [f"'{c}', s.\"{c}\"" for c in core] + [f"'detail.{c}', {_detail_value(kind, c)}" for c in det]
    return ", ".join(old), ", ".join(new)


def _changes(cur, kind: str, cols: list[str]) -> list[dict]:
    table = KINDS[kind].detail_model._meta.db_table
    old, new = _pairs(kind, cols)
    cur.execute(f"""
        SELECT s.external_id, s.owner, a.global_id, jsonb_build_object({old}), jsonb_build_object({new}),
               NOT ST_OrderingEquals(ST_SnapToGrid(a.geom, 1e-9), ST_SnapToGrid(s.geom, 1e-9))
        FROM _ledger s JOIN assets_asset a ON a.id = s.asset_id LEFT JOIN {table} d ON d.asset_id = a.id
        WHERE s.changed ORDER BY s.pos LIMIT {MAX_CHANGES_SHOWN}""")
    out = []
    for ext, owner, gid, before, after, moved in cur.fetchall():
        before, after = (json.loads(x) if isinstance(x, str) else x for x in (before, after))
        diff = {k: {"from": before.get(k), "to": after.get(k)} for k in after if before.get(k) != after.get(k)}
        if moved:
            diff["geom"] = {"from": "…", "to": "…"}
        out.append({"action": "update", "external_id": ext, "owner": owner, "asset": gid, "fields": diff})
    cur.execute(f"SELECT external_id, owner FROM _ledger WHERE asset_id IS NULL ORDER BY pos LIMIT {MAX_CHANGES_SHOWN}")
    return out + [{"action": "create", "external_id": e, "owner": o} for e, o in cur.fetchall()]


def _write(cur, actor: Actor, kind: str, source: str, cols: list[str]) -> tuple[int, int]:
    """Updates, then creates, each with its history written by the registry's set-based helper
    (`assets.history.record_changes`); then the apps built on the registry are told which assets were updated
    and which created (`assets.signals.notify`), inside this transaction so that what they derive commits with
    the import."""
    table = KINDS[kind].detail_model._meta.db_table
    core, det = _split(cols)
    # Serial numbers per owner for the new records, reserved in one statement each.
    cur.execute("SELECT owner, count(*) FROM _ledger WHERE asset_id IS NULL GROUP BY owner")
    first = {o: allocate_serials(o, kind, n) for o, n in cur.fetchall()}
    # The sequence named once: nextval(pg_get_serial_sequence(…)) would look it up again for every record.
    cur.execute("SELECT pg_get_serial_sequence('assets_asset', 'id')::regclass::oid")
    params = {"source": source, "kind": kind, "first": json.dumps(first), "code": spec_for(kind).code,
              "seq": cur.fetchone()[0]}
    # The per-row foreign-key checks (deferred to COMMIT: one look-up per row and reference, 400,000 for
    # 100,000 new pipes) are replaced by one statement per referenced table, where the role may
    # (core.bulk.references_checked_here): the owners, the content type and the user are locked FOR KEY SHARE
    # here, as the triggers would have locked them; the details, the history and the first due dates reference
    # only the assets written in this transaction.
    with references_checked_here(cur) as unchecked:
        if unchecked:
            _lock_references(cur, actor)
        history = {"actor": actor, "model": Asset, "message": _("ledger import")}
        # Updates: history first (it needs the old values), then the asset and its detail.
        old, new = _pairs(kind, cols)
        record_changes(cur, action=Action.UPDATE, **history, rows_sql=f"""
            SELECT a.id, a.global_id, jsonb_build_object({old}{", " if old else ""}'version', a.version),
                   jsonb_build_object({new}{", " if new else ""}'version', a.version + 1)
            FROM _ledger s JOIN assets_asset a ON a.id = s.asset_id LEFT JOIN {table} d ON d.asset_id = a.id
            WHERE s.changed""")
        sets = ", ".join([f'{c} = s."{c}"' for c in core] + ["geom = s.geom", "source_srid = s.srid",
                                                                "version = a.version + 1", "updated_at = now()"])
        cur.execute(f"UPDATE assets_asset a SET {sets} FROM _ledger s WHERE a.id = s.asset_id AND s.changed "
                    "RETURNING a.id")
        written = [r[0] for r in cur.fetchall()]
        updated = len(written)
        if det:
            dsets = ", ".join(f"{c} = {_detail_value(kind, c)}" for c in det)
            cur.execute(f"UPDATE {table} d SET {dsets} FROM _ledger s WHERE d.asset_id = s.asset_id AND s.changed")
        # Creates.
        given = {"name": "coalesce(new.name, '')", "built_year_text": "coalesce(new.built_year_text, '')",
                 "serves_important_facility": "coalesce(new.serves_important_facility, false)",
                 "built_fiscal_year": "new.built_fiscal_year"}
        fallback = {"name": "''", "built_year_text": "''", "serves_important_facility": "false",
                    "built_fiscal_year": "NULL"}
        extra = {c: (given[c] if c in core else fallback[c]) for c in given}
        # Global ids as assets.kinds.global_id writes them ({serial:06d}: six digits at least, never cut: lpad alone
        # would cut serial 1,000,000 to 100000, a global id already taken).
        # New assets get their ids and global ids in a narrow staging table first (the record's position, id and
        # global id: sorting and copying whole records with their geometry cost more), so the asset, its detail and
        # its history are three plain INSERT … SELECTs joined on the position (no join back on RETURNING).
        cur.execute("DROP TABLE IF EXISTS _new")
        cur.execute("""
            CREATE TEMP TABLE _new ON COMMIT DROP AS
            SELECT pos, new_id, owner || '-' || %(code)s || '-' || lpad(serial, greatest(6, length(serial)), '0')
                AS new_global_id
            FROM (SELECT new.pos, new.owner, nextval(%(seq)s::oid::regclass) AS new_id,
                         ((%(first)s::jsonb ->> new.owner)::bigint - 1
                          + row_number() OVER (PARTITION BY new.owner ORDER BY new.pos))::text AS serial
                  FROM _ledger new WHERE new.asset_id IS NULL) s
        """, params)
        cur.execute("CREATE UNIQUE INDEX ON _new (new_id)")  # what assets.signals.IdTable asks of its table
        cur.execute("ANALYZE _new")
        cur.execute(f"""
            INSERT INTO assets_asset (id, global_id, owner_id, kind, source, external_id, geom, source_srid, status,
                                      version, created_at, updated_at, important_facility_note, {", ".join(extra)})
            SELECT n.new_id, n.new_global_id, new.owner, %(kind)s, %(source)s, new.external_id, new.geom, new.srid,
                   'in_service', 1, now(), now(), '', {", ".join(extra.values())}
            FROM _new n JOIN _ledger new ON new.pos = n.pos
        """, params)
        created = cur.rowcount
        if created:
            detail_fields = _detail_fields(kind)
            names = det + [n for n, f in detail_fields.items() if n not in det and (f.has_default() or not f.null)]
            vals = [_created_value(detail_fields[c]) for c in det] + [
                _sql_default(detail_fields[n]) for n in names[len(det):]]
            cur.execute(f"INSERT INTO {table} (asset_id, {', '.join(names)}) SELECT n.new_id, {', '.join(vals)} "
                        f"FROM _new n JOIN _ledger s ON s.pos = n.pos", params)
            # The record's values as one row turned into jsonb (to_jsonb of a row: a third cheaper than
            # jsonb_build_object over the same pairs, and the same object).
            created_values = ", ".join([f's."{c}" AS "{c}"' for c in core] + [f's."detail.{c}" AS "detail.{c}"'
                                                                               for c in det]
                                       + ["n.new_global_id AS global_id"])
            record_changes(cur, action=Action.CREATE, **history, rows_sql=f"""
                SELECT n.new_id, n.new_global_id, NULL::jsonb, to_jsonb(v)
                FROM _new n JOIN _ledger s ON s.pos = n.pos CROSS JOIN LATERAL (SELECT {created_values}) v""")
        if unchecked:
            cur.execute("SELECT count(*) FROM _new")
            if cur.fetchone()[0] != created:  # every staged new record became an asset, so every reference holds
                raise IntegrityError("ledger import: new records and assets written differ")
        # What is derived for a new asset (its first due date) needs no look-up of what was recorded for it, as
        # nothing was yet; it references the new asset alone. The new ids stay in _new (not sent here and back).
        notify(Change.CREATED, IdTable.of("_new", "new_id"))
    notify(Change.IMPORTED, written)
    return created, updated


def _lock_references(cur, actor: Actor) -> None:
    """What the foreign-key triggers would lock, locked once per referenced row: the municipalities owning the
    records, the history's content type and user. A municipality gone since the records were checked refuses
    the import (nothing is written)."""
    cur.execute("SELECT array_agg(DISTINCT owner) FROM _ledger")
    owners = cur.fetchone()[0] or []
    cur.execute("SELECT code FROM assets_municipality WHERE code = ANY(%s) FOR KEY SHARE", [owners])
    missing = set(owners) - {r[0] for r in cur.fetchall()}
    if missing:
        raise ValidationError({"owner": _("no municipality with code %s is registered") % ", ".join(sorted(missing))})
    cur.execute("SELECT 1 FROM django_content_type WHERE id = %s FOR KEY SHARE",
                [ContentType.objects.get_for_model(Asset, for_concrete_model=True).pk])
    if actor.user is not None:
        cur.execute("SELECT 1 FROM auth_user WHERE id = %s FOR KEY SHARE", [actor.user.pk])


def _created_value(f) -> str:
    """A new record's detail value: a blank cell of a NOT NULL column with a default (施工方法 → unknown,
    幹線 → no) takes the default rather than failing the insert."""
    if f.null or not f.has_default():
        return f's."detail.{f.name}"'
    return f'coalesce(s."detail.{f.name}", {_sql_default(f)})'


def _sql_default(f) -> str:
    v = f.get_default()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def import_ledger(*, actor: Actor, data: bytes, filename: str, kind: str, municipality: str | None = None,
                  source: str = "ledger", srid: int | None = None, dry_run: bool = False,
                  mapping: dict | None = None) -> LedgerReport:
    with without_cycle_collection():
        return import_table(actor=actor, table=read_table(data, filename), kind=kind, municipality=municipality,
                            source=source, srid=srid, dry_run=dry_run, mapping=mapping)


def _no_progress(progress: int, step: str) -> None:
    pass


def import_table(*, actor: Actor, table: Table, kind: str, municipality: str | None = None, source: str = "ledger",
                 srid: int | None = None, dry_run: bool = False, mapping: dict | None = None,
                 progress=_no_progress) -> LedgerReport:
    """`progress(percent, step)` is told the steps as they start (a background import shows them)."""
    with without_cycle_collection():
        return _import_table(actor=actor, table=table, kind=kind, municipality=municipality, source=source,
                             srid=srid, dry_run=dry_run, mapping=mapping, progress=progress)


def _import_table(*, actor: Actor, table: Table, kind: str, municipality: str | None, source: str,
                  srid: int | None, dry_run: bool, mapping: dict | None, progress) -> LedgerReport:
    spec_for(kind)
    if srid is not None:
        check_srid(int(srid), "srid")
    report = LedgerReport(kind=kind, dry_run=dry_run, format=table.fmt, encoding=table.encoding)
    report.warnings += table.warnings
    columns, value_mapping = split_mapping(mapping)
    if municipality:
        # The saved mapping of this ledger, under what was given for this import.
        saved = LedgerMapping.objects.filter(owner_id=normalize_lg_code(municipality), kind=kind,
                                             source=source).values_list("columns", "value_mapping").first()
        if saved:
            columns = (saved[0] or {}) | columns
            value_mapping = {f: (saved[1] or {}).get(f, {}) | value_mapping.get(f, {})
                             for f in set(saved[1] or {}) | set(value_mapping)}
    report.value_mapping = value_mapping
    at, cols = _find_header(table, kind, columns, report)
    header = table.rows[at]
    report.mapping = {" ".join(str(header[i]).split()): name for i, name in cols.items()}
    rows = table.rows
    if table.no_blank_rows:
        keep = list(range(at + 1, len(rows)))
    elif table.text_cells:
        keep = [k for k in range(at + 1, len(rows)) if "".join(rows[k]).strip()]
    else:  # a table built elsewhere (ledger.national) may hold numbers
        keep = [k for k in range(at + 1, len(rows)) if "".join(map(str, rows[k])).strip()]
    report.rows = len(keep)
    if not keep:
        raise ValidationError({"file": _("The file has a header but no records")})
    width = max(cols) + 1
    # The records' cells by column (short rows padded), in one transposition rather than a frame of every cell.
    by_column = list(itertools.zip_longest(*(rows[k] for k in keep), fillvalue=""))
    by_column += [("",) * len(keep)] * (width - len(by_column))
    raw = pd.DataFrame({name: pd.Series(by_column[i], dtype=object) if table.text_cells
                        else pd.Series(by_column[i], dtype=object).fillna("").astype(str) for i, name in cols.items()})
    lines = [table.lines[k] for k in keep]
    errors = _Errors(report, lines)
    df = _parse(raw, kind, errors, report)
    if "owner" in raw:  # 市町村 / 団体名 columns may hold names: each becomes its code (in the actor's scope)
        raw["owner"] = codes_for_names(raw["owner"], actor)
    visits = _plan_inspections(df, kind, errors, report)
    df["owner"] = _owners(raw, municipality and normalize_lg_code(municipality), actor, source, errors)
    ext = df["external_id"]
    errors.add_many(V.Problems.where((ext == "").to_numpy(),
                                     lambda pos: _("required: the ledger's own id for the asset")), "external_id")
    dup = df.duplicated(subset=["owner", "external_id"], keep="first") & (ext != "")
    errors.add_many(V.Problems.where(dup.to_numpy(), lambda pos: _("%s appears more than once in the file")
                                     % ext.iloc[pos][:64]), "external_id")
    geoms = [table.geoms[k] for k in keep] if table.geoms is not None else None
    file_srid = table.srid or srid
    wkb, srids = _geometry(df, geoms, file_srid, errors, read_checked=table.srid is not None)
    df["wkb"], df["srid"] = wkb, srids
    df["pos"] = np.arange(len(df))
    df = df.drop(columns=[c for c in df.columns if c.startswith(("lon", "lat", "plane_")) or c == "wkt"])
    report.owners = sorted(str(o) for o in df["owner"].dropna().unique().tolist() if o)
    progress(50, gettext_noop("writing to the registry"))
    try:
        with transaction.atomic(), connection.cursor() as cur:
            return _check_and_write(cur, df, errors, report, actor=actor, kind=kind, source=source, dry_run=dry_run,
                                    visits=visits)
    except (IntegrityError, OperationalError) as exc:
        cause = exc.__cause__
        # Only a clash with a concurrent writer is "busy": a new external id taken meanwhile, a lock timeout, a
        # deadlock. Any other integrity error is a bug in the checks above and must not read "send it again".
        if isinstance(cause, psycopg.errors.UniqueViolation | psycopg.errors.LockNotAvailable
                      | psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure):
            raise ImportBusy({"file": _(
                "Another import or change of the same %(kind)s records of this ledger was being written at the same "
                "time; nothing was written. Send the file again: records already there will show as unchanged")
                % {"kind": kind}}) from None
        raise


def _lock_ledgers(cur, kind: str, source: str) -> None:
    """One import at a time per (owner, source, kind): a transaction-scoped advisory lock per owner of the
    file, taken in code order so that two multi-owner files cannot deadlock. The loser waits (up to LOCK_WAIT)
    and then compares with what the winner committed."""
    cur.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
    cur.execute("SELECT DISTINCT owner FROM _ledger ORDER BY owner")
    for (owner,) in cur.fetchall():
        cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    [f"gunmane.ledger-import:{owner}:{source}:{kind}"])


def _sql_errors(cur, sql: str, params: dict | None, errors: _Errors, fld: str | None = None) -> None:
    """Report the rows a check query returns as (pos, "field: message") or (pos) with `fld`: every one counted,
    only the first MAX_ERRORS_SHOWN worded, so a million bad rows do not come back as a million messages."""
    cur.execute(f"""
        WITH c AS ({sql}), b AS (SELECT c.*, row_number() OVER (ORDER BY pos) AS n FROM c)
        SELECT coalesce(array_agg(pos ORDER BY pos), '{{}}'),
               coalesce(jsonb_object_agg(pos, {"msg" if fld is None else "''"}) FILTER (WHERE n <= %(max_shown)s),
                        '{{}}')
        FROM b""", {**(params or {}), "max_shown": MAX_ERRORS_SHOWN})
    positions, messages = cur.fetchone()
    messages = json.loads(messages) if isinstance(messages, str) else messages
    for pos in positions[:MAX_ERRORS_SHOWN]:
        if fld is None:
            name, _sep, text = messages[str(pos)].partition(": ")
            errors.add(pos, name, text)
        else:
            errors.add(pos, fld, _("required for a new asset"))
    errors.mark(np.asarray(positions[MAX_ERRORS_SHOWN:], dtype=np.int64))


def _warn_missing(cur, kind: str, cols: list[str], report: LedgerReport, lines: list[int]) -> None:
    """One warning per key attribute the new records lack: how many, and the first few records."""
    detail = _detail_fields(kind)
    names = [("built_fiscal_year", Asset._meta.get_field("built_fiscal_year"))] + [
        (f"detail.{n}", detail[n]) for n in WARN_FIELDS.get(kind, ())]
    missing = {col: "true" if col not in cols else f'"{col}" IS NULL' for col, _f in names}
    # Counted in one pass; the first records looked up only for the fields some new record lacks.
    cur.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {m})" for m in missing.values())
                + " FROM _ledger WHERE asset_id IS NULL")
    counts = dict(zip(missing, cur.fetchone(), strict=True))
    for col, f in names:
        n = counts[col]
        if not n:
            continue
        cur.execute(f"SELECT pos FROM _ledger WHERE asset_id IS NULL AND {missing[col]} ORDER BY pos LIMIT 5")
        first = [r[0] for r in cur.fetchall()]
        report.missing[col] = n
        shown = ", ".join(f"{p + 1} (line {lines[p]})" for p in first) + (" …" if n > len(first) else "")
        report.warnings.append(_("%(field)s is not given for %(n)d new records (records %(rows)s): stored empty; "
                                 "the engine estimates it from documented defaults (既定値で推計)")
                               % {"field": f"{col} ({f.verbose_name})", "n": n, "rows": shown})


@dataclass
class _Visit:
    """An inspection a ledger row carries: its day (or 1 April of its 点検年度, see FY_START) and grade as written."""

    pos: int
    day: datetime.date
    grade: str
    fiscal_year_only: bool


# A ledger giving only the 点検年度 (as xROAD's 点検実施年度 does) is dated the 年度's first day, 1 April: the
# earliest day it can have been, so the next 定期点検 it sets falls due no later than the real one would (never
# late by our reckoning), and the same 年度 always gives the same day, so sending the ledger again adds nothing.
FY_START = (4, 1)


def _plan_inspections(df: pd.DataFrame, kind: str, errors: _Errors, report: LedgerReport) -> list[_Visit]:
    """Rows with a 判定区分 / 健全性 / 緊急度 / 判定 and a day (点検年月日) or a 点検年度: the grade read through the
    inspection import's own normalisation (inspections.grading.normalize_grade, the kind's current scheme), bad
    ones refused naming the allowed grades. A grade without any date is recorded nowhere and said so."""
    if "grade" not in df or not (df["grade"].fillna("") != "").any():
        return []
    from inspections.catalogue import resolve_scheme, scheme_dict
    from inspections.grading import GradeError, normalize_grade
    from inspections.services import parse_date

    scheme = scheme_dict(resolve_scheme(kind, None).pk)
    today = timezone.localdate()
    days = df["inspected_on"].fillna("") if "inspected_on" in df else pd.Series("", index=df.index)
    years = df["inspection_fy"] if "inspection_fy" in df else pd.Series(np.nan, index=df.index)
    out, undated = [], []
    for pos, (raw, text, fy) in enumerate(zip(df["grade"].fillna(""), days, years, strict=True)):
        if not raw or pos in errors:
            continue
        try:
            normalize_grade(scheme, raw)
        except GradeError as exc:
            errors.add(pos, "grade", exc.message)
            continue
        fy = None if pd.isna(fy) else int(fy)
        if text:
            try:
                day = parse_date(text)
            except ValidationError as exc:
                errors.add(pos, "inspected_on", " ".join(exc.messages))
                continue
            if fy is not None and fiscal_year(day) != fy:
                errors.add(pos, "inspected_on", _("%(day)s lies in 年度 %(fy_day)s, not in the 点検年度 %(fy)s")
                           % {"day": day, "fy_day": fiscal_year(day), "fy": fy})
                continue
        elif fy is not None:
            day = datetime.date(fy, *FY_START)
        else:
            undated.append(pos)
            continue
        if day > today:
            errors.add(pos, "inspected_on", _("%(day)s is in the future") % {"day": day})
            continue
        out.append(_Visit(pos, day, raw, not text))
    if undated:
        report.warnings.append(_("%(n)d records give a grade without 点検年月日 or 点検年度 (records %(rows)s); no "
                                 "inspection was recorded for them") % {
            "n": len(undated), "rows": ", ".join(str(p + 1) for p in undated[:5]) + (" …" if len(undated) > 5 else "")})
    return out


def _record_inspections(cur, visits: list[_Visit], errors: _Errors, report: LedgerReport, *, actor: Actor,
                        new_table: bool) -> bool:
    """The ledger's inspections, once each: one already stored for the asset on that day is counted as present,
    not added again. Every one validated as a single inspection would be (inspections.services.validate); a
    refusal there refuses the whole import (the caller rolls back). In a dry run the count is what would be
    recorded. Returns False when something was refused."""
    from assets.history import Action as HAction
    from assets.history import record_change
    from inspections.condition import refresh_conditions
    from inspections.models import Inspection
    from inspections.services import _snapshot, validate

    cur.execute("SELECT s.pos, coalesce(s.asset_id, n.new_id) FROM _ledger s LEFT JOIN _new n ON n.pos = s.pos"
                if new_table else "SELECT pos, asset_id FROM _ledger")
    asset_of = dict(cur.fetchall())
    ids = {asset_of[v.pos] for v in visits if asset_of.get(v.pos)}
    present = set(Inspection.objects.filter(asset_id__in=ids).values_list("asset_id", "inspected_on"))
    todo = [v for v in visits if (asset_of.get(v.pos), v.day) not in present]
    report.inspections_present = len(visits) - len(todo)
    if report.dry_run:
        report.inspections_recorded = len(todo)
        return True
    assets = Asset.objects.select_related("road_segment").in_bulk([asset_of[v.pos] for v in todo])
    cache: dict = {}
    rows = []
    for v in todo:
        asset = assets[asset_of[v.pos]]
        try:
            clean = validate(asset=asset, inspected_on=v.day, grade=v.grade, cache=cache)
        except ValidationError as exc:
            for fld, msgs in exc.message_dict.items():
                for m in msgs:
                    errors.add(v.pos, fld, m)
            continue
        note = (_("from the ledger: 点検年度 %(fy)s only, dated 1 April (the 年度's first day)")
                % {"fy": fiscal_year(v.day)} if v.fiscal_year_only else _("from the ledger"))
        rows.append(Inspection(asset=asset, inspector="", notes=note, created_by=actor.user, **clean))
    if errors.count:
        return False
    created = Inspection.objects.bulk_create(rows)
    for insp in created:
        record_change(actor=actor, obj=insp, action=HAction.CREATE, after=_snapshot(insp),
                      message=_("ledger import"))
    refresh_conditions(sorted({i.asset_id for i in created}))
    report.inspections_recorded = len(created)
    return True


def _check_and_write(cur, df: pd.DataFrame, errors: _Errors, report: LedgerReport, *, actor: Actor, kind: str,
                     source: str, dry_run: bool, visits: list[_Visit] = ()) -> LedgerReport:
    ok = df.drop(index=df.index[errors.bad]) if errors.count else df
    # Each statement here runs once over the whole file: compiling it to machine code (JIT, for plans over
    # 100,000 cost units) takes longer than it saves. Its sorts and hash joins hold a whole file's records
    # (200,000 at most, readers.MAX_RECORDS) in memory rather than spilling them to temporary files in batches.
    cur.execute("SET LOCAL jit = off")
    cur.execute("SET LOCAL work_mem = '64MB'")
    cols_staged = _staging(cur, ok, kind)
    types = spec_for(kind).geom_types
    _sql_errors(cur, "SELECT * FROM (" + CHECK_SQL + ") q (pos, msg) WHERE msg IS NOT NULL", {
        "types": list(types), "plane": list(PLANE_ZONES),
        "not_allowed": _("{type} is not allowed for this kind; allowed: %s") % ", ".join(types),
        "invalid": _("invalid ({reason})"), "outside": _("lies outside {owner} (lon {lon}, lat {lat})"),
        "axis": _(". In plane rectangular zones X is northing; check the axis order and the zone")}, errors)
    if not dry_run and not errors.count:
        _lock_ledgers(cur, kind, source)
    cur.execute(_compare_sql(kind, cols_staged), {"source": source, "kind": kind})
    # A new record needs only its id, its place and its kind: a key attribute it lacks is stored empty and named
    # in a warning (issue 16); the engine estimates it from documented defaults.
    _warn_missing(cur, kind, cols_staged, report, errors.lines)
    if errors.count:
        errors.finish()
        return report
    if not dry_run:
        # Lock what will be updated, then compare those rows again: a change committed since the comparison
        # (a PATCH, say) is seen, and the history's "before" is what the row holds.
        cur.execute("SELECT a.id FROM assets_asset a JOIN _ledger s ON s.asset_id = a.id WHERE s.changed "
                    "ORDER BY a.id FOR UPDATE OF a")
        if cur.rowcount:
            cur.execute(_compare_sql(kind, cols_staged, only_changed=True), {"source": source, "kind": kind})
    cur.execute("SELECT count(*) FILTER (WHERE asset_id IS NULL), count(*) FILTER (WHERE changed), "
                "count(*) FILTER (WHERE changed IS FALSE) FROM _ledger")
    report.created, report.updated, report.unchanged = cur.fetchone()
    report.changes = _changes(cur, kind, cols_staged)
    wrote = not dry_run and bool(report.created or report.updated)
    if wrote:
        created, updated = _write(cur, actor, kind, source, cols_staged)
        report.created, report.updated, report.written = created, updated, True
    if visits and not _record_inspections(cur, list(visits), errors, report, actor=actor, new_table=wrote):
        # One inspection refused refuses the import: nothing of it is kept.
        transaction.set_rollback(True)
        report.written = False
        errors.finish()
    return report


__all__ = ["ImportBusy", "LedgerReport", "import_ledger", "import_table", "split_mapping"]
