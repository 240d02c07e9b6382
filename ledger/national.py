"""Exchange of bridges with the 全国道路施設点検データベース (MLIT, domain.md §4.4): a CSV of the user's bridges in
its layout (ids, 判定区分 1–4, 点検年月日) and the import of such a file.

The layout. MLIT publishes no column list for an upload or download of the 基礎データベース that could be read
for this work; the columns below are assembled from what public sources show, and the header *words* are
(unverified) as the national database spells them:
- 橋梁ID: the BR-style id (`BR0-` + the manager's 6-digit 団体コード + 5-digit serial, e.g. BR0-430005-00001),
  xROAD's `shisetsu_bangou`; the column is called 橋梁ID in 熊本県's 橋梁管理一覧表 (domain.md §4.4, §5).
- 判定区分: numeric 1–4 in the national records (RSDB key `tenken_kiroku_hantei_kubun`, domain.md §4.4, §4.8);
  1–4 are Ⅰ–Ⅳ of 平成26年国土交通省告示第426号 (the catalogue's bridge_kenzen aliases hold the mapping).
- 点検年度 (RSDB `tenken_nendo`); 点検年月日 as 様式1 spells the date of inspection (点検実施年月日 read too).
- 施設名/橋梁名, 路線名, 橋長, 幅員, 架設年度, 緯度/経度, 管理者, 都道府県/市区町村 codes: RSDB keys `syogen_*`
  (domain.md §4.4); 路下条件 is 様式1's heading for what the bridge crosses.
- 橋種 (RC橋/PC橋/鋼橋 …) as prefectural lists write it (unverified for the national file); an 上部構造形式 column
  such as "PC単純プレテンホロー桁橋" is read for its material too.
- 所在地 holds the prefecture and municipality only: the registry keeps no street address.
- 共通ID(群マネ) is this system's own id, not part of the national layout: it lets a bridge that came from a
  municipal ledger be linked to its national id on import.

Import. Every row is checked first (Record N (line L) header: message, with the allowed values); with any
error nothing is written. A 橋梁ID already linked to a bridge (assets.ExternalId, system "xroad") updates that
bridge; otherwise a 共通ID links an existing bridge; otherwise the bridge is created as a record of ledger
source "xroad" with the 橋梁ID as its external id. Attributes go through the ledger import
(`ledger.importer.import_table`: the same parsing, validation, history and all-or-nothing write). A bridge
that came from another ledger keeps its attributes (that ledger is its master) and gets only the link and the
inspection. Inspections (判定区分 with 点検年月日) are recorded through `inspections.services`, once per bridge
and date: a second import of the same file records nothing."""

import csv
import datetime
import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from assets import access
from assets.codes import normalize_lg_code
from assets.history import Action, Actor, record_changes
from assets.models import Asset, AssetStatus, ExternalId, ExternalSystem
from core import wareki
from core.export import check_cp932, escape_formula
from core.text import describe_columns, find_header, header_key
from inspections.catalogue import resolve_scheme, scheme_dict
from inspections.grading import GradeError, normalize_grade
from inspections.services import inspections_record_many, parse_date, validate
from ledger.importer import import_table
from ledger.readers import Table, read_table

__all__ = ["COLUMNS", "NationalReport", "export_bridges", "grade_number", "import_national"]

SYSTEM = ExternalSystem.XROAD
SOURCE = "xroad"  # ledger source of bridges first known from the national database
SCHEME = "bridge_kenzen"
MAX_ERRORS_SHOWN = 1000
FORMATS = {"csv": "text/csv; charset=utf-8", "csv-cp932": "text/csv; charset=shift_jis"}


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # as exported
    aliases: tuple[str, ...] = ()
    registry: str | None = None  # the ledger import's field it feeds
    imported: bool = True


