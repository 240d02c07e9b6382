"""Pure grading rules: forgiving grade input, derived grades (pavement, sewer), MCI. No ORM here.

Schemes arrive as plain dicts (code, rule, params, grades with code/rank/aliases), so the rules can be
tested without a database and applied to a catalogue variant without code changes. What a rule needs to know
about the asset itself (the pavement type) arrives as `context`."""

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# What each observation is called on the form and in messages (the keys are API vocabulary).
OBSERVATION_LABELS = {
    "crack_pct": gettext_lazy("crack ratio (%)"), "rut_mm": gettext_lazy("rut depth (mm)"),
    "iri": gettext_lazy("IRI (mm/m)"), "sigma_mm": gettext_lazy("flatness σ (mm)"),
    "joint_fault_mm": gettext_lazy("joint step (mm)"), "mci": gettext_lazy("MCI"),
    "base_damage": gettext_lazy("damage below the surface"), "joint_sealant_lost": gettext_lazy("joint sealant lost"),
    "pipe_count": gettext_lazy("pipes in the span"),
}


def label(key: str) -> str:
    return str(OBSERVATION_LABELS.get(key, key))

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
        raise GradeError("grade", _("Choose a grade; allowed: %(allowed)s") % {"allowed": allowed_values(scheme)})
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
    raise GradeError("grade", _("%(value)s is not a grade of %(scheme)s; allowed: %(allowed)s")
                     % {"value": raw, "scheme": scheme["name"], "allowed": allowed_values(scheme)})


def allowed_values(scheme: dict) -> str:
    return ", ".join(f"{g['code']} ({g['label']})" for g in scheme["grades"])


# ---- pavement: 舗装点検要領 thresholds by pavement type, MCI ---------------------------------------
# Physical bounds of each measure, to refuse typing errors; the grading thresholds are catalogue data.
MEASURES = {"crack_pct": (0, 100), "rut_mm": (0, 300), "iri": (0, 50), "sigma_mm": (0, 50),
            "joint_fault_mm": (0, 200), "mci": (-20, 10)}
LEVELS = ("I", "II", "III")


class NoRule(GradeError):
    """The catalogue has no rule to derive a grade from these observations: an error only when the inspector
    gave no grade either."""


@dataclass(frozen=True)
class PavementResult:
    grade: str
    mci: float | None
    basis: str = "measures"
    pavement_type: str = "asphalt"


def _number(obs: dict, key: str, lo: float, hi: float) -> float | None:
    value = obs.get(key)
    if value is None or value == "":
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise GradeError(f"observations.{key}", _("%(key)s must be a number between %(lo)s and %(hi)s")
                         % {"key": label(key), "lo": lo, "hi": hi}) from None
    if math.isnan(x) or not lo <= x <= hi:
        raise GradeError(f"observations.{key}", _("%(key)s must be between %(lo)s and %(hi)s, got %(value)s")
                         % {"key": label(key), "lo": lo, "hi": hi, "value": x})
    return x


def _flag(obs: dict, key: str) -> bool | None:
    value = obs.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = _fold(value)
    if text in ("TRUE", "1", "YES", "あり", "有"):
        return True
    if text in ("FALSE", "0", "NO", "なし", "無"):
        return False
    raise GradeError(f"observations.{key}", _("%(key)s must be true or false") % {"key": label(key)})


def mci(crack_pct: float, rut_mm: float, sigma_mm: float | None) -> float:
    """維持管理指数 (建設省 1981): the minimum of the four published formulas."""
    c, d = crack_pct, rut_mm
    values = [10 - 1.51 * c ** 0.3 - 0.30 * d ** 0.7, 10 - 2.23 * c ** 0.3, 10 - 0.54 * d ** 0.7]
    if sigma_mm is not None:
        values.append(10 - 1.48 * c ** 0.3 - 0.29 * d ** 0.7 - 0.47 * sigma_mm ** 0.2)
    return round(min(values), 2)


