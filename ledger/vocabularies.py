"""The words ledgers use for a field's values (fixtures/ledger/vocabularies.json: 橋梁形式, 交差物件, 管種, 排除方式,
処理方式, 舗装種別 …) and how a ledger's word is matched to a registry value: a saved value mapping first, then the
word itself, then a known word inside it. Matching is done once per distinct word of a column."""

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from core.text import header_key

VOCABULARIES = Path(settings.BASE_DIR) / "fixtures" / "ledger" / "vocabularies.json"
_KATAKANA = re.compile(r"[ァ-ヶ]")


def value_key(text) -> str:
    """A value as compared: `header_key` (NFKC, no spaces, lower case), katakana as hiragana (バッ気 = ばっ気) and
    without a trailing 「橋」 (RC床版橋 = RC床版)."""
    key = _KATAKANA.sub(lambda m: chr(ord(m.group()) - 0x60), header_key(text))
    return key[:-1] if key.endswith("橋") and len(key) > 1 else key


@lru_cache(maxsize=1)
def _load() -> dict[str, dict[str, list[str]]]:
    return json.loads(VOCABULARIES.read_text(encoding="utf-8"))["fields"]


def words_for(field: str) -> dict[str, list[str]]:
    """{registry value: ledger words} of a field (without the "detail." prefix), empty when it has none."""
    return _load().get(field.removeprefix("detail."), {})


def choice_words() -> dict[str, dict[str, str]]:
    """{field: {ledger word: registry value}}, the shape the importer used before the vocabularies were data."""
    return {f: {w: v for v, words in by.items() for w in words} for f, by in _load().items()}


@dataclass(frozen=True)
class Match:
    value: str | None  # the registry value; "" for a word mapped to nothing on purpose; None: not matched
    how: str  # "mapping" | "exact" | "contains" | "" (not matched)


class Vocabulary:
    """One field's matcher. `allowed`: [(registry value, label)] for a choice field, None for free text (then
    a matched word gives its standard spelling and an unmatched one is kept as written). `mapping`: the
    user's {ledger word: registry value or label}."""

    def __init__(self, field: str, allowed: list[tuple[str, str]] | None, mapping: dict[str, str] | None = None):
        self.field = field
        self.allowed = allowed
        self.words: dict[str, str] = {}
        for value, words in words_for(field).items():
            for w in [value, *words]:
                self.words.setdefault(value_key(w), value)
        for value, label in allowed or []:
            self.words[value_key(value)] = value
            self.words.setdefault(value_key(label), value)
        self.mapping = {header_key(w): self._target(v) for w, v in (mapping or {}).items()}
        # Words looked for inside a longer value: at least two letters when ASCII ("rc", "vu"), so that a
        # stray letter matches nothing.
        self._inner = sorted(((k, v) for k, v in self.words.items() if len(k) >= (2 if k.isascii() else 1)),
                             key=lambda kv: -len(kv[0]))

    def _target(self, value: str) -> str:
        if not value or self.allowed is None:
            return value or ""
        return self.words.get(value_key(value), value)

    def match(self, word: str) -> Match:
        if not word:
            return Match("", "")
        mapped = self.mapping.get(header_key(word))
        if mapped is not None:
            return Match(mapped, "mapping")
        key = value_key(word)
        if key in self.words:
            return Match(self.words[key], "exact")
        found: set[str] = set()
        size = 0
        for k, v in self._inner:
            if len(k) < size:
                break
            if k in key:
                found.add(v)
                size = len(k)
        if len(found) == 1:
            return Match(found.pop(), "contains")
        return Match(None, "")  # none, or two values equally likely: a person decides

    def allowed_values(self) -> list[str]:
        return [v for v, _label in self.allowed or []]


__all__ = ["Match", "Vocabulary", "choice_words", "value_key", "words_for"]