COLUMNS = (
    Column("national_id", "橋梁ID", ("施設ID", "施設番号", "shisetsu_bangou"), "external_id"),
    Column("owner", "管理者コード", ("団体コード",), "owner"),
    Column("owner_name", "道路管理者", ("管理者名", "道路管理者名"), imported=False),
    Column("prefecture", "都道府県", (), imported=False),
    Column("city", "市区町村", ("市町村",), imported=False),
    Column("route_name", "路線名", (), "route_name"),
    Column("name", "橋梁名", ("施設名", "施設名称", "橋名"), "name"),
    Column("address", "所在地", (), imported=False),
    Column("lat", "緯度", ("位置(緯度)",), "lat"),
    Column("lon", "経度", ("位置(経度)",), "lon"),
    Column("length_m", "橋長(m)", ("橋長", "橋長(ｍ)"), "length_m"),
    Column("width_m", "幅員(m)", ("幅員", "幅員(ｍ)", "全幅員"), "width_m"),
    Column("built", "架設年度", ("架設年", "架設年次"), "built_fiscal_year"),
    Column("structure_type", "橋種", ("上部構造形式", "橋梁形式"), "structure_type"),
    Column("span_count", "径間数", (), "span_count"),
    Column("crosses", "路下条件", ("交差物",), "crosses"),
    Column("inspected_on", "点検年月日", ("点検実施年月日", "点検日")),
    Column("inspection_fy", "点検年度", ("点検実施年度",)),
    Column("grade", "判定区分", ("健全性", "健全性の診断", "判定区分(1～4)")),
    Column("global_id", "共通ID(群マネ)", ("共通ID",)),
)
BY_FIELD = {c.field: c for c in COLUMNS}
LOOKUP = {header_key(a): c.field for c in COLUMNS for a in (c.header, c.field, *c.aliases)}
# The ledger import's field names → this layout's headers, to name fields in its messages.
HEADER_OF = {c.registry: c.header for c in COLUMNS if c.registry} | {
    "detail.length_m": "橋長(m)", "detail.width_m": "幅員(m)", "detail.structure_type": "橋種",
    "detail.span_count": "径間数", "detail.crosses": "路下条件", "detail.route_name": "路線名", "geom": "緯度/経度",
    "inspected_on": "点検年月日", "grade": "判定区分"}

# 橋種 words (or an 上部構造形式 naming its material) → the registry's structure types, first match wins.
STRUCTURE_WORDS = (("ボックス", "box_culvert"), ("カルバート", "box_culvert"), ("溝橋", "box_culvert"),
                   ("複合", "composite"), ("混合", "composite"), ("pc", "pc"), ("rc", "rc"), ("鋼", "steel"),
                   ("その他", "other"))
STRUCTURE_NAMES = {"rc": "RC橋", "pc": "PC橋", "steel": "鋼橋", "composite": "複合構造", "box_culvert": "ボックスカルバート",
                   "other": "その他"}
CROSSING_WORDS = (("鉄道", "railway"), ("河川", "river"), ("川", "river"), ("水路", "channel"), ("道路", "road"),
                  ("その他", "other"))
CROSSING_NAMES = {"river": "河川", "road": "道路", "railway": "鉄道", "channel": "水路", "other": "その他"}


def _word(text: str, words) -> str:
    """A registry choice from a ledger's wording; the text as it is when nothing matches (the ledger import
    then refuses it with the allowed values)."""
    key = header_key(text)
    for w, code in words:
        if w in key:
            return code
    return text


def grade_number(scheme: dict, code: str) -> str:
    """判定区分 as the national database writes it (1–4) for a bridge_kenzen grade code (I–IV): the digit among the
    grade's catalogue aliases (告示426号 Ⅰ–Ⅳ ↔ 1–4)."""
    for g in scheme["grades"]:
        if g["code"] == code:
            return next((a for a in g["aliases"] if a.isdigit()), "")
    return ""


