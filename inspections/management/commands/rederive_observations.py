"""Re-derive stored inspections' `observations.derived` after a rule or catalogue change.

The inspector's grade stays as recorded (the legal record); the command says how many derived grades moved
and how many now differ from the recorded grade, so an engineer can review those inspections."""

from django.core.management.base import BaseCommand, CommandError

from inspections.rederive import SchemeCounts, rederive, scheme_codes


def _line(name: str, c: SchemeCounts) -> str:
    return (f"{name}: {c.examined:,} inspections with observations; derived values changed on {c.changed:,} "
            f"(derived grade changed on {c.grade_changed:,}); {c.differ:,} now differ from the recorded grade "
            f"({c.differ_not_given:,} of them were recorded without a grade, from an older rule); "
            f"{c.failed:,} no longer pass the rule; {c.skipped:,} skipped (edited meanwhile)")


class Command(BaseCommand):
    help = ("Recompute observations.derived of stored inspections with the current catalogue rules, leaving "
            "the recorded grade untouched; report changed derived grades and those that differ from it.")

    def add_arguments(self, parser):
        parser.add_argument("--scheme", action="append", dest="schemes", metavar="CODE",
                            help="only this grading scheme (repeatable), e.g. sewer_kinkyu")
        parser.add_argument("--dry-run", action="store_true", help="count what would change; write nothing")

    def handle(self, *args, schemes=None, dry_run=False, **options):
        known = scheme_codes()
        unknown = sorted(set(schemes or ()) - set(known))
        if unknown:
            raise CommandError(f"unknown scheme {', '.join(unknown)}; allowed: {', '.join(known)}")
        report = rederive(schemes=schemes, dry_run=dry_run)
        for code, counts in sorted(report.by_scheme.items()):
            self.stdout.write(_line(code, counts))
        self.stdout.write(_line("total (dry run, nothing written)" if dry_run else "total", report.total()))
        for message in report.errors:
            self.stderr.write(message)