def _repair_stage(obs: dict) -> str:
    """舗装点検要領: Ⅲ-2 (路盤打換等) when damage below the base is suspected, Ⅲ-1 (表層等修繕) when it is not.
    Surface measures cannot tell which, so unless the inspector says (`base_damage`), Ⅲ stays Ⅲ."""
    base = _flag(obs, "base_damage")
    return "III" if base is None else ("III-2" if base else "III-1")


def _level_grade(level: int, obs: dict) -> str:
    return _repair_stage(obs) if LEVELS[level] == "III" else LEVELS[level]


def mci_grade(rule: dict, value: float, obs: dict) -> str:
    """診断区分 from an MCI alone: the first level whose bound the value meets (`max`: ≤, `below`: <)."""
    for level in rule.get("levels", []):
        if ("max" in level and value <= level["max"]) or ("below" in level and value < level["below"]):
            return _level_grade(LEVELS.index(level["grade"]), obs)
    return rule.get("else", "I")


def pavement_grade(scheme: dict, obs: dict, pavement_type: str | None = None) -> PavementResult | None:
    """The pavement type's thresholds (catalogue params.surfaces): Ⅰ below every lower threshold, Ⅲ at or
    above any upper one, Ⅱ between; a flag (目地材の飛散) raises the class to its grade. A survey with only an
    MCI is graded by params.mci. None when nothing gradable was observed."""
    p = scheme.get("params", {})
    kind = pavement_type or p.get("surface_default", "asphalt")
    measured = {k: v for k, (lo, hi) in MEASURES.items() if (v := _number(obs, k, lo, hi)) is not None}
    spec = p.get("surfaces", {}).get(kind)
    if spec is None:
        if measured:
            raise NoRule("grade", _("The catalogue has no thresholds for %(type)s pavement; give the grade "
                                    "(allowed: %(allowed)s)") % {"type": kind, "allowed": allowed_values(scheme)})
        return None
    thresholds = spec.get("thresholds", {})
    usable = [*thresholds, *spec.get("also", []), *(["mci"] if spec.get("mci") else [])]
    for key in measured:
        if key not in usable:
            raise GradeError(f"observations.{key}", _(
                "%(key)s is not a measure of %(type)s pavement (the road's pavement type in the ledger); "
                "measures for %(type)s: %(allowed)s") % {"key": key, "type": kind, "allowed": ", ".join(usable)})
    levels = [0 if v < lo else (1 if v < hi else 2)
              for key, (lo, hi) in thresholds.items() if (v := measured.get(key)) is not None]
    levels += [LEVELS.index(grade) for key, grade in spec.get("flags", {}).items() if _flag(obs, key)]
    crack, rut = measured.get("crack_pct"), measured.get("rut_mm")
    index = mci(crack, rut, measured.get("sigma_mm")) if spec.get("mci") and None not in (crack, rut) else None
    if levels:
        return PavementResult(_level_grade(max(levels), obs), index, "measures", kind)
    if "mci" in measured:
        return PavementResult(mci_grade(p.get("mci", {}), measured["mci"], obs), measured["mci"], "mci", kind)
    return None


# ---- sewer: span A/B/C and per-pipe a/b/c → three items → 緊急度 (domain.md §2.4.1) -------------------
SPAN_GRADES = ("A", "B", "C")
PIPE_GRADES = ("a", "b", "c")


@dataclass(frozen=True)
class SewerResult:
    grade: str
    ranks: dict[str, str]
    shares: dict[str, float]


def _rank_from_shares(shares: dict[str, float], table: dict) -> str | None:
    for rank in SPAN_GRADES:
        if any(shares.get(g, 0.0) > 0 and shares.get(g, 0.0) >= th for g, th in table.get(rank, {}).items()):
            return rank
    return None


def _urgency(ranks: dict[str, str], rules: list[dict], default: str) -> str:
    # Counted cumulatively: "two at B" means two items at B or worse.
    at_or_worse = {r: sum(SPAN_GRADES.index(v) <= SPAN_GRADES.index(r) for v in ranks.values())
                   for r in SPAN_GRADES}
    for rule in rules:
        if all(at_or_worse[r] >= n for r, n in rule["at_least"].items()):
            return rule["grade"]
    return default