# ---- export -----------------------------------------------------------------------------------------------------
EXPORT_SQL = """
    SELECT x.value, a.owner_id, m.name, m.kind, m.prefecture, b.route_name, a.name,
           ST_Y(ST_PointOnSurface(a.geom)), ST_X(ST_PointOnSurface(a.geom)), b.length_m, b.width_m,
           a.built_fiscal_year, b.structure_type, b.span_count, b.crosses, li.inspected_on, g.code, a.global_id
    FROM assets_asset a
    JOIN assets_municipality m ON m.code = a.owner_id
    JOIN assets_bridge b ON b.asset_id = a.id
    LEFT JOIN assets_externalid x ON x.asset_id = a.id AND x.system = %s
    LEFT JOIN LATERAL (
        SELECT i.inspected_on, i.grade_id FROM inspections_inspection i
        JOIN inspections_gradingscheme s ON s.id = i.scheme_id
        WHERE i.asset_id = a.id AND s.code = %s ORDER BY i.inspected_on DESC, i.id DESC LIMIT 1) li ON true
    LEFT JOIN inspections_grade g ON g.id = li.grade_id
    WHERE a.kind = 'bridge' AND a.status <> %s AND a.id IN ({ids})
    ORDER BY a.owner_id, x.value NULLS LAST, a.global_id"""


def _number(v) -> str | float | int:
    if v is None:
        return ""
    return int(v) if float(v).is_integer() else round(float(v), 3)


def export_bridges(*, principal, municipality: str | None = None, fmt: str = "csv") -> tuple[bytes, str, str]:
    """The bridges the principal may see (None: the system, every bridge) in the national layout, each with
    its latest 健全性 inspection: (bytes, content type, file name). UTF-8 with BOM by default (Excel reads it,
    and it holds every character); "csv-cp932" for tools that want Shift_JIS, refused if a name cannot be written
    in it. Text a spreadsheet would run as a formula is neutralised (core.export)."""
    if fmt not in FORMATS:
        raise ValidationError({"format": _("Unknown format %(f)r; allowed: %(allowed)s")
                               % {"f": fmt, "allowed": ", ".join(FORMATS)}})
    if principal is None:
        qs = Asset.objects.filter(kind="bridge")
        if municipality:
            qs = qs.filter(owner_id=normalize_lg_code(municipality))
    else:
        from assets import selectors

        qs = selectors.asset_list(principal=principal, kind="bridge",
                                  municipality=municipality and normalize_lg_code(municipality))
    ids_sql, params = qs.values("id").query.sql_with_params()
    scheme = scheme_dict(resolve_scheme("bridge", SCHEME).pk)
    with connection.cursor() as cur:
        cur.execute(EXPORT_SQL.format(ids=ids_sql), [SYSTEM, SCHEME, AssetStatus.REMOVED, *params])
        data = cur.fetchall()
    rows = []
    for (nid, owner, mname, mkind, pref, route, name, lat, lon, length, width, built, stype, spans, crosses, day,
         grade, gid) in data:
        city = "" if mkind == "prefecture" else mname
        rows.append([nid or "", owner, mname, pref, city, route, name, pref + city,
                     round(lat, 7) if lat is not None else "", round(lon, 7) if lon is not None else "",
                     _number(length), _number(width), built or "", STRUCTURE_NAMES.get(stype, stype or ""),
                     spans or "", CROSSING_NAMES.get(crosses, crosses or ""), day.isoformat() if day else "",
                     wareki.fiscal_year(day) if day else "", grade_number(scheme, grade) if grade else "", gid])
    header = [c.header for c in COLUMNS]
    rows = [[escape_formula(v) for v in r] for r in rows]
    if fmt == "csv-cp932":
        check_cp932(header, [[r[-1], *r] for r in rows], hint=_("export as UTF-8 CSV instead"))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    text = buf.getvalue()
    body = text.encode("cp932") if fmt == "csv-cp932" else "\ufeff".encode() + text.encode("utf-8")
    return body, FORMATS[fmt], f"{municipality or 'all'}-bridges-national.csv"


