"""What a failed background job (engine run, plan) tells its users, and what it keeps for the operators.

The traceback names files, SQL and settings: it goes to the log and to the record's `error` field, which only
superusers see in the admin. API clients and pages get a short message: the reason when it is the user's to
fix (a ValidationError), else that the job failed and where the operators will find the details."""

import logging
import traceback

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

logger = logging.getLogger("gunmane.jobs")


def public_message(exc: BaseException, *, what: str, pk) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)[:200]
    return _("%(what)s #%(id)s failed with an internal error; the operators have the details") % {
        "what": what, "id": pk}


def record_failure(exc: BaseException, *, what: str, pk) -> tuple[str, str]:
    """(short message for everyone, traceback for operators); the traceback is also logged."""
    logger.error("%s #%s failed", what, pk, exc_info=exc)
    return public_message(exc, what=what, pk=pk), "".join(traceback.format_exception(exc))
