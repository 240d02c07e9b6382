import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assets.models import Region
from clusters.services import run_create, run_execute


def yen(x: float) -> str:
    return f"{x / 1e6:,.1f} 百万円"


class Command(BaseCommand):
    help = "Run the prioritization engine over a region and print the ranked clusters."

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True)
        parser.add_argument("--params", help="JSON file with parameter overrides")
        parser.add_argument("--top", type=int, default=10)

    def handle(self, *args, region, params, top, **opts):
        try:
            reg = Region.objects.get(slug=region)
        except Region.DoesNotExist:
            raise CommandError(f"Unknown region {region!r}; known: "
                               f"{', '.join(Region.objects.values_list('slug', flat=True))}") from None
        overrides = json.loads(Path(params).read_text(encoding="utf-8")) if params else None
        run = run_execute(run_create(principal=None, region=reg, overrides=overrides).pk)
        s = run.summary
        self.stdout.write(
            f"run #{run.pk} {reg.name}: {s['assets']:,} assets, {s['acting']:,} need action within "
            f"{run.params['horizon_years']} years; {s['clusters']:,} clusters, {s['cross_municipal_clusters']:,} "
            f"cross-municipal; {s.get('convert_to_septic', 0):,} sewer lots cheaper as 合併処理浄化槽; "
            f"{run.duration_s:.1f} s")
        for scheme, h in s["hazards"].items():
            self.stdout.write(f"  {scheme:<17} {h['source']:<9} pairs {h['pairs']:>7,}  years in state "
                              f"{h['expected_years_in_state']}")
        if s.get("households_basis"):
            self.stdout.write("  households along the sewer lots counted by " + ", ".join(
                f"{basis} ({n} lots)" for basis, n in s["households_basis"].items()))
        groups = s.get("septic_groups", [])
        if groups:
            self.stdout.write(f"  {len(groups)} groups of old 単独処理/不適正 tanks within "
                              f"{run.params['septic_group_distance_m']:.0f} m (largest: {groups[0]['tanks']} tanks)")
        bridges = s.get("bridge_removals", [])
        if bridges:
            self.stdout.write(f"  {len(bridges)} poor bridges on quiet roads checked for removal; "
                              f"{s.get('remove_bridges', 0)} cheaper to remove (detour on the road network)")
            for b in bridges[:3]:
                detour = "no way round" if b["detour_m"] is None else f"detour +{b['detour_m']:,.0f} m"
                if b.get("detour_via_reference"):
                    detour += f" via {', '.join(b['detour_reference_roads'])}"
                verdict = {"remove": f"remove (saves {yen(b['saving_per_year'])}/year)",
                           "renew": f"keep (removal would cost {yen(b['saving_per_year'])}/year more)"}
                self.stdout.write(f"    {b['global_id']} {b['name']}: {b['traffic']:,.0f} vehicles/day, {detour}, "
                                  f"{verdict.get(b['recommendation'], b['recommendation'])}")
                k, r = b["keep"], b["remove"]
                keep = (f"keep {yen(b['pv_keep'])} = repairs {yen(k['repairs'])} + {k['inspections_count']} "
                        f"inspections {yen(k['inspections'])} + renewal {yen(k['renewal'])}")
                remove = "" if r is None else (f"; remove {yen(b['pv_remove'])} = demolition {yen(r['demolition'])}"
                                               f" + detour {yen(r['detour'])}")
                self.stdout.write(f"      {keep}{remove} (present values over {b['period_years']:.0f} years)")
        self.stdout.write(f"top {top} by {run.params['objective']}:")
        for c in run.clusters.order_by("rank")[:top]:
            shares = ", ".join(f"{k} {v / 1e6:,.1f}" for k, v in sorted(c.cost_shares.items()))
            self.stdout.write(
                f"  {c.rank:>3}. {c.name or c.key:<24} {c.member_count:>5} assets  {yen(c.total_cost):>14}  "
                f"risk removed {c.risk_removed:8.2f}  per 百万円 {c.risk_per_myen:7.3f}  "
                f"saving {yen(c.bundling_saving)}  [{shares}]")