# ---- import -----------------------------------------------------------------------------------------------------
@dataclass
class NationalReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    linked: int = 0
    inspections: int = 0
    inspections_known: int = 0
    dry_run: bool = False
    written: bool = False
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    warnings: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    encoding: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, n: int, line: int, fld: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_SHOWN:
            self.errors.append(f"Record {n} (line {line}) {BY_FIELD[fld].header if fld in BY_FIELD else fld}: "
                               f"{message}")

    def summary(self) -> str:
        if self.errors:
            return _("%d errors; nothing was written") % self.error_count
        verb = _("would be") if self.dry_run else _("were")
        return _("%(c)d bridges created, %(u)d updated, %(n)d unchanged, %(l)d linked to their national id; "
                 "%(i)d inspections recorded, %(k)d already there (%(verb)s written)") % {
            "c": self.created, "u": self.updated, "n": self.unchanged, "l": self.linked, "i": self.inspections,
            "k": self.inspections_known, "verb": verb}

    def to_dict(self) -> dict:
        return {"rows": self.rows, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "linked": self.linked, "inspections": self.inspections, "inspections_known": self.inspections_known,
                "dry_run": self.dry_run, "written": self.written, "ok": self.ok, "summary": self.summary(),
                "errors": self.errors, "error_count": max(self.error_count, len(self.errors)),
                "warnings": self.warnings, "mapping": self.mapping, "encoding": self.encoding}


@dataclass
class _Row:
    n: int
    line: int
    cells: dict[str, str]
    grade: str | None = None  # grade code I–IV
    day: datetime.date | None = None
    asset: Asset | None = None  # the bridge it is (or was linked to)
    link: bool = False  # a new ExternalId to store
    to_ledger: bool = True  # its attributes go through the ledger import


class _Rollback(Exception):
    pass


def _read(data: bytes, filename: str, report: NationalReport) -> list[_Row]:
    table = read_table(data, filename)
    report.encoding = table.encoding
    report.warnings += table.warnings
    header = find_header(table.rows, LOOKUP, lambda names: "national_id" in names and len(names) >= 3)
    if header is None:
        raise ValidationError({"file": _("No header row found in the first 10 rows: it needs 橋梁ID and at least two "
                                         "other columns of the national layout (%s)")
                               % ", ".join(c.header for c in COLUMNS)})
    if header.twice:
        raise ValidationError({"file": [_("Columns %(cols)s all give %(field)s; keep one of them")
                                        % {"cols": describe_columns(table.rows[header.at], cols),
                                           "field": BY_FIELD[name].header} for name, cols in header.twice.items()]})
    names = table.rows[header.at]
    report.mapping = {" ".join(str(names[i]).split()): BY_FIELD[f].header for i, f in header.columns.items()}
    rows = []
    for k in range(header.at + 1, len(table.rows)):
        cells = table.rows[k]
        if not "".join(map(str, cells)).strip():
            continue
        rows.append(_Row(len(rows) + 1, table.lines[k],
                         {f: unicodedata.normalize("NFKC", str(cells[i])).strip() if i < len(cells) else ""
                          for i, f in header.columns.items()}))
    if not rows:
        raise ValidationError({"file": _("The file has a header but no records")})
    report.rows = len(rows)
    report._table = (table, header)  # type: ignore[attr-defined]
    return rows


