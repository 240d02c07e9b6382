"""Saved mappings of a ledger: its columns ({header: field}) and its words ({field: {word: value}}), checked
against the kind's fields and each choice field's values before they are kept."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from assets.codes import normalize_lg_code
from assets.kinds import KINDS, spec_for
from ledger.fields import fields_for
from ledger.models import LedgerMapping
from ledger.vocabularies import Vocabulary


def choices_of(kind: str, name: str) -> list[tuple[str, str]] | None:
    if not name.startswith("detail."):
        return None
    f = KINDS[kind].detail_model._meta.get_field(name.removeprefix("detail."))
    return [(c, str(label)) for c, label in f.flatchoices] if f.choices else None


def clean_mapping(kind: str, columns: dict, values: dict) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The mapping with each value as the registry spells it (a label or a known word becomes its value), or
    a ValidationError naming every entry that is not a field or not an allowed value."""
    from core.text import check_text

    spec_for(kind)
    check_text({"columns": columns or {}, "values": values or {}})  # headers and words are keys: named as U+XXXX
    fields = fields_for(kind)
    problems: dict[str, list[str]] = {"columns": [], "values": []}
    cols = {}
    for header, name in (columns or {}).items():
        if name and name not in fields:
            problems["columns"].append(_("column %(header)r → %(field)r: not a field of %(kind)s; allowed: %(allowed)s") % {
                "header": header, "field": name, "kind": kind, "allowed": ", ".join(sorted(fields))})
        cols[str(header)] = name or ""
    vals: dict[str, dict[str, str]] = {}
    for name, words in (values or {}).items():
        if name not in fields or not isinstance(words, dict):
            problems["values"].append(_("values of %(field)r: not a field of %(kind)s; allowed: %(allowed)s") % {
                "field": name, "kind": kind, "allowed": ", ".join(sorted(fields))})
            continue
        allowed = choices_of(kind, name)
        vocab = Vocabulary(name, allowed)
        out = {}
        for word, value in words.items():
            if allowed is not None and value:
                match = vocab.match(str(value))
                if match.how != "exact":
                    problems["values"].append(_("%(field)s: %(word)r → %(value)r is not allowed; allowed: %(allowed)s") % {
                        "field": name, "word": word, "value": value,
                        "allowed": ", ".join(f"{label} ({v})" for v, label in allowed)})
                    continue
                value = match.value
            out[str(word)] = value or ""
        vals[name] = out
    if problems["columns"] or problems["values"]:
        raise ValidationError({k: v for k, v in problems.items() if v})
    return cols, vals


def save_mapping(*, municipality: str, kind: str, source: str, mapping: dict) -> LedgerMapping:
    """Keep a mapping for this municipality's ledger, over what was saved before (a header or word given again
    takes its new meaning; the others stay)."""
    from ledger.importer import split_mapping

    columns, values = clean_mapping(kind, *split_mapping(mapping))
    owner = normalize_lg_code(municipality)
    with transaction.atomic():
        LedgerMapping.objects.get_or_create(owner_id=owner, kind=kind, source=source)
        # Read, merge and write under the row's lock: two loads of the same ledger at once each add their words
        # (without it the second save would put back the row as it read it, losing the first one's).
        m = LedgerMapping.objects.select_for_update().get(owner_id=owner, kind=kind, source=source)
        m.columns = {**(m.columns or {}), **columns}
        merged = dict(m.value_mapping or {})
        for name, words in values.items():
            merged[name] = {**merged.get(name, {}), **words}
        m.value_mapping = merged
        m.save()
    return m


__all__ = ["choices_of", "clean_mapping", "save_mapping"]
