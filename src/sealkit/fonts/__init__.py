"""Find the CJK font sealkit embeds in seal appearances and sample contracts, as a plain TrueType file.

sealkit uses AR PL UMing (Debian ``fonts-arphic-uming``, installed by ``scripts/bootstrap.sh``): a free
明体/宋体 style face that covers GB 2312 and Big5. It ships as a TrueType *collection* (``uming.ttc``),
while pyHanko's OpenType embedding and fpdf2 want a single face, so :func:`cjk_font_path` extracts the
Simplified Chinese face once into ``$SEALKIT_HOME/cache/fonts/`` and returns that file.
``SEALKIT_CJK_FONT`` overrides the font (a ``.ttf``/``.otf`` is used as is; a ``.ttc`` has its first face
extracted).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sealkit.atomic import atomic_output
from sealkit.config import Config
from sealkit.errors import ConfigError

FONT_ENV = "SEALKIT_CJK_FONT"

#: Where Debian (and Ubuntu) install AR PL UMing, and a few other places CJK fonts commonly live.
CANDIDATES = (
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)

_BITMAP_TABLES = ("BDF ", "EBDT", "EBLC", "EBSC", "bdat", "bloc", "FFTM")

__all__ = ["CANDIDATES", "FONT_ENV", "cjk_font_path", "find_cjk_font"]


def find_cjk_font() -> Path:
    """The CJK font file to use (``SEALKIT_CJK_FONT`` or the first installed candidate), TTC or TTF."""
    override = os.environ.get(FONT_ENV)
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise ConfigError(f"{FONT_ENV}={path} is not a font file")
        return path
    for candidate in CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise ConfigError(
        "no CJK font found: install fonts-arphic-uming (scripts/bootstrap.sh) or set " + FONT_ENV
    )


def cjk_font_path(face: int = 0) -> Path:
    """A single-face TrueType file of the CJK font, extracted from a collection into the cache if needed."""
    source = find_cjk_font()
    if source.suffix.lower() != ".ttc":
        return source
    stat = source.stat()
    tag = hashlib.sha256(f"{source}:{stat.st_size}:{stat.st_mtime_ns}:{face}".encode()).hexdigest()[:16]
    target = Config().home / "cache" / "fonts" / f"{source.stem}-{face}-{tag}.ttf"
    if target.is_file():
        return target
    from fontTools.ttLib import TTCollection

    target.parent.mkdir(parents=True, exist_ok=True)
    collection = TTCollection(str(source), lazy=True)
    if face >= len(collection.fonts):
        raise ConfigError(f"{source} has {len(collection.fonts)} faces, not {face + 1}")
    font = collection.fonts[face]
    for tag in _BITMAP_TABLES:  # embedded bitmaps: useless in PDFs, and subsetters cannot handle them
        if tag in font:
            del font[tag]
    with atomic_output(target) as handle:
        font.save(handle)
    return target