def _check_rows(rows: list[_Row], scheme: dict, report: NationalReport) -> None:
    """What only this layout has: the national id, 判定区分 (1–4 or Ⅰ–Ⅳ) and the dates of inspection."""
    seen: dict[str, int] = {}
    for r in rows:
        c = r.cells
        nid = c.get("national_id", "")
        if not nid:
            report.error(r.n, r.line, "national_id", _("required: the bridge's id in the national database"))
        elif len(nid) > 64:
            report.error(r.n, r.line, "national_id", _("%d characters; at most 64 are allowed") % len(nid))
        elif nid in seen:
            report.error(r.n, r.line, "national_id", _("%(id)s appears more than once in the file (record %(n)d)")
                         % {"id": nid, "n": seen[nid]})
        else:
            seen[nid] = r.n
        if c.get("grade"):
            try:
                r.grade = normalize_grade(scheme, c["grade"])
            except GradeError:
                report.error(r.n, r.line, "grade", _("%(v)r is not a 判定区分; allowed: 1, 2, 3, 4 (Ⅰ, Ⅱ, Ⅲ, Ⅳ)")
                             % {"v": c["grade"]})
        if c.get("inspected_on"):
            try:
                r.day = parse_date(c["inspected_on"])
            except ValidationError as exc:
                report.error(r.n, r.line, "inspected_on", " ".join(exc.messages))
        fy = None
        if c.get("inspection_fy"):
            try:
                fy = wareki.parse_fiscal_year(c["inspection_fy"])
            except (ValueError, wareki.EraError) as exc:
                report.error(r.n, r.line, "inspection_fy", str(exc))
            else:
                if fy is None:
                    report.error(r.n, r.line, "inspection_fy", _("%r is not a fiscal year; use 2024 or R6")
                                 % c["inspection_fy"])
        if r.day and fy and wareki.fiscal_year(r.day) != fy:
            report.error(r.n, r.line, "inspection_fy", _("%(day)s lies in fiscal year %(fy)d, not %(given)d")
                         % {"day": r.day, "fy": wareki.fiscal_year(r.day), "given": fy})
        if r.day and not r.grade and not c.get("grade"):
            report.error(r.n, r.line, "grade", _("required with 点検年月日; allowed: 1, 2, 3, 4 (Ⅰ, Ⅱ, Ⅲ, Ⅳ)"))
        if r.grade and not c.get("inspected_on"):
            report.warnings.append(f"Record {r.n} (line {r.line}) {BY_FIELD['inspected_on'].header}: " + _(
                    "no date of inspection, so the 判定区分 is not recorded (点検年度 alone does not date it)"))


def _resolve(rows: list[_Row], actor: Actor, report: NationalReport) -> None:
    """Which registry bridge each row is: by its linked national id, else by 共通ID, else a new one."""
    writable = Asset.objects.all() if actor.is_system else access.assets_writable(actor.principal)
    ids = [r.cells["national_id"] for r in rows if r.cells.get("national_id")]
    links = {x.value: x.asset for x in ExternalId.objects.filter(system=SYSTEM, value__in=ids).select_related("asset")}
    may = set(writable.filter(pk__in=[a.pk for a in links.values()]).values_list("pk", flat=True))
    gids = [r.cells["global_id"] for r in rows if r.cells.get("global_id")]
    by_gid = {a.global_id: a for a in writable.filter(global_id__in=gids)}
    visible = Asset.objects.all() if actor.is_system else access.assets_visible(actor.principal)
    seen = set(visible.filter(global_id__in=gids, kind="bridge").values_list("global_id", flat=True)) - set(by_gid)
    has_id = dict(ExternalId.objects.filter(system=SYSTEM, asset__in=list(by_gid.values()))
                  .values_list("asset_id", "value"))
    for r in rows:
        nid, gid = r.cells.get("national_id", ""), r.cells.get("global_id", "")
        if not nid:
            continue
        linked = links.get(nid)
        if linked is not None:
            if linked.pk not in may:
                report.error(r.n, r.line, "national_id", _("%s is the id of a bridge you may not change") % nid)
                continue
            if gid and gid != linked.global_id and (gid in by_gid or gid in seen):
                report.error(r.n, r.line, "global_id", _("%(id)s is already the national id of %(gid)s")
                             % {"id": nid, "gid": linked.global_id})
                continue
            r.asset = linked
        elif gid:
            asset = by_gid.get(gid)
            if asset is None and gid in seen:
                report.error(r.n, r.line, "global_id", _("%s is a bridge you may not change") % gid)
                continue
            if asset is None or asset.kind != "bridge":
                # Not in this registry (a file from another system, or a bridge since deleted): a new bridge.
                report.warnings.append(f"Record {r.n} (line {r.line}) {BY_FIELD['global_id'].header}: "
                                       + _("no bridge %s in the registry; the row is imported as a new bridge") % gid)
                continue
            if has_id.get(asset.pk):
                report.error(r.n, r.line, "global_id", _("%(gid)s already has the national id %(id)s")
                             % {"gid": gid, "id": has_id[asset.pk]})
                continue
            r.asset, r.link = asset, True
        if r.asset is not None:
            owner = r.cells.get("owner")
            if owner:
                try:
                    code = normalize_lg_code(owner)
                except ValidationError as exc:
                    report.error(r.n, r.line, "owner", " ".join(exc.messages))
                    continue
                if code != r.asset.owner_id:
                    report.error(r.n, r.line, "owner", _("%(code)s is not the owner of %(gid)s (%(owner)s)")
                                 % {"code": code, "gid": r.asset.global_id, "owner": r.asset.owner_id})
            # A bridge of another ledger keeps its attributes: that ledger is its master.
            r.to_ledger = r.asset.source == SOURCE and r.asset.external_id == nid
    others = sum(1 for r in rows if r.asset is not None and not r.to_ledger)
    if others:
        report.warnings.append(_("%d bridges come from another ledger: their attributes are kept as that ledger has "
                                 "them; only the national id and the inspections are recorded") % others)


