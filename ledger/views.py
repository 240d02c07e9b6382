"""The ledger upload page: choose a file, check it (dry run) or load it, read the report; map columns and
values right there and check again without choosing the file again (the file is kept server-side for a while,
`ledger.pending`). A mapping used for a successful load is saved for the municipality's ledger."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from assets import access, selectors
from assets.access import principal_of
from assets.history import Actor
from assets.kinds import KINDS
from assets.models import Asset, Via
from core.text import whole_number
from ledger import pending
from ledger.fields import field_label, fields_for
from ledger.imports import import_list, start_import
from ledger.mappings import choices_of, save_mapping
from ledger.readers import MAX_UPLOAD_BYTES

IGNORE = "-"  # the select option "do not read this column" / "read this word as empty"


def _posted_mapping(post) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """What the person chose on the page: col-N (for the header colh-N) and val-N (field valf-N, word valw-N).
    An empty choice leaves it to the automatic reading."""
    columns, values = {}, {}
    for key in post:
        if key.startswith("colh-"):
            n = key.removeprefix("colh-")
            choice = post.get(f"col-{n}", "")
            if choice:
                columns[post[key]] = "" if choice == IGNORE else choice
        elif key.startswith("valw-"):
            n = key.removeprefix("valw-")
            choice, fld = post.get(f"val-{n}", ""), post.get(f"valf-{n}", "")
            if choice and fld:
                values.setdefault(fld, {})[post[key]] = "" if choice == IGNORE else choice
    return columns, values


def _mapping_form(report, kind: str, columns: dict, values: dict) -> dict:
    """The rows of the mapping table: every column (read or not) with what it is read as, and every word of
    a choice column with the registry value it became."""
    fields = [(name, field_label(kind, name)) for name in fields_for(kind)]

    def chosen(given: dict, key: str) -> str:
        return IGNORE if given.get(key) == "" else given.get(key, "")

    rows = [{"header": h, "field": f, "label": field_label(kind, f), "chosen": chosen(columns, h), "suggestions": []}
            for h, f in report.mapping.items()]
    rows += [{"header": i["column"], "field": "", "label": "", "chosen": chosen(columns, i["column"]),
              "suggestions": list(zip(i["suggestions"], i["labels"], strict=True)), "why": i["why"]}
             for i in report.ignored]
    words = []
    for fld, seen in report.values.items():
        allowed = choices_of(kind, fld)
        if allowed is None:
            continue
        labels = dict(allowed)
        for word, value in seen.items():
            words.append({"field": fld, "field_label": field_label(kind, fld), "word": word,
                          "value": labels.get(value, ""), "chosen": chosen(values.get(fld, {}), word),
                          "allowed": allowed})
    return {"columns": rows, "words": words, "fields": fields, "ignore": IGNORE}


@login_required
def ledger_import(request):
    principal = principal_of(request)
    municipalities = selectors.municipality_choices(principal=principal, writable=True)
    kinds = [(k, str(v)) for k, v in Asset._meta.get_field("kind").flatchoices if k in KINDS]
    ctx = {"municipalities": municipalities, "kinds": kinds, "report": None, "error": None, "form": request.POST,
           "pending": "", "pending_name": "", "mapping": None, "saved": False}
    if request.method == "GET" and "job" in request.GET:  # a background import's progress, as the POST sent here
        job = import_list(principal=principal).filter(pk=whole_number(request.GET["job"], 18) or 0).first()
        if job is None:
            ctx["error"] = _("No import %s that you may see") % request.GET["job"][:20]
            return render(request, "ledger/import.html", ctx, status=404)
        ctx["job"] = job
        return render(request, "ledger/import.html", ctx)
    if request.method == "POST":
        upload = request.FILES.get("file")
        token = request.POST.get("pending", "")
        columns, values = _posted_mapping(request.POST)
        kind = request.POST.get("kind", "")
        try:
            if upload is not None:
                if upload.size > MAX_UPLOAD_BYTES:
                    raise ValidationError({"file": _("At most %d MB per file") % (MAX_UPLOAD_BYTES // 2**20)})
                data, name = upload.read(), upload.name
                pending.drop(token)
                token = pending.keep(request.user.pk, data, name)
                columns, values = {}, {}  # a new file: its own columns
            elif token:
                data, name = pending.load(request.user.pk, token)
            else:
                raise ValidationError({"file": _("Choose a file")})
            ctx["pending"], ctx["pending_name"] = token, name
            srid = request.POST.get("srid") or None
            municipality = request.POST.get("municipality") or None
            source = request.POST.get("source") or "ledger"
            load = request.POST.get("action") == "load"
            job, report = start_import(
                actor=Actor(principal, Via.UI), data=data, filename=name, kind=kind, municipality=municipality,
                source=source, srid=int(srid) if srid else None, dry_run=not load,
                mapping={"columns": columns, "values": values})
            if report is None:  # a large file: a background job, whose progress the page follows
                from core.jobs import accepted

                accepted(job)
                pending.drop(token)
                # See Other: the page that follows the job is a GET, so reloading it shows the progress again
                # rather than sending the file again (each resend was a new import).
                response = redirect(f"{reverse('ledger-import')}?job={job.pk}")
                response.status_code = 303
                return response
            ctx["report"] = report
            ctx["mapping"] = _mapping_form(report, kind, columns, values)
            if load and report.ok:
                if (columns or values) and municipality and access.scope_for(principal).can_write(
                        report_owner(municipality), source):
                    save_mapping(municipality=municipality, kind=kind, source=source,
                                 mapping={"columns": columns, "values": values})
                    ctx["saved"] = True
                pending.drop(token)
                ctx["pending"] = ""
        except ValidationError as exc:
            ctx["error"] = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()) \
                if hasattr(exc, "error_dict") else " ".join(exc.messages)
        except PermissionDenied as exc:
            ctx["error"] = str(exc)
        except ValueError:
            ctx["error"] = _("srid: give an EPSG number such as 6677")
    # A request refused as a whole (a field out of its allowed values, the file gone) is a 422; a report, even one
    # listing bad records, is the page's answer (200).
    return render(request, "ledger/import.html", ctx, status=422 if ctx["error"] else 200)


def report_owner(municipality: str) -> str:
    from assets.codes import normalize_lg_code

    return normalize_lg_code(municipality)


@login_required
def ledger_imports(request):
    """The imports of the municipalities this person may see (?municipality= narrows to one), newest first."""
    principal = principal_of(request)
    municipality = request.GET.get("municipality") or None
    imports = list(import_list(principal=principal, municipality=municipality)[:200])
    return render(request, "ledger/imports.html", {
        "imports": imports, "municipality": municipality,
        "municipalities": selectors.municipality_choices(principal=principal)})
