"""Japanese TrueType fonts (IPAex), embedded in every PDF: Debian's fonts-ipaexfont, installed by the set-up."""

import os
from pathlib import Path

from reportlab.graphics.shapes import STATE_DEFAULTS
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

GOTHIC, MINCHO = "IPAexGothic", "IPAexMincho"
_CANDIDATES = {
    GOTHIC: ["/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf", "/usr/share/fonts/truetype/ipaexfont/ipaexg.ttf",
             "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"],
    MINCHO: ["/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf", "/usr/share/fonts/truetype/ipaexfont/ipaexm.ttf",
             "/usr/share/fonts/truetype/fonts-japanese-mincho.ttf"],
}


def register() -> None:
    """Register both faces once. GUNMANE_FONT_DIR may point at a folder holding ipaexg.ttf and ipaexm.ttf."""
    extra = os.environ.get("GUNMANE_FONT_DIR")
    for name, paths in _CANDIDATES.items():
        if name in pdfmetrics.getRegisteredFontNames():
            continue
        files = ([str(Path(extra) / Path(paths[0]).name)] if extra else []) + paths
        found = next((p for p in files if Path(p).is_file()), None)
        if found is None:
            raise RuntimeError(f"Japanese font {name} not found (looked in {', '.join(files)}); "
                               "install Debian's fonts-ipaexfont (make setup does)")
        pdfmetrics.registerFont(TTFont(name, found))
    # Drawings start every render from these defaults (Times-Roman): left so, a PDF with charts would list
    # an unembedded base-14 font.
    STATE_DEFAULTS["fontName"] = GOTHIC
