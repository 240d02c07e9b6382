"""Bulk import of inspection results from CSV (UTF-8, UTF-8 with BOM or CP932): validate every row, report
every bad one as `Record N field: message` (the first MAX_ERRORS_SHOWN, with the count), then store all rows
or none. At most MAX_UPLOAD_BYTES per file and MAX_ROWS rows."""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from assets import access
from assets.codes import normalize_lg_code
from assets.history import Action as HAction
from assets.history import Actor, record_change
from assets.models import Asset
from assets.services import lock_assets
from core.text import decode, describe_columns, find_header, header_key, text_errors
from inspections.condition import refresh_conditions
from inspections.models import Inspection
from inspections.services import _snapshot, validate

COLUMNS = {
    "asset": ["asset", "global_id", "共通id", "施設id(共通)", "共通施設id"],
    "municipality": ["municipality", "団体コード", "管理者コード", "市町村コード"],
    "external_id": ["external_id", "台帳番号", "管渠番号", "橋梁id", "施設番号", "施設id", "浄化槽番号"],
    "inspected_on": ["inspected_on", "点検日", "点検年月日", "検査日", "調査日", "点検実施日"],
    "grade": ["grade", "判定", "判定区分", "健全性", "緊急度", "診断区分", "検査結果", "判定結果"],
    "scheme": ["scheme", "判定体系"],
    "method": ["method", "点検方法", "調査方法", "検査方法"],
    "inspector": ["inspector", "点検者", "点検業者", "検査機関", "調査者"],
    "notes": ["notes", "備考"],
    "legal_basis": ["legal_basis", "検査種別", "法定検査種別"],
    "crack_pct": ["crack_pct", "ひび割れ率", "ひび割れ率(%)"],
    "rut_mm": ["rut_mm", "わだち掘れ量", "わだち掘れ量(mm)"],
    "iri": ["iri", "iri(mm/m)"],
    "sigma_mm": ["sigma_mm", "平坦性", "平坦性(mm)"],
    "joint_fault_mm": ["joint_fault_mm", "目地部の段差", "段差量", "段差量(mm)", "目地段差(mm)"],
    "mci": ["mci", "維持管理指数"],
    "base_damage": ["base_damage", "路盤以下の損傷"],
    "joint_sealant_lost": ["joint_sealant_lost", "目地材の飛散"],
    "span_corrosion": ["span_corrosion", "管の腐食"],
    "span_sag": ["span_sag", "上下方向のたるみ", "たるみ"],
    "pipe_count": ["pipe_count", "管本数", "スパン管本数"],
    "pipes": ["pipes", "管1本ごとの不良", "不良内容"],
}
OBSERVATION_COLUMNS = ("crack_pct", "rut_mm", "iri", "sigma_mm", "joint_fault_mm", "mci", "base_damage",
                       "joint_sealant_lost", "pipe_count")
SPAN_COLUMNS = {"span_corrosion": "corrosion", "span_sag": "sag"}
PIPE_ROW = re.compile(r"^\s*([^:：@#]+?)\s*[:：]\s*([abcABCａｂｃ])\s*(?:@\s*([0-9.]+))?\s*(?:#\s*([0-9]+))?\s*$")
MAX_ROWS = 100_000
# The columns that are notes (several lines); every other column is one line (core.text).
NOTES = ("notes",)
# 100,000 rows of a wide inspection sheet fit in well under 20 MB; the bound keeps one upload's memory small.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ERRORS_SHOWN = 1000


LOOKUP = {header_key(alias): name for name, aliases in COLUMNS.items() for alias in aliases}


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    dry_run: bool = False
    errors: list[str] = field(default_factory=list)
    encoding: str = ""
    error_count: int = 0  # every error found; `errors` lists the first MAX_ERRORS_SHOWN

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_SHOWN:
            self.errors.append(message)


