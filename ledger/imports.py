"""Every ledger import kept with its report (ledger.models.LedgerImport): small ones run in the request, large
ones (over settings.LEDGER_ASYNC_ROWS records, files and JSON records alike) as a background job that reports
its progress. Either way the import's row says who sent which file when, and what the import said."""

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from assets import access
from assets.codes import normalize_lg_code
from assets.history import Actor
from assets.kinds import spec_for
from assets.models import ApiToken, Asset
from core.bulk import without_cycle_collection
from core.text import forbidden_char
from ledger.importer import LedgerReport, import_table, split_mapping
from ledger.mappings import clean_mapping
from ledger.models import LedgerImport
from ledger.readers import Table, check_srid, read_table, records_table

__all__ = ["IMPORT_STEPS", "RECORDS", "import_execute", "import_list", "start_import"]

# The file name of an import of JSON records (POST /ledger/upsert): no uploaded file can have it (read_table
# refuses a name without a known extension before anything is stored).
RECORDS = "(records)"

# The steps an import reports while it runs (English msgids, shown translated: core.jobs.progress_text).
IMPORT_STEPS = (gettext_noop("reading the file"), gettext_noop("checking the records"),
                gettext_noop("writing to the registry"))


def _records(table: Table) -> int:
    # Rows below the first one (the header, or title rows above it: a slight overcount decides nothing).
    return max(len(table.rows) - 1, 0)


MAX_SOURCE_CHARS = Asset._meta.get_field("source").max_length


def _checked(kind: str, source: str, srid: int | None, mapping: dict | None) -> dict:
    """What the import's own row and the saved mapping will hold, checked before anything is stored: the kind,
    the ledger source (it names a ledger: short text without control characters), the EPSG code and the mapping
    (each column's field and each word's value among the allowed ones). A ValidationError names the field and
    what is allowed, instead of a database error (or a KeyError deep in the import) after the row was written."""
    spec_for(kind)
    errors = {}
    if not source or len(source) > MAX_SOURCE_CHARS or forbidden_char(source):  # core.text: the one rule
        errors["source"] = _("Ledger source %(source)r: 1–%(max)d characters without control characters, e.g. "
                             "ledger, daicho") % {"source": (source or "")[:50], "max": MAX_SOURCE_CHARS}
    if srid is not None:
        try:
            check_srid(srid, "srid")
        except ValidationError as exc:
            errors["srid"] = exc.messages
    if errors:
        raise ValidationError(errors)
    if not mapping:
        return {}
    columns, values = clean_mapping(kind, *split_mapping(mapping))
    return {"columns": columns, "values": values}


def start_import(*, actor: Actor, kind: str, municipality: str | None, source: str, srid: int | None = None,
                 dry_run: bool = False, mapping: dict | None = None, data: bytes | None = None, filename: str = "",
                 table: Table | None = None, records: list[dict] | None = None
                 ) -> tuple[LedgerImport, LedgerReport | None]:
    """Record the import and run it now (→ the job, done, and its report), or, for more than LEDGER_ASYNC_ROWS
    records, store what was sent and leave the job queued (→ the job, None): the caller queues it
    (core.jobs.accepted). What is stored is the file, or the API's JSON records (`records`, kept as a JSON file
    and named RECORDS). A file that cannot be read at all, or records that break a bound, are refused at once
    (ValidationError), as before."""
    mapping = _checked(kind, source, srid, mapping)
    with without_cycle_collection():  # as import_ledger reads a file (core.bulk)
        if records is not None:
            table, filename = records_table(records), RECORDS
        elif table is None:
            table = read_table(data, filename)
    job = LedgerImport(
        created_by=actor.user, token=actor.principal if isinstance(actor.principal, ApiToken) else None,
        via=actor.via, kind=kind, source=source, filename=filename[:255], srid=srid, dry_run=dry_run,
        mapping=mapping or {}, municipality_id=municipality and normalize_lg_code(municipality),
        rows=_records(table))
    if (data is not None or records is not None) and job.rows > settings.LEDGER_ASYNC_ROWS:
        if records is not None:  # kept as they came, for the worker to read again (import_execute)
            data = json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode()
        job.file.save(filename or "ledger", ContentFile(data), save=False)
        job.save()
        return job, None
    job.save()
    outcome = {}
    job.execute(lambda: _run(job, actor, table, outcome), step=IMPORT_STEPS[1], progress=10)
    if "refused" in outcome:
        raise outcome["refused"]
    return job, outcome["report"]


def import_execute(import_id: int) -> LedgerImport:
    """Run a queued import once (a retried or duplicated task finds it claimed and stops); see core.jobs."""
    job = LedgerImport.objects.select_related("created_by", "token").get(pk=import_id)
    actor = Actor(job.token or job.created_by, job.via)

    def work():
        with job.file.open("rb") as fh:
            data = fh.read()
        with without_cycle_collection():  # as import_ledger reads a file (core.bulk)
            table = records_table(json.loads(data)) if job.filename == RECORDS else read_table(data, job.filename)
        job.report(10, IMPORT_STEPS[1])
        _run(job, actor, table, {})

    return job.execute(work, step=IMPORT_STEPS[0], progress=1)


def _run(job: LedgerImport, actor: Actor, table: Table, outcome: dict) -> None:
    """The import itself; a refusal (bad file, busy ledger) is kept as the import's report, not as a crash."""
    try:
        report = import_table(actor=actor, table=table, kind=job.kind, municipality=job.municipality_id,
                              source=job.source, srid=job.srid, dry_run=job.dry_run, mapping=job.mapping or None,
                              progress=job.report)
    except ValidationError as exc:
        outcome["refused"] = exc
        messages = [f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()] if hasattr(exc, "error_dict") \
            else list(exc.messages)
        job.finish(result={"ok": False, "errors": messages, "summary": "; ".join(messages)[:500],
                           "dry_run": job.dry_run, "written": False}, error_count=len(messages))
        return
    outcome["report"] = report
    job.finish(result=report.to_dict(), owners=report.owners, rows=report.rows, created_count=report.created,
               updated_count=report.updated, unchanged_count=report.unchanged,
               error_count=max(report.error_count, len(report.errors)), warning_count=len(report.warnings))


def import_list(*, principal, municipality: str | None = None) -> QuerySet:
    """The imports this person may see, newest first: those of a municipality they may see, and those of
    multi-municipality files whose every municipality they may see (the report names their records)."""
    qs = LedgerImport.objects.select_related("created_by", "municipality", "token")
    scope = access.scope_for(principal)
    if not scope.is_admin:
        codes = sorted(scope.read)
        qs = qs.filter(Q(municipality__in=codes) | Q(municipality__isnull=True, owners__contained_by=codes))
    if municipality:
        code = normalize_lg_code(municipality)
        qs = qs.filter(Q(municipality=code) | Q(owners__contains=[code]))
    return qs.reaped()
