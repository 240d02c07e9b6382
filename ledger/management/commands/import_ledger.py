import json
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from assets.history import Actor
from assets.kinds import KINDS
from assets.models import Via
from ledger.importer import import_ledger
from ledger.mappings import save_mapping as keep_mapping


class Command(BaseCommand):
    help = ("Import a municipal ledger (CSV in UTF-8/BOM/CP932, xlsx, GeoJSON, GeoPackage, zipped Shapefile): "
            "every record is checked first, then all are written or none.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--municipality", help="5- or 6-digit code, unless the file has a 団体コード column")
        parser.add_argument("--kind", required=True, choices=sorted(KINDS))
        parser.add_argument("--source", default="ledger", help="the ledger's name, e.g. gesuido-daicho")
        parser.add_argument("--srid", type=int, help="EPSG code of coordinates the file does not declare itself")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument("--mapping", help='JSON file: {"columns": {"ledger header": "field"}, "values": '
                                              '{"field": {"ledger word": "registry value"}}}; "" ignores a column')
        parser.add_argument("--save-mapping", action="store_true",
                            help="after a successful load, keep --mapping for this municipality's ledger")

    def handle(self, *args, file, municipality, kind, source, srid, dry_run, mapping=None, save_mapping=False,
               **opts):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        given = None
        if mapping:
            try:
                given = json.loads(Path(mapping).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"--mapping {mapping}: {exc}") from None
            if not isinstance(given, dict):
                raise CommandError(f"--mapping {mapping}: expected a JSON object")
        try:
            report = import_ledger(actor=Actor.system(Via.IMPORT), data=path.read_bytes(), filename=path.name,
                                   kind=kind, municipality=municipality, source=source, srid=srid, dry_run=dry_run,
                                   mapping=given)
            if save_mapping and given and report.ok and not dry_run:
                if not municipality:
                    raise CommandError("--save-mapping needs --municipality")
                keep_mapping(municipality=municipality, kind=kind, source=source, mapping=given)
        except (ValidationError, PermissionDenied) as exc:
            msgs = exc.message_dict if hasattr(exc, "error_dict") else {"file": getattr(exc, "messages", [str(exc)])}
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in msgs.items())) from None
        self.stdout.write(f"{path.name}: {report.format}{' ' + report.encoding if report.encoding else ''}, "
                          f"{report.rows:,} records; columns: "
                          + ", ".join(f"{h.strip()}→{f}" for h, f in report.mapping.items()))
        for w in report.warnings[:20]:
            self.stdout.write(f"  warning: {w}")
        for i in report.ignored:
            self.stdout.write(f"  ignored column {i['position']} {i['column']!r}"
                              + (f" (might be: {', '.join(i['suggestions'])})" if i["suggestions"] else ""))
        for e in report.errors[:200]:
            self.stdout.write(f"  {e}")
        total = max(report.error_count, len(report.errors))
        if total > 200:
            self.stdout.write(f"  … {total - 200:,} more errors")
        self.stdout.write(report.summary() + (" (dry run)" if dry_run else ""))
        if report.errors:
            raise CommandError(f"{total:,} errors; nothing was written")
