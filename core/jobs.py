"""The life cycle every background job shares (engine runs, plans): queued → running → done | failed.

A job is claimed once (a retried or duplicated task finds it no longer queued), reports its progress as a
percentage and a step, and ends done, or failed with a short message for its users and the traceback for the
operators (core.failures). Its owner holds the job's advisory lock from before the claim to the end
(core.liveness), so a job that says 'running' has a live owner, or is dead: the first read that sees it running
marks it failed, instead of it showing 'running' for ever."""

import time
from collections.abc import Callable, Iterable
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from ninja import Status as Answer

from core import liveness
from core.failures import record_failure

__all__ = ["Job", "JobQuerySet", "accepted", "progress_text"]

# The steps a job reports (Job.message while it runs) are stored as English msgids and shown translated.
STEP_DONE = gettext_noop("done")


def progress_text(status: str, progress: int, message: str) -> str:
    """A job's state as people read it: 実行中 20%（劣化の推計）, 完了, 失敗：<reason>, 待機中."""
    labels = dict(Job.Status.choices)
    state = str(labels.get(status, status))
    if status == Job.Status.RUNNING:
        if not message:
            return f"{state} {progress}%"
        return gettext("%(state)s %(pct)s%% (%(step)s)") % {"state": state, "pct": progress, "step": gettext(message)}
    if status == Job.Status.FAILED and message:
        return gettext("%(state)s: %(reason)s") % {"state": state, "reason": gettext(message)}
    return state


class JobQuerySet(models.QuerySet):
    def reaped(self) -> "JobQuerySet":
        """These jobs, once those among them that say 'running' without a live owner are marked failed.
        One query when none is running; the queryset itself stays lazy."""
        self.model.reap_dead(self.filter(status=Job.Status.RUNNING).values_list("pk", flat=True))
        return self


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    # The step under way; once failed, the short reason everyone may read.
    message = models.CharField(_("message"), max_length=200, blank=True)
    # The traceback of a failure: for the operators only (the log, superusers in the admin).
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_s = models.FloatField(_("duration (s)"), null=True, blank=True)

    objects = JobQuerySet.as_manager()

    # Each kind of job says: the first key of its advisory lock (one namespace per kind), the django-q2 task
    # that executes one by id, how its failures name it, and what is stored on one whose owner died.
    lock_kind: ClassVar[int]
    task: ClassVar[str]
    label: ClassVar[Promise]
    dead_message: ClassVar[Promise]

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def execute(self, work: Callable[[], None], *, step: str, progress: int = 1, **claimed) -> "Job":
        """Own the job, claim it and do `work`, which ends by calling finish() with the results (in the
        transaction that stores them). A failure is recorded and raised. A job someone else owns, or no longer
        queued, is left alone. Returns the job as it stands."""
        with liveness.owning(self.lock_kind, self.pk) as owned:
            if not owned or not self.claim(step=step, progress=progress, **claimed):
                return self
            try:
                work()
                if self.status != self.Status.DONE:
                    raise RuntimeError(f"{self.label} #{self.pk}: the work ended without finishing the job")
            except Exception as exc:
                self.fail(exc)
                raise
        self.refresh_from_db()
        return self

    def claim(self, *, step: str, progress: int, **fields) -> bool:
        """Queued → running, exactly once; `fields` are stored with the claim (e.g. when it started)."""
        fields = {"status": self.Status.RUNNING, "progress": progress, "message": step, **fields}
        if type(self)._default_manager.filter(pk=self.pk, status=self.Status.QUEUED).update(**fields) != 1:
            return False
        self._set(fields)
        self._claimed_at = time.perf_counter()
        return True

    def report(self, progress: int, step: str) -> None:
        self._store(progress=progress, message=step)

    def finish(self, **results) -> None:
        self._store(status=self.Status.DONE, progress=100, message=STEP_DONE, finished_at=timezone.now(),
                    duration_s=round(time.perf_counter() - self._claimed_at, 2), **results)

    def fail(self, exc: BaseException) -> None:
        message, detail = record_failure(exc, what=self.label, pk=self.pk)
        self._store(status=self.Status.FAILED, error=detail, message=message, finished_at=timezone.now())

    @property
    def progress_text(self) -> str:
        """Status, percentage and step in the reader's language (never `running 20% estimating deterioration`)."""
        return progress_text(self.status, self.progress, self.message)

    @property
    def public_error(self) -> str:
        """Why it failed, for everyone who may see the job: the short message, never the traceback."""
        return self.message if self.status == self.Status.FAILED else ""

    def checked(self) -> "Job":
        """This job, failed if it says 'running' but its owner is gone: one lock try, and only then."""
        if self.status == self.Status.RUNNING and self.reap_dead([self.pk]):
            self.refresh_from_db()
        return self

    @classmethod
    def reap_dead(cls, pks: Iterable[int]) -> list[int]:
        """Mark failed those of these 'running' jobs whose owner's lock is free (its process is gone)."""
        dead = []
        for pk in pks:
            with liveness.owning(cls.lock_kind, pk) as free:
                # Holding the free lock, no owner can start on the job while it is marked.
                if free and cls._default_manager.filter(pk=pk, status=cls.Status.RUNNING).update(
                        status=cls.Status.FAILED, message=str(cls.dead_message)[:200], finished_at=timezone.now()):
                    dead.append(pk)
        return dead

    def _store(self, **fields) -> None:
        type(self)._default_manager.filter(pk=self.pk).update(**fields)
        self._set(fields)

    def _set(self, fields: dict) -> None:
        for name, value in fields.items():
            setattr(self, name, value)


def accepted(job: Job) -> Answer:
    """The API's answer to starting a job: queue its task, then 202 with the job as it stands (already done
    when ENGINE_SYNC runs the task in the request)."""
    from django_q.tasks import async_task  # imports django-q2's models: not while the app registry loads

    async_task(job.task, job.pk, sync=getattr(settings, "ENGINE_SYNC", False))
    job.refresh_from_db()
    return Answer(202, job)
