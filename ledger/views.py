"""The ledger upload page: choose a file, check it (dry run) or load it, read the report."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _

from assets import selectors
from assets.history import Actor
from assets.kinds import KINDS
from assets.models import Asset, Via
from ledger.importer import import_ledger
from ledger.readers import MAX_UPLOAD_BYTES


@login_required
def ledger_import(request):
    municipalities = selectors.municipality_choices(principal=request.user, writable=True)
    kinds = [(k, str(v)) for k, v in Asset._meta.get_field("kind").flatchoices if k in KINDS]
    ctx = {"municipalities": municipalities, "kinds": kinds, "report": None, "error": None, "form": request.POST}
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ValidationError({"file": _("Choose a file")})
            if upload.size > MAX_UPLOAD_BYTES:
                raise ValidationError({"file": _("At most %d MB per file") % (MAX_UPLOAD_BYTES // 2**20)})
            srid = request.POST.get("srid") or None
            ctx["report"] = import_ledger(
                actor=Actor(request.user, Via.UI), data=upload.read(), filename=upload.name,
                kind=request.POST.get("kind", ""), municipality=request.POST.get("municipality") or None,
                source=request.POST.get("source") or "ledger", srid=int(srid) if srid else None,
                dry_run=request.POST.get("action") != "load")
        except ValidationError as exc:
            ctx["error"] = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()) \
                if hasattr(exc, "error_dict") else " ".join(exc.messages)
        except PermissionDenied as exc:
            ctx["error"] = str(exc)
        except ValueError:
            ctx["error"] = _("srid: give an EPSG number such as 6677")
    return render(request, "ledger/ledger_import.html", ctx, status=200)
