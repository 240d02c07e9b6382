"""Turns the field form's POST into the service's arguments (observations by scheme rule)."""

from django.http import QueryDict

SPAN_ITEMS = ("corrosion", "sag")
ROWS = 12


def observations_from_post(rule: str, scheme_code: str, post: QueryDict) -> dict:
    obs: dict = {}
    if rule == "pavement":
        for key in ("crack_pct", "rut_mm", "iri", "sigma_mm"):
            if post.get(key, "").strip():
                obs[key] = post[key].strip()
        if post.get("base_damage"):
            obs["base_damage"] = True
    elif rule == "sewer":
        span = {k: post.get(f"span_{k}", "") for k in SPAN_ITEMS if post.get(f"span_{k}")}
        pipes = []
        for i in range(ROWS):
            item, grade = post.get(f"pipe_item_{i}", ""), post.get(f"pipe_grade_{i}", "")
            if item and grade:
                row = {"item": item, "grade": grade}
                at = post.get(f"pipe_at_{i}", "").strip()
                if at:
                    try:
                        row["at_m"] = float(at)
                    except ValueError:
                        row["at_m"] = at
                pipes.append(row)
        if span:
            obs["span"] = span
        if pipes:
            obs["pipes"] = pipes
        if post.get("pipe_count", "").strip():
            try:
                obs["pipe_count"] = int(post["pipe_count"])
            except ValueError:
                obs["pipe_count"] = -1
    elif scheme_code.startswith("bridge"):
        members = []
        for i in range(ROWS):
            member = post.get(f"member_{i}", "").strip()
            if member:
                members.append({k: post.get(f"{k}_{i}", "").strip()
                                for k in ("damage_type", "degree", "measure", "grade")} | {"member": member})
        if members:
            obs["members"] = members
    return obs
