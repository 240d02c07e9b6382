"""An uploaded ledger kept on the server between checks, so that a person can map columns and values and
check again without choosing the file again: MEDIA_ROOT/ledger-pending/<random id>, readable only by who sent
it, gone after PENDING_SECONDS (or once loaded). Bounded by the upload limit; never held in memory between
requests."""

import json
import re
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PENDING_SECONDS = 2 * 3600
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "ledger-pending"


def _purge(now: float) -> None:
    for meta in _dir().glob("*.json"):
        try:
            expired = json.loads(meta.read_text(encoding="utf-8"))["at"] + PENDING_SECONDS < now
        except (OSError, ValueError, KeyError):
            expired = True
        if expired:
            drop(meta.stem)


def keep(user_id: int, data: bytes, filename: str) -> str:
    """Store the file for this user; its id (a random token) goes into the page."""
    now = time.time()
    _dir().mkdir(parents=True, exist_ok=True)
    _purge(now)
    token = secrets.token_hex(16)
    (_dir() / f"{token}.bin").write_bytes(data)
    (_dir() / f"{token}.json").write_text(json.dumps({"user": user_id, "filename": filename, "at": now}),
                                         encoding="utf-8")
    return token


def load(user_id: int, token: str) -> tuple[bytes, str]:
    """The file and its name; ValidationError when it is gone, expired or someone else's (the same answer for
    each: an id guessed says nothing)."""
    gone = ValidationError({"file": _("The file chosen before is no longer kept; choose it again")})
    if not _TOKEN.match(token or ""):
        raise gone
    try:
        meta = json.loads((_dir() / f"{token}.json").read_text(encoding="utf-8"))
        if meta["user"] != user_id or meta["at"] + PENDING_SECONDS < time.time():
            raise gone
        return (_dir() / f"{token}.bin").read_bytes(), meta["filename"]
    except (OSError, ValueError, KeyError):
        raise gone from None


def drop(token: str) -> None:
    if not _TOKEN.match(token or ""):
        return
    for ext in ("bin", "json"):
        (_dir() / f"{token}.{ext}").unlink(missing_ok=True)


__all__ = ["PENDING_SECONDS", "drop", "keep", "load"]
