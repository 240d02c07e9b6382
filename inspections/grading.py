"""Pure grading rules: forgiving grade input, derived grades (pavement, sewer), MCI. No ORM here.

Schemes arrive as plain dicts (code, rule, params, grades with code/rank/aliases), so the rules can be
tested without a database and applied to a catalogue variant without code changes."""

import math
import re
import unicodedata
from dataclasses import dataclass

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}
PREFIXES = ("判定区分", "判定", "健全性", "緊急度", "診断区分", "区分", "ランク")


class GradeError(ValueError):
    """A message naming the field and the allowed values, ready to show to the person who typed it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).strip()
    text = text.replace("－", "-").replace("‐", "-").replace("−", "-").replace("ー", "-").replace(" ", "")
    for p in PREFIXES:
        if text.startswith(p) and len(text) > len(p):
            text = text[len(p):]
    return text.upper()


def normalize_grade(scheme: dict, raw) -> str:
    """Return the scheme's grade code for what a person or a ledger wrote: `Ⅲ`, `III`, `3`, `判定3`, `３`,
    `Ⅲ-1`, `健全` … Raises GradeError listing the allowed values."""
    if raw is None or str(raw).strip() == "":
        raise GradeError("grade", f"grade is required; allowed: {allowed_values(scheme)}")
    folded = _fold(raw)
    for g in scheme["grades"]:
        candidates = {g["code"], *g.get("aliases", [])}
        if folded in {_fold(c) for c in candidates}:
            return g["code"]
    # Arabic ↔ roman numerals for schemes whose codes are roman (3 ↔ III, 3-1 ↔ III-1).
    m = re.fullmatch(r"(\d)(?:-(\d))?", folded)
    if m:
        roman = {v: k for k, v in ROMAN.items()}.get(int(m.group(1)))
        if roman:
            code = roman + (f"-{m.group(2)}" if m.group(2) else "")
            if any(g["code"] == code for g in scheme["grades"]):
                return code
    raise GradeError("grade", f"{raw!r} is not a grade of {scheme['name']}; allowed: {allowed_values(scheme)}")


def allowed_values(scheme: dict) -> str:
    return ", ".join(f"{g['code']} ({g['label']})" for g in scheme["grades"])


# ---- pavement: 舗装点検要領 thresholds, MCI ------------------------------------------------------
@dataclass(frozen=True)
class PavementResult:
    grade: str
    mci: float | None


def _number(obs: dict, key: str, lo: float, hi: float) -> float | None:
    value = obs.get(key)
    if value is None or value == "":
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise GradeError(f"observations.{key}", f"{key} must be a number between {lo} and {hi}") from None
    if not lo <= x <= hi or math.isnan(x):
        raise GradeError(f"observations.{key}", f"{key} must be between {lo} and {hi}, got {x}")
    return x


def mci(crack_pct: float, rut_mm: float, sigma_mm: float | None) -> float:
    """維持管理指数 (建設省 1981): the minimum of the four published formulas."""
    c, d = crack_pct, rut_mm
    values = [10 - 1.51 * c ** 0.3 - 0.30 * d ** 0.7, 10 - 2.23 * c ** 0.3, 10 - 0.54 * d ** 0.7]
    if sigma_mm is not None:
        values.append(10 - 1.48 * c ** 0.3 - 0.29 * d ** 0.7 - 0.47 * sigma_mm ** 0.2)
    return round(min(values), 2)


def pavement_grade(scheme: dict, obs: dict) -> PavementResult | None:
    """Ⅰ below every lower threshold, Ⅲ above any upper one, Ⅱ between. Ⅲ-2 (base damage) cannot be told
    from surface measures, so a measured Ⅲ is Ⅲ-1 unless the inspector says `base_damage`."""
    p = scheme.get("params", {})
    crack = _number(obs, "crack_pct", 0, 100)
    rut = _number(obs, "rut_mm", 0, 300)
    iri = _number(obs, "iri", 0, 50)
    sigma = _number(obs, "sigma_mm", 0, 50)
    measured = [(v, p[k]) for v, k in ((crack, "crack_pct"), (rut, "rut_mm"), (iri, "iri")) if v is not None]
    index = mci(crack, rut, sigma) if crack is not None and rut is not None else None
    if not measured:
        return None
    level = max(0 if v < lo else (1 if v < hi else 2) for v, (lo, hi) in measured)
    grade = ["I", "II", "III-1"][level]
    if level == 2 and obs.get("base_damage"):
        grade = "III-2"
    return PavementResult(grade, index)


# ---- sewer: span A/B/C, per-pipe a/b/c → 緊急度 -----------------------------------------------------
SPAN_GRADES = ("A", "B", "C")
PIPE_GRADES = ("a", "b", "c")


def _span_level_from_pipes(rates: dict[str, float], table: dict) -> str | None:
    for level in SPAN_GRADES:
        need = table.get(level, {})
        if any(rates.get(g, 0.0) > 0 and rates.get(g, 0.0) >= th for g, th in need.items()):
            return level
    return None


def sewer_grade(scheme: dict, obs: dict) -> str | None:
    """obs = {"span": {"corrosion": "B", "sag": "C"}, "pipes": [{"item": "crack", "grade": "a", "at_m": 12.5},
    ...], "pipe_count": 20}. Returns 'I', 'II', 'III' or 'none'; None when nothing was observed."""
    p = scheme.get("params", {})
    span_items, pipe_items = p.get("span_items", []), p.get("pipe_items", [])
    span = obs.get("span") or {}
    pipes = obs.get("pipes") or []
    if not span and not pipes:
        return None
    levels: list[str] = []
    for item, grade in span.items():
        if item not in span_items:
            raise GradeError(f"observations.span.{item}",
                             f"unknown span item {item!r}; allowed: {', '.join(span_items)}")
        g = _fold(grade or "")
        if g in ("", "-", "なし", "NONE"):
            continue
        if g not in SPAN_GRADES:
            raise GradeError(f"observations.span.{item}", f"{grade!r} is not a span grade; allowed: A, B, C or none")
        levels.append(g)
    count = obs.get("pipe_count") or 0
    by_item: dict[str, dict[str, int]] = {}
    for i, row in enumerate(pipes, start=1):
        item, grade = row.get("item"), str(row.get("grade", "")).strip().lower()
        if item not in pipe_items:
            raise GradeError(f"observations.pipes[{i}].item",
                             f"unknown item {item!r}; allowed: {', '.join(pipe_items)}")
        if grade not in PIPE_GRADES:
            raise GradeError(f"observations.pipes[{i}].grade", f"{grade!r} is not a pipe grade; allowed: a, b, c")
        at = row.get("at_m")
        if at is not None and (not isinstance(at, int | float) or at < 0):
            raise GradeError(f"observations.pipes[{i}].at_m", "position along the span must be metres ≥ 0")
        by_item.setdefault(item, {}).setdefault(grade, 0)
        by_item[item][grade] += 1
    if pipes and count <= 0:
        raise GradeError("observations.pipe_count", "pipe_count (pipes in the span) is needed with per-pipe grades")
    for counts in by_item.values():
        rates = {g: n / count for g, n in counts.items()}
        lvl = _span_level_from_pipes(rates, p.get("pipe_rate_to_span", {}))
        if lvl:
            levels.append(lvl)
    critical = any(span.get(k, "").upper() == "A" for k in ("corrosion", "sag"))
    n_a, n_b = levels.count("A"), levels.count("B")
    if critical or n_a >= 2:
        return "I"
    if n_a == 1 or n_b >= 2:
        return "II"
    if levels:
        return "III"
    return "none"


# ---- bridges: member diagnoses ---------------------------------------------------------------------
def bridge_members(scheme: dict, obs: dict) -> str | None:
    """Validate member rows against the catalogue lists; return the worst member grade (the usual basis of
    the bridge's 健全性) or None when no members were given."""
    members = obs.get("members") or []
    if not members:
        return None
    lists = scheme.get("lists", {})
    worst = None
    rank = {g["code"]: g["rank"] for g in scheme["grades"]}
    for i, m in enumerate(members, start=1):
        code = str(m.get("member", ""))
        prefix = re.match(r"[A-Za-z]+", code)
        if not prefix or prefix.group(0) not in lists.get("members", {}):
            raise GradeError(f"observations.members[{i}].member",
                             f"{code!r} is not a member code; allowed: {', '.join(lists.get('members', {}))}")
        dt = str(m.get("damage_type", ""))
        if dt and dt not in lists.get("damage_types", {}):
            raise GradeError(f"observations.members[{i}].damage_type", "damage type must be 1–26")
        deg = str(m.get("degree", "")).lower()
        if deg and deg not in lists.get("degrees", {}):
            raise GradeError(f"observations.members[{i}].degree", "degree must be one of a, b, c, d, e")
        measure = str(m.get("measure", "")).upper()
        if measure and measure not in lists.get("measures", {}):
            raise GradeError(f"observations.members[{i}].measure",
                             f"{measure!r} is not a 対策区分; allowed: {', '.join(lists.get('measures', {}))}")
        g = normalize_grade(scheme, m.get("grade")) if m.get("grade") not in (None, "") else None
        if g and (worst is None or rank[g] > rank[worst]):
            worst = g
    return worst


def derive_grade(scheme: dict, raw_grade, obs: dict) -> tuple[str, dict]:
    """The grade to store and any derived values to keep with the observations.

    A grade the inspector gives is kept (their judgement is the legal record); a grade is derived only when
    none is given. Derived values (MCI, the rule's grade) are stored beside the observations either way."""
    rule = scheme.get("rule")
    derived: dict = {}
    computed = None
    if rule == "pavement":
        res = pavement_grade(scheme, obs)
        if res:
            computed = res.grade
            if res.mci is not None:
                derived["mci"] = res.mci
    elif rule == "sewer":
        computed = sewer_grade(scheme, obs)
    elif rule == "direct" and scheme["code"].startswith("bridge"):
        computed = bridge_members(scheme, obs)
    if computed:
        derived["computed_grade"] = computed
    if raw_grade not in (None, ""):
        return normalize_grade(scheme, raw_grade), derived
    if computed:
        return computed, derived
    raise GradeError("grade", f"grade is required; allowed: {allowed_values(scheme)}")