LEDGER_LINE = re.compile(r"^Record \d+ \(line (\d+)\) (\S+): (.*)$", re.S)


def _ledger_table(rows: list[_Row], table: Table, present: set[str]) -> Table:
    """The rows whose attributes go through the ledger import, under the ledger import's own field names."""
    cols = [c for c in COLUMNS if c.registry and c.imported and c.field in present]
    out = [[c.registry for c in cols]]
    for r in rows:
        vals = []
        for c in cols:
            v = r.cells.get(c.field, "")
            if c.field == "structure_type" and v:
                v = _word(v, STRUCTURE_WORDS)
            elif c.field == "crosses" and v:
                v = _word(v, CROSSING_WORDS)
            vals.append(v)
        out.append(vals)
    return Table(rows=out, lines=[0] + [r.line for r in rows], fmt=table.fmt, encoding=table.encoding)


def import_national(*, actor: Actor, data: bytes, filename: str, municipality: str | None = None,
                    dry_run: bool = False) -> NationalReport:
    report = NationalReport(dry_run=dry_run)
    rows = _read(data, filename, report)
    table, header = report.__dict__.pop("_table")
    sch = resolve_scheme("bridge", SCHEME)
    scheme = scheme_dict(sch.pk)
    _check_rows(rows, scheme, report)
    _resolve(rows, actor, report)
    numbers = {r.line: r for r in rows}
    present = set(header.columns.values())
    try:
        with transaction.atomic():
            ledger_rows = [r for r in rows if r.to_ledger and r.cells.get("national_id")]
            if ledger_rows:
                sub = _ledger_table(ledger_rows, table, present)
                rep = import_table(actor=actor, table=sub, kind="bridge", municipality=municipality, source=SOURCE,
                                   dry_run=dry_run or bool(report.errors), mapping={})
                for msg in rep.errors:
                    m = LEDGER_LINE.match(msg)
                    row = numbers.get(int(m.group(1))) if m else None
                    if row is None:
                        report.errors.append(msg)
                        report.error_count += 1
                    else:
                        report.error(row.n, row.line, HEADER_OF.get(m.group(2), m.group(2)), m.group(3))
                report.error_count += max(0, rep.error_count - len(rep.errors))
                report.warnings += rep.warnings
                report.created, report.updated, report.unchanged = rep.created, rep.updated, rep.unchanged
            if report.errors:
                raise _Rollback
            new_links = _link(rows, actor, report, municipality, write=not dry_run)
            _inspections(rows, actor, report, dry_run=dry_run)
            if report.errors:
                raise _Rollback
            report.linked = new_links
            if dry_run:
                raise _Rollback
            report.written = True
    except _Rollback:
        report.written = False
    return report