def _pipe_count(obs: dict) -> int:
    raw = obs.get("pipe_count")
    if raw in (None, ""):
        return 0
    try:
        count = int(raw)
    except (TypeError, ValueError):
        count = -1
    if isinstance(raw, bool) or count < 0 or (isinstance(raw, float) and raw != count):
        raise GradeError("observations.pipe_count", _("pipe_count must be a whole number of pipes ≥ 0"))
    return count


def _pipe_rows(obs: dict, pipe_items: list[str], count: int) -> tuple[dict[object, str], set[str]]:
    """Each defective pipe's worst grade, and the items seen at grade a. A row names its pipe (`pipe`,
    1…pipe_count) when one pipe has several defects; a row without one is a pipe of its own."""
    pipes = obs.get("pipes") or []
    if not isinstance(pipes, list):
        raise GradeError("observations.pipes", _("pipes must be a list of rows with item and grade"))
    worst: dict[object, str] = {}
    at_a: set[str] = set()
    for i, row in enumerate(pipes, start=1):
        if not isinstance(row, dict):
            raise GradeError(f"observations.pipes[{i}]", _("each row needs item and grade"))
        item, grade = row.get("item"), str(row.get("grade", "")).strip().lower()
        if item not in pipe_items:
            raise GradeError(f"observations.pipes[{i}].item", _("unknown item %(item)r; allowed: %(allowed)s")
                             % {"item": item, "allowed": ", ".join(pipe_items)})
        if grade not in PIPE_GRADES:
            raise GradeError(f"observations.pipes[{i}].grade", _("%(grade)r is not a pipe grade; allowed: a, b, c")
                             % {"grade": grade})
        at = row.get("at_m")
        if at is not None and (isinstance(at, bool) or not isinstance(at, int | float) or at < 0):
            raise GradeError(f"observations.pipes[{i}].at_m", _("position along the span must be metres ≥ 0"))
        number = row.get("pipe")
        if number is not None and (isinstance(number, bool) or not isinstance(number, int)
                                   or not 1 <= number <= max(count, 1)):
            raise GradeError(f"observations.pipes[{i}].pipe", _("pipe must be a pipe number from 1 to %(count)d")
                             % {"count": max(count, 1)})
        key = ("pipe", number) if number is not None else ("row", i)
        worst[key] = min(worst.get(key, "c"), grade)  # "a" < "b" < "c": a is the worst
        if grade == "a":
            at_a.add(item)
    return worst, at_a


