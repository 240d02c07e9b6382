from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from assets.history import Actor
from assets.models import Asset, Via
from ledger.chousho import bridge_chousho, chousho_filename
from ledger.national import export_bridges, import_national


class Command(BaseCommand):
    help = ("Bridges and the 全国道路施設点検データベース: `export` a CSV in its layout, `import` one (all checked, then "
            "all written or none; idempotent), or write one bridge's 点検調書 (様式1・2) as xlsx with `chousho GID`.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "import", "chousho"])
        parser.add_argument("target", nargs="?", help="import: the file; chousho: the bridge's 共通ID")
        parser.add_argument("--municipality", help="5- or 6-digit code")
        parser.add_argument("--format", default="csv", choices=["csv", "csv-cp932"])
        parser.add_argument("-o", "--output", help="file to write (export, chousho)")
        parser.add_argument("--dry-run", action="store_true", help="import: check and report, write nothing")

    def handle(self, *args, action, target, municipality, format, output, dry_run, **opts):
        try:
            if action == "export":
                body, _ct, name = export_bridges(principal=None, municipality=municipality, fmt=format)
                Path(output or name).write_bytes(body)
                rows = body.count(b"\n") - 1
                self.stdout.write(f"{output or name}: {rows:,} bridges")
            elif action == "chousho":
                asset = Asset.objects.select_related("bridge", "owner").filter(kind="bridge", global_id=target).first()
                if asset is None:
                    raise CommandError(f"No bridge {target}")
                path = Path(output or chousho_filename(asset))
                path.write_bytes(bridge_chousho(asset))
                self.stdout.write(f"{path} written")
            else:
                if not target or not Path(target).is_file():
                    raise CommandError(f"No such file: {target}")
                report = import_national(actor=Actor.system(Via.IMPORT), data=Path(target).read_bytes(),
                                         filename=Path(target).name, municipality=municipality, dry_run=dry_run)
                for line in report.warnings[:50] + report.errors[:200]:
                    self.stdout.write(f"  {line}")
                self.stdout.write(report.summary() + (" (dry run)" if dry_run else ""))
                if report.errors:
                    raise CommandError(f"{report.error_count:,} errors; nothing was written")
        except (ValidationError, PermissionDenied) as exc:
            msgs = exc.message_dict if hasattr(exc, "error_dict") else {"file": getattr(exc, "messages", [str(exc)])}
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in msgs.items())) from None