def _link(rows: list[_Row], actor: Actor, report: NationalReport, municipality: str | None, *, write: bool) -> int:
    """Bridges new from this import (ledger source "xroad", external id = 橋梁ID) and those named by 共通ID get
    their national id, with history (set-based)."""
    fresh = [r for r in rows if r.asset is None and r.cells.get("national_id")]
    if not write:
        return len(fresh) + sum(1 for r in rows if r.link)
    default = municipality and normalize_lg_code(municipality)
    owners = [normalize_lg_code(r.cells["owner"]) if r.cells.get("owner") else default for r in fresh]
    # By owner too: the registry's unique (owner, source, external id) index finds them (assets.Asset.Meta).
    by_key = {(a.owner_id, a.external_id): a for a in Asset.objects.filter(
        owner_id__in=set(owners), kind="bridge", source=SOURCE,
        external_id__in=[r.cells["national_id"] for r in fresh])}
    for r, owner in zip(fresh, owners, strict=True):
        r.asset = by_key.get((owner, r.cells["national_id"]))
        r.link = r.asset is not None
    linking = [r for r in rows if r.link and r.asset is not None]
    created = ExternalId.objects.bulk_create([ExternalId(asset=r.asset, system=SYSTEM, value=r.cells["national_id"])
                                              for r in linking])
    if created:
        with connection.cursor() as cur:
            record_changes(cur, actor=actor, model=ExternalId, action=Action.CREATE, params={
                "ids": [x.pk for x in created]}, message=_("national database import"), rows_sql="""
                SELECT x.id, x.system || ':' || x.value, NULL::jsonb,
                       jsonb_build_object('asset', a.global_id, 'system', x.system, 'value', x.value)
                FROM assets_externalid x JOIN assets_asset a ON a.id = x.asset_id WHERE x.id = ANY(%(ids)s)""")
    return len(created)


def _inspections(rows: list[_Row], actor: Actor, report: NationalReport, *, dry_run: bool) -> None:
    """判定区分 with 点検年月日 → an inspection of the bridge, unless the bridge has one of that date already
    (idempotent by bridge and date). Checked by `inspections.services.validate` (no future date, none before the
    bridge was built), stored by `inspections_record_many`."""
    todo = [r for r in rows if r.grade and r.day]
    known = set()
    assets = [r.asset.pk for r in todo if r.asset is not None]
    if assets:
        from inspections.models import Inspection

        known = {(a, d): g for a, d, g in Inspection.objects.filter(
            asset_id__in=assets, scheme__code=SCHEME).values_list("asset_id", "inspected_on", "grade__code")}
    cache: dict = {}
    batch = []
    for r in todo:
        if r.asset is None:  # a bridge this dry run would create: its grade and date are already checked
            report.inspections += 1
            continue
        stored = known.get((r.asset.pk, r.day))
        if stored is not None:
            report.inspections_known += 1
            if stored != r.grade:
                report.warnings.append(f"Record {r.n} (line {r.line}) 判定区分: " + _(
                    "%(gid)s already has an inspection on %(day)s graded %(stored)s; it is kept")
                    % {"gid": r.asset.global_id, "day": r.day, "stored": stored})
            continue
        try:
            clean = validate(asset=r.asset, inspected_on=r.day, grade=r.cells["grade"], scheme=SCHEME, cache=cache)
        except ValidationError as exc:
            for fld, msgs in exc.message_dict.items():
                report.error(r.n, r.line, HEADER_OF.get(fld, fld), " ".join(msgs))
            continue
        batch.append((r.asset, clean))
        known[(r.asset.pk, r.day)] = r.grade
    report.inspections += len(batch)
    if batch and not dry_run and not report.errors:
        inspections_record_many(actor=actor, rows=batch, message=_("national database import"))
