"""What people call a record's ledger source (Asset.source, a code such as `demo`, `ledger` or a ledger system's
own): デモデータ, 台帳の取込み, or the name of the API key the system writes that ledger with. Never the code on a
screen: a source nobody named reads as an external ledger."""

from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assets.models import ApiToken

__all__ = ["SOURCE_LABELS", "source_name"]

# The sources the application itself writes (the generator, the ledger import's default, registration here).
SOURCE_LABELS = {
    "demo": gettext_lazy("Demo data"),
    "ledger": gettext_lazy("Ledger import"),
    "registry": gettext_lazy("Registered in 群マネ"),
}


def source_name(source: str | None, owner_id: str | None = None) -> str:
    """The source as people read it: its label; text a person typed in their own words (not an ASCII code) as
    it is; else the name of the owner's API key for that source (the ledger system that writes it); else
    'another ledger'."""
    text = (source or "").strip()
    if text in SOURCE_LABELS:
        return str(SOURCE_LABELS[text])
    if text and not text.isascii():
        return text
    if text and owner_id:
        # The key in use first, else the latest one revoked: the system that writes the ledger keeps its name.
        name = (ApiToken.objects.filter(municipality_id=owner_id, source=text)
                .order_by(F("revoked_at").desc(nulls_first=True), "-created_at").values_list("name", flat=True).first())
        if name:
            return name
    return _("another ledger")
