"""Raw values where a name belongs: a scanner for the visible text of a page (or a PDF's pdftotext output).

scan_text(text) → the offending snippets: enum-ish `code:` pairs (`septic_tank:renew`), float lot ids
(`septic-29.0`, `road-2.-2_-22`), the English codes of stored values (convert_to_septic, road_sewer, running …)
and 6-digit municipality codes. visible_text(html) strips scripts, styles, attributes and hidden form values.
An allowlist (exact snippets or regexes) lets a page show a code where the code is the point (a global id
`112348-SP-000123` is one: it is excluded by shape)."""

import re
from html.parser import HTMLParser

__all__ = ["ENUM_WORDS", "scan_html", "scan_text", "visible_text"]

# English codes of stored values that must never reach a Japanese page as they are.
ENUM_WORDS = ("convert_to_septic", "road_sewer", "no_alternative_route", "risk_per_yen", "house_connections",
              "road_segment", "sewer_pipe", "septic_tank", "renew", "repair", "monitor", "running", "queued",
              "done", "failed", "preventive", "corrective", "estimating deterioration", "clustering", "cost_total",
              "cross_municipal_clusters", "sewer_vs_septic", "per_municipality")

PATTERNS = (
    ("enum pair", re.compile(r"\b[a-z][a-z_]+:[a-z_]+\b")),
    ("code then colon", re.compile(r"\b[a-z]+_[a-z_]+:")),
    ("float lot id", re.compile(r"\b[a-z_]+-\d+\.-?\d+(?:_-?\d+)?\b|(?<![\d.])-\d+\.\d")),
    ("enum word", re.compile(r"(?<![A-Za-z_])(?:" + "|".join(re.escape(w) for w in ENUM_WORDS) + r")(?![A-Za-z_])")),
    # A 6-digit 全国地方公共団体コード standing alone (not inside a global id, a number with separators or a date).
    ("municipality code", re.compile(r"(?<![A-Za-z0-9_,.\-/])\d{6}(?![A-Za-z0-9_,.\-/])")),
)


class _Visible(HTMLParser):
    SKIP = {"script", "style", "template", "noscript", "head"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """What a reader sees of the page: text outside script, style and head, one space between pieces."""
    p = _Visible()
    p.feed(html)
    p.close()
    return re.sub(r"\s+", " ", " ".join(p.parts)).strip()


def scan_text(text: str, allow: tuple = ()) -> list[str]:
    """Snippets of `text` (with a little context) that show a raw value; `allow` holds exact strings or compiled
    regexes of matches that are fine on this page."""
    found = []
    for what, pattern in PATTERNS:
        for m in pattern.finditer(text):
            hit = m.group(0)
            if any(a.search(hit) if hasattr(a, "search") else a == hit for a in allow):
                continue
            found.append(f"{what}: …{text[max(m.start() - 30, 0):m.end() + 30]}…")
    return found


def scan_html(html: str, allow: tuple = ()) -> list[str]:
    return scan_text(visible_text(html), allow)