def sewer_result(scheme: dict, obs: dict) -> SewerResult | None:
    """下水道維持管理指針 / ストックマネジメント手引き: three items per span — 管の腐食 and 上下方向のたるみ
    (A/B/C as graded) and one 不良発生率 rank from the per-pipe a/b/c by the share of the span's pipes at each
    grade or worse (a 破損 at a counts as A outright) — and 緊急度 from how many items are at A or B, all
    numbers from the catalogue (params.defect_rate, params.urgency). None when nothing was observed.

    obs = {"span": {"corrosion": "B", "sag": "C"}, "pipes": [{"item": "crack", "grade": "a", "at_m": 12.5,
    "pipe": 3}, ...], "pipe_count": 20}."""
    p = scheme.get("params", {})
    span_items, pipe_items = p.get("span_items", []), p.get("pipe_items", [])
    rate = p.get("defect_rate", {})
    span = obs.get("span") or {}
    if not isinstance(span, dict):
        raise GradeError("observations.span", _("span must map items to a grade A, B, C or none"))
    if not span and not obs.get("pipes"):
        return None
    ranks: dict[str, str] = {}
    for item, grade in span.items():
        if item not in span_items:
            raise GradeError(f"observations.span.{item}", _("unknown span item %(item)r; allowed: %(allowed)s")
                             % {"item": item, "allowed": ", ".join(span_items)})
        g = _fold(grade or "")
        if g in ("", "-", "なし", "NONE"):
            continue
        if g not in SPAN_GRADES:
            raise GradeError(f"observations.span.{item}", _("%(grade)r is not a span grade; allowed: A, B, C or "
                                                            "none") % {"grade": grade})
        ranks[item] = g
    count = _pipe_count(obs)
    defective, at_a = _pipe_rows(obs, pipe_items, count)
    shares: dict[str, float] = {}
    if defective:
        if count <= 0:
            raise GradeError("observations.pipe_count",
                             _("pipe_count (pipes in the span) is needed with per-pipe grades"))
        if len(defective) > count:
            raise GradeError("observations.pipes", _(
                "%(n)d pipes with defects but %(count)d pipes in the span; give rows on the same pipe its number "
                "(pipe)") % {"n": len(defective), "count": count})
        shares = {g: round(sum(w <= g for w in defective.values()) / count, 4) for g in PIPE_GRADES}
        # 破損 at a (欠落, a large axial crack) is A however few pipes show it.
        outright = at_a & set(rate.get("outright_a", []))
        rank = "A" if outright else _rank_from_shares(shares, rate.get("to_rank", {}))
        if rank:
            ranks[rate.get("item", "defect_rate")] = rank
    return SewerResult(_urgency(ranks, p.get("urgency", []), p.get("urgency_else", "none")), ranks, shares)


def sewer_grade(scheme: dict, obs: dict) -> str | None:
    """緊急度 'I', 'II', 'III' or 'none'; None when nothing was observed (see sewer_result)."""
    res = sewer_result(scheme, obs)
    return res.grade if res else None


# ---- bridges: member diagnoses (道路橋定期点検要領 7.1 部材単位 / 7.2 道路橋毎の健全性の診断) ----------------------
@dataclass(frozen=True)
class MemberResult:
    grade: str | None  # the structure's grade by the scheme's member_rule; None when no member was graded
    worst_member: str | None  # the worst grade of any member, main or not
    basis: str  # "main_members" | "worst_member"


def allowed_members(scheme: dict, kind: str | None) -> dict[str, dict]:
    """The member codes of the kind's 点検要領 from the catalogue (scheme["members"], from MemberKind)."""
    kind = kind or "bridge"
    return {m["code"]: m for m in scheme.get("members", []) if not m.get("kinds") or kind in m["kinds"]}


