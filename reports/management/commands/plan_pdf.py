from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from assets.models import Municipality, Region
from clusters.models import EngineRun
from clusters.selectors import run_latest_done
from clusters.services import run_create, run_execute
from reports.services import plan_create, plan_execute


class Command(BaseCommand):
    help = "Make the multi-year plan of a region (or one municipality in it) and write it as a PDF."

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True)
        parser.add_argument("--municipality", help="6-digit code: that municipality's plan")
        parser.add_argument("--run", type=int, help="engine run id (default: the latest finished, or a new run)")
        parser.add_argument("--out", required=True, help="PDF file to write")
        parser.add_argument("--horizon", type=int, default=10, help="years (default 10)")
        parser.add_argument("--strategy", default="preventive", choices=["preventive", "corrective"])
        parser.add_argument("--budget", type=float, help="yen per year (default: the levelled need)")
        parser.add_argument("--per-municipality", action="store_true", help="budgets per municipality by cost shares")

    def handle(self, *args, region, municipality, run, out, horizon, strategy, budget, per_municipality, **opts):
        try:
            reg = Region.objects.get(slug=region)
        except Region.DoesNotExist:
            raise CommandError(f"Unknown region {region!r}; known: "
                               f"{', '.join(Region.objects.values_list('slug', flat=True))}") from None
        muni = None
        if municipality:
            muni = Municipality.objects.filter(code=municipality).first()
            if muni is None:
                raise CommandError(f"Unknown municipality code {municipality!r} (6 digits, e.g. 112348)")
        runs = EngineRun.objects.filter(region=reg)
        if run is not None:
            the_run = runs.filter(pk=run).first()
            if the_run is None:
                raise CommandError(f"Run #{run} is not a run of {region}")
        else:
            the_run = run_latest_done(runs)
            if the_run is None:
                self.stdout.write(f"{region} has no finished engine run: running the engine first")
                the_run = run_execute(run_create(principal=None, region=reg).pk)
        try:
            plan = plan_create(principal=None, run=the_run, municipality=muni, horizon_years=horizon,
                               strategy=strategy, budget_per_year=budget,
                               budget_mode="per_municipality" if per_municipality else "pooled")
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        plan = plan_execute(plan.pk)
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        with plan.pdf.open("rb") as fh:
            path.write_bytes(fh.read())
        r = plan.result
        self.stdout.write(f"plan #{plan.pk} from run #{the_run.pk}: {r['clusters']:,} clusters, "
                          f"{len(r['actions']):,} scheduled over FY{r['fiscal_years'][0]}–{r['fiscal_years'][-1]}; "
                          f"{plan.duration_s:.1f} s (plan {r['timings'].get('plan', 0):.1f} s, "
                          f"PDF {r['timings'].get('pdf', 0):.1f} s)")
        for s in r["scenarios"]:
            self.stdout.write(
                f"  {s['strategy']:<10} budget {s['level']:>4.0%}: spend {sum(s['spend']) / 1e8:8.1f} 億円, "
                f"{s['treated']:>5,} clusters, risk at end {s['risk'][-1]:10.1f}, LCC 50 y {s['lcc50'] / 1e8:9.1f} 億円, "
                f"optimizer {s['objective']:,.1f} vs greedy {s['greedy_objective']:,.1f} ({s['solver_status']})")
        self.stdout.write(f"PDF written to {path.resolve()}")
