"""Photo intake: JPEG, PNG and HEIC/HEIF (what phones produce), size-limited, with a JPEG thumbnail."""

import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError
from pillow_heif import register_heif_opener

register_heif_opener()

MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 60_000_000
ALLOWED = {"JPEG": "image/jpeg", "PNG": "image/png", "HEIF": "image/heic"}
THUMB = (320, 320)


@dataclass
class CheckedPhoto:
    name: str
    data: bytes
    content_type: str
    width: int
    height: int
    thumbnail: bytes


def check_photo(upload, index: int = 1) -> CheckedPhoto:
    """Validate one upload completely before anything is stored; the message names the photo and the rule."""
    name = getattr(upload, "name", f"photo {index}") or f"photo {index}"
    field = f"photos[{index}]"
    size = getattr(upload, "size", None)
    too_big = _("%(name)s is %(mb).1f MB; the limit is 15 MB")
    if size is not None and size > MAX_BYTES:
        raise ValidationError({field: too_big % {"name": name, "mb": size / 2**20}})
    data = upload.read()
    if len(data) > MAX_BYTES:
        raise ValidationError({field: too_big % {"name": name, "mb": len(data) / 2**20}})
    try:
        img = Image.open(io.BytesIO(data))
        fmt = img.format
        img.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        fmt = None
    if fmt not in ALLOWED:
        raise ValidationError({field: _("%(name)s is not a photo this system accepts; allowed: JPEG, PNG, HEIC")
                               % {"name": name}})
    if img.width * img.height > MAX_PIXELS:
        raise ValidationError({field: _("%(name)s has too many pixels (limit 60 megapixels)") % {"name": name}})
    from PIL import ImageOps

    thumb = ImageOps.exif_transpose(img).convert("RGB")
    thumb.thumbnail(THUMB)
    buf = io.BytesIO()
    thumb.save(buf, "JPEG", quality=80)
    return CheckedPhoto(name[:200], data, ALLOWED[fmt], img.width, img.height, buf.getvalue())


def as_files(photo: CheckedPhoto) -> tuple[ContentFile, ContentFile]:
    stem = photo.name.rsplit(".", 1)[0][:80] or "photo"
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic"}[photo.content_type]
    return ContentFile(photo.data, name=f"{stem}.{ext}"), ContentFile(photo.thumbnail, name=f"{stem}_thumb.jpg")