def member_result(scheme: dict, obs: dict, kind: str | None = None) -> MemberResult | None:
    """Validate member rows against the catalogue (member code + 要素番号, e.g. Mg0101); derive the structure's
    健全性 by the scheme's params.member_rule:

    - "main_members" (道路橋定期点検要領 7.2 道路橋毎の健全性の診断: 部材単位の診断を踏まえた総合評価で、一般には構造物の
      性能に影響を及ぼす主要な部材に着目し最も厳しい診断結果で代表させる — wording (unverified)): the worst grade of a
      主要部材; a 防護柵 or 伸縮装置 at Ⅲ is acted on as a member but does not make the bridge Ⅲ. When no main member
      was graded the worst member stands in, so a grade is never invented.
    - "worst_member": the worst grade of any member.

    None when no members were given."""
    members = obs.get("members") or []
    if not members:
        return None
    if not isinstance(members, list):
        raise GradeError("observations.members", _("members must be a list of rows with member and grade"))
    allowed = allowed_members(scheme, kind)
    lists = scheme.get("lists", {})
    rank = {g["code"]: g["rank"] for g in scheme["grades"]}
    worst = worst_main = None
    for i, m in enumerate(members, start=1):
        if not isinstance(m, dict):
            raise GradeError(f"observations.members[{i}]", _("each row needs member and grade"))
        code = str(m.get("member", "")).strip()
        prefix = re.match(r"[A-Za-z]+", code)
        if not allowed:
            raise GradeError(f"observations.members[{i}].member", _(
                "The catalogue has no member codes for %(kind)s; record the grade without member rows")
                % {"kind": kind or "bridge"})
        if not prefix or prefix.group(0) not in allowed or not re.fullmatch(r"[A-Za-z]+\d{0,4}", code):
            raise GradeError(f"observations.members[{i}].member", _(
                "%(code)r is not a member code (部材記号 and 要素番号, e.g. Mg0101); allowed: %(allowed)s")
                % {"code": code, "allowed": ", ".join(f"{c} {a['name']}" for c, a in allowed.items())})
        dt = str(m.get("damage_type", ""))
        if dt and dt not in lists.get("damage_types", {}):
            raise GradeError(f"observations.members[{i}].damage_type", _("damage type must be 1–26"))
        deg = str(m.get("degree", "")).lower()
        if deg and deg not in lists.get("degrees", {}):
            raise GradeError(f"observations.members[{i}].degree", _("degree must be one of a, b, c, d, e"))
        measure = str(m.get("measure", "")).upper()
        if measure and measure not in lists.get("measures", {}):
            raise GradeError(f"observations.members[{i}].measure",
                             _("%(value)s is not a 対策区分; allowed: %(allowed)s")
                             % {"value": measure, "allowed": ", ".join(lists.get("measures", {}))})
        g = normalize_grade(scheme, m.get("grade")) if m.get("grade") not in (None, "") else None
        if g is None:
            continue
        if worst is None or rank[g] > rank[worst]:
            worst = g
        if allowed[prefix.group(0)].get("main") and (worst_main is None or rank[g] > rank[worst_main]):
            worst_main = g
    rule = scheme.get("params", {}).get("member_rule", "worst_member")
    if rule not in ("main_members", "worst_member"):
        raise GradeError("scheme.params.member_rule", f"unknown member_rule {rule!r}; allowed: main_members, "
                                                      "worst_member")
    grade = (worst_main or worst) if rule == "main_members" else worst
    return MemberResult(grade, worst, rule)


def bridge_members(scheme: dict, obs: dict, kind: str | None = None) -> str | None:
    """The structure's grade from its member rows (see member_result), or None."""
    res = member_result(scheme, obs, kind)
    return res.grade if res else None


def derive_grade(scheme: dict, raw_grade, obs: dict, context: Mapping | None = None) -> tuple[str, dict]:
    """The grade to store and any derived values to keep with the observations.

    A grade the inspector gives is kept (their judgement is the legal record); a grade is derived only when
    none is given. Derived values (MCI, the rule's grade and what it rests on) are stored beside the
    observations either way. `context`: {"pavement_type": "concrete"} selects the pavement's thresholds."""
    rule = scheme.get("rule")
    context = context or {}
    derived: dict = {}
    computed = None
    no_rule: NoRule | None = None
    if rule == "pavement":
        try:
            res = pavement_grade(scheme, obs, context.get("pavement_type"))
        except NoRule as exc:
            res, no_rule = None, exc
        if res:
            computed = res.grade
            derived.update(basis=res.basis, pavement_type=res.pavement_type)
            if res.mci is not None:
                derived["mci"] = res.mci
    elif rule == "sewer":
        res = sewer_result(scheme, obs)
        if res:
            computed = res.grade
            derived["ranks"] = res.ranks
            if res.shares:
                derived["defect_shares"] = res.shares
    elif rule == "direct" and obs.get("members"):
        res = member_result(scheme, obs, context.get("kind"))
        if res and res.grade:
            computed = res.grade
            derived["member_rule"] = res.basis
            if res.worst_member != res.grade:
                derived["worst_member_grade"] = res.worst_member
    if computed:
        derived["computed_grade"] = computed
    if raw_grade not in (None, ""):
        return normalize_grade(scheme, raw_grade), derived
    if computed:
        return computed, derived
    if no_rule:
        raise no_rule
    raise GradeError("grade", _("Choose a grade, or enter observations it can be derived from; allowed: "
                                "%(allowed)s") % {"allowed": allowed_values(scheme)})