def check_size(size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is %(mb).1f MB; at most %(max)d MB per CSV file")
                               % {"mb": size / 2**20, "max": MAX_UPLOAD_BYTES // 2**20}})


def header_row(rows: list[list[str]], lookup: dict[str, str], accept, missing: str) -> tuple[int, dict[int, str]]:
    """The header (`core.text.find_header`) as (row index, {column: field}); `missing` is the refusal when no
    row is accepted. A field named by two columns is refused: which of two 点検日 columns is meant cannot be
    guessed, and reading one would drop the other."""
    header = find_header(rows, lookup, accept)
    if header is None:
        raise ValidationError({"file": missing})
    if header.twice:
        raise ValidationError({"file": [
            _("Columns %(cols)s all give %(field)s; keep one of them")
            % {"cols": describe_columns(rows[header.at], cols), "field": n} for n, cols in header.twice.items()]})
    return header.at, header.columns


def _header(rows: list[list[str]]) -> tuple[int, dict[int, str]]:
    """A row naming a date and an asset (共通ID, or 団体コード with 台帳番号) is the header."""
    return header_row(rows, LOOKUP, lambda names: "inspected_on" in names and bool({"asset", "external_id"} & names),
                      _("No header row found; it needs a date column (点検日) and an asset column (共通ID, or 団体コード "
                        "with 台帳番号)"))


def checked_rows(records, assets: dict[int, Asset], report: "ImportReport", check) -> list[tuple]:
    """`check(asset, record)` on every row whose asset was found: its ValidationError becomes one report line
    a message, `Record N (line L) field: message`. Returns [(asset, record, what check returned)]."""
    valid = []
    for n, (line_no, rec) in enumerate(records, start=1):
        asset = assets.get(line_no)
        if asset is None:
            continue
        try:
            valid.append((asset, rec, check(asset, rec)))
        except ValidationError as exc:
            for fld, msgs in exc.message_dict.items():
                for m in msgs:
                    report.add_error(f"Record {n} (line {line_no}) {fld}: {m}")
    return valid


def import_upload(principal, file, importer, *, what: str, dry_run: bool, municipality: str | None):
    """An API upload of an inspection or measure CSV: (status, body). Oversized files are refused (413) before
    they are read into memory; a report with errors answers 422."""
    from assets.history import Actor
    from assets.models import Via

    if file.size > MAX_UPLOAD_BYTES:
        return 413, {"detail": f"at most {MAX_UPLOAD_BYTES // 2**20} MB per {what} CSV"}
    report = importer(actor=Actor(principal, Via.IMPORT), data=file.read(), dry_run=dry_run,
                      default_municipality=municipality)
    return (200 if report.ok else 422), report


def read_records(data: bytes, header, *, dry_run: bool) -> tuple["ImportReport", list, set[int]]:
    """The CSV prelude both imports share: size, encoding, the header (found by `header`), one record per
    non-blank row as (line number, {field: text}), and the lines holding a character no stored text may
    (`core.text`: a NUL, another control character; notes may hold tabs and line breaks), refused and named."""
    check_size(len(data))
    text, encoding = decode(data)
    rows = list(csv.reader(io.StringIO(text)))
    header_at, mapping = header(rows)
    records = []
    report = ImportReport(dry_run=dry_run, encoding=encoding)
    for line_no, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        if not any(c.strip() for c in row):
            continue
        records.append((line_no, {name: row[j].strip() for j, name in mapping.items() if j < len(row)}))
        if len(records) > MAX_ROWS:
            raise ValidationError({"file": _("At most %d rows per file") % MAX_ROWS})
    report.rows = len(records)
    refused: set[int] = set()
    for n, (line_no, rec) in enumerate(records, start=1):
        for name, msgs in text_errors(rec, multiline=NOTES).items():
            refused.add(line_no)
            for m in msgs:
                report.add_error(f"Record {n} (line {line_no}) {name}: {m}")
    return report, records, refused


def import_csv(*, actor: Actor, data: bytes, dry_run: bool = False, default_municipality: str | None = None,
               scheme: str | None = None) -> ImportReport:
    report, records, refused = read_records(data, _header, dry_run=dry_run)
    assets = _resolve_assets(actor, records, default_municipality, report, skip=refused)
    cache: dict = {}
    names = sewer_item_names()
    valid = checked_rows(records, assets, report, lambda asset, rec: validate(
        asset=asset, inspected_on=rec.get("inspected_on"), grade=rec.get("grade") or None,
        scheme=rec.get("scheme") or scheme, method=rec.get("method"),
        observations=observations_of(rec, names), legal_basis=rec.get("legal_basis", ""), cache=cache))
    if report.errors or dry_run:
        report.created = 0 if report.errors else len(valid)
        return report
    with transaction.atomic():
        # Locked in id order, as a single inspection locks its asset: a concurrent write to the same assets
        # waits, and the condition rebuilt below then sees the inspections it committed.
        lock_assets(a.pk for a, _r, _c in valid)
        created = Inspection.objects.bulk_create([
            Inspection(asset=a, inspector=r.get("inspector", "")[:100], notes=r.get("notes", ""),
                       created_by=actor.user, **clean)
            for a, r, clean in valid
        ])
        for insp in created:
            record_change(actor=actor, obj=insp, action=HAction.CREATE, after=_snapshot(insp),
                          message=_("bulk import"))
        refresh_conditions(sorted({a.pk for a, _r, _c in valid}))
    report.created = len(created)
    return report


def sewer_item_names() -> dict[str, str]:
    """Japanese item names of the sewer schemes (クラック → crack), read once per file."""
    from inspections.models import GradingScheme

    names: dict[str, str] = {}
    for lists in GradingScheme.objects.filter(rule="sewer").values_list("lists", flat=True):
        names |= {v: k for k, v in (lists or {}).get("items", {}).items()}
    return names


def _pipe_items(text: str, names: dict[str, str]) -> list[dict]:
    """The per-pipe column: `item:grade[@metres][#pipe]` rows separated by `;`, e.g. `crack:b@4.5#3; 継手ズレ:a`.
    An item is the catalogue key (crack) or its Japanese name (クラック); the grading rule checks it."""
    rows = []
    for n, part in enumerate(p for p in re.split(r"[;；]", text) if p.strip()):
        m = PIPE_ROW.match(unicodedata.normalize("NFKC", part))
        if not m:
            raise ValidationError({"pipes": _("part %(n)d (%(text)s) is not item:grade[@metres][#pipe], e.g. "
                                              "crack:b@4.5#3") % {"n": n + 1, "text": part.strip()}})
        item, grade, at, pipe = m.groups()
        row = {"item": names.get(item, item), "grade": grade.lower()}
        if at:
            try:
                row["at_m"] = float(at)
            except ValueError:
                raise ValidationError({"pipes": _("part %(n)d: %(at)s is not a position in metres")
                                       % {"n": n + 1, "at": at}}) from None
        if pipe:
            row["pipe"] = int(pipe)
        rows.append(row)
    return rows


def observations_of(rec: dict, names: dict[str, str]) -> dict:
    """A CSV row's observations: the pavement measures and flags, the sewer span grades, pipe count and
    per-pipe rows, under the keys the grading rules read (inspections.grading)."""
    obs = {k: rec[k] for k in OBSERVATION_COLUMNS if rec.get(k)}
    span = {item: rec[col] for col, item in SPAN_COLUMNS.items() if rec.get(col)}
    if span:
        obs["span"] = span
    if rec.get("pipes"):
        obs["pipes"] = _pipe_items(rec["pipes"], names)
    return obs


def _resolve_assets(actor: Actor, records, default_municipality, report, skip: set[int]) -> dict[int, Asset]:
    """Find every row's asset in two set-based queries, within what the actor may write (rows on the `skip`
    lines are already refused)."""
    numbers = {line_no: n for n, (line_no, _r) in enumerate(records, start=1)}
    records = [(line_no, r) for line_no, r in records if line_no not in skip]
    writable = Asset.objects.all() if actor.is_system else access.assets_writable(actor.principal)
    visible = Asset.objects.all() if actor.is_system else access.assets_visible(actor.principal)
    by_gid = {r["asset"] for _l, r in records if r.get("asset")}
    found_gid = {a.global_id: a for a in writable.filter(global_id__in=by_gid)}
    seen_gid = set(visible.filter(global_id__in=by_gid).values_list("global_id", flat=True))
    pairs, bad_codes = {}, {}
    for line_no, r in records:
        if r.get("asset"):
            continue
        raw = r.get("municipality") or default_municipality
        try:
            code = normalize_lg_code(raw)
        except ValidationError as exc:
            bad_codes[line_no] = exc.messages[0]
            continue
        pairs[line_no] = (code, r.get("external_id", ""))
    found_pair = {}
    if pairs:
        from django.db.models import Q

        q = Q()
        for code, ext in set(pairs.values()):
            q |= Q(owner_id=code, external_id=ext)
        for a in writable.filter(q):
            found_pair.setdefault((a.owner_id, a.external_id), a)
    out = {}
    for line_no, r in records:
        prefix = f"Record {numbers[line_no]} (line {line_no})"
        if r.get("asset"):
            gid = r["asset"]
            if gid in found_gid:
                out[line_no] = found_gid[gid]
            elif gid in seen_gid:
                report.add_error(f"{prefix} asset: " + _("%s belongs to another municipality; you may not "
                                                             "record inspections for it") % gid)
            else:
                report.add_error(f"{prefix} asset: " + _("no asset %s that you may see") % gid)
        elif line_no in bad_codes:
            report.add_error(f"{prefix} municipality: {bad_codes[line_no]}")
        elif not r.get("external_id"):
            report.add_error(f"{prefix} asset: " + _("give 共通ID, or 団体コード with 台帳番号"))
        elif pairs[line_no] in found_pair:
            out[line_no] = found_pair[pairs[line_no]]
        else:
            report.add_error(f"{prefix} external_id: " + _("no asset %(ext)s of municipality %(code)s that you "
                                                               "may change") % {"ext": pairs[line_no][1],
                                                                                 "code": pairs[line_no][0]})
    return out
