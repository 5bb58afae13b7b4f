"""Pixels of an imprint: a PDF image XObject and a GB/T 38540 picture decoded to RGBA, and whether the two
show the same seal.

:func:`xobject_image` decodes what seal appearances use: DeviceGray/CalGray (1, 2, 4, 8, 16 bits),
DeviceRGB/CalRGB (8, 16), DeviceCMYK (8, converted naively), ICCBased (1, 3 or 4 components) and
Indexed-over-RGB (1, 2, 4, 8) images behind Flate/ASCII filters, and JPEG and JPEG 2000 (decoded by
Pillow), with a soft mask (/SMask) as the alpha channel. Anything else — JBIG2, CCITT, Lab, Separation,
DeviceN, /Decode arrays, /Mask, a soft mask with /Matte — gives a sentence instead of an image, and the
caller says that the imprint could not be compared (it never counts as a match).

:func:`same_picture` decides. Identical RGBA pixels at the same size is a match: that is what sealkit writes
(the picture's PNG pixels losslessly, as an RGB image and its /SMask). A picture embedded differently (JPEG,
another resolution or pixel format, no alpha on white) is compared for what a person sees on paper: both are
composited over white, reduced by a box filter to one grid (at most :data:`GRID` pixels on the long side,
never finer than the coarser of the two), and compared pixel by pixel. A pixel *differs clearly* when a
channel differs by more than :data:`FAR_LIMIT` of 255. It matches when the proportions agree within 2 %, the
mean difference is at most :data:`MEAN_LIMIT`, at most :data:`FAR_SHARE` of the pixels differ clearly, and
no patch of :data:`BLOCK` × :data:`BLOCK` grid pixels has more than :data:`BLOCK_SHARE` of its pixels
differing clearly. Encoding noise (JPEG ringing, resampling) is spread thinly along every edge; an edit is
dense where it is, which the patch limit catches. Measured on sealkit's imprints: JPEG down to quality 30
and third-resolution copies stay under 1.3 % per patch; one character of the name changed gives 80 %, one
digit of the serial 12.5 %, another unit's seal 94 % (``tests/pdf_verify/test_imprint_binding.py``).
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageChops

#: Pictures and images larger than this many pixels are not decoded (a seal is ~1000 × 1000 at 600 dpi).
MAX_PIXELS = 16_000_000
GRID = 512
MEAN_LIMIT = 16.0
FAR_LIMIT = 96
FAR_SHARE = 0.002
BLOCK = 16
BLOCK_SHARE = 0.05
_PLAIN_FILTERS = {"/FlateDecode", "/Fl", "/ASCIIHexDecode", "/AHx", "/ASCII85Decode", "/A85"}
_PILLOW_FILTERS = {"/DCTDecode", "/DCT", "/JPXDecode"}
#: (mode, bits per component) -> Pillow's raw mode for that PDF sample layout (rows padded to bytes).
_RAW_MODES = {
    ("L", 1): "1", ("L", 2): "L;2", ("L", 4): "L;4", ("L", 8): "L", ("L", 16): "L;16B",
    ("RGB", 8): "RGB", ("RGB", 16): "RGB;16B", ("CMYK", 8): "CMYK",
    ("P", 1): "P;1", ("P", 2): "P;2", ("P", 4): "P;4", ("P", 8): "P",
}  # fmt: skip
_COMPONENTS = {"L": 1, "RGB": 3, "CMYK": 4, "P": 1}


def picture_image(data: bytes) -> Image.Image | str:
    """The seal's picture (PNG, JPEG, GIF, BMP…) as RGBA, or why it cannot be decoded."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return f"the seal's picture is too large to decode ({image.width}×{image.height} px)"
            image.load()
            return image.convert("RGBA")
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for bad input; any is "not decodable"
        return "the seal's picture is not an image sealkit can decode"


def xobject_image(xobject: Any) -> Image.Image | str:
    """The image XObject ``xobject`` (a pyHanko stream) as RGBA with its soft mask, or why not."""
    try:
        width, height = int(xobject["/Width"]), int(xobject["/Height"])
    except Exception:  # noqa: BLE001 - a missing or odd /Width or /Height
        return "an image without a usable size"
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        return f"an image of {width}×{height} pixels"
    for key, what in (("/Decode", "a /Decode array"), ("/Mask", "a /Mask")):
        if key in xobject:
            return f"an image with {what}"
    base = _pixels(xobject, width, height)
    if isinstance(base, str):
        return base
    image = base.convert("RGBA")
    if "/SMask" in xobject:
        mask = xobject["/SMask"].get_object()
        if "/Matte" in mask or "/Decode" in mask:
            return "an image whose soft mask has /Matte or /Decode"
        try:
            size = int(mask["/Width"]), int(mask["/Height"])
        except Exception:  # noqa: BLE001 - a soft mask without a usable size
            return "an image with an unusable soft mask"
        if size[0] <= 0 or size[1] <= 0 or size[0] * size[1] > MAX_PIXELS:
            return "an image with an unusable soft mask"
        alpha = _pixels(mask, *size)
        if isinstance(alpha, str):
            return f"its soft mask is {alpha}"
        if alpha.mode != "L":
            return "an image whose soft mask is not greyscale"
        if alpha.size != image.size:
            alpha = alpha.resize(image.size, Image.Resampling.BILINEAR)
        image.putalpha(alpha)
    return image


def _filters(xobject: Any) -> list[str]:
    value = xobject.get("/Filter")
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _pixels(xobject: Any, width: int, height: int) -> Image.Image | str:
    """The image's own pixels (RGB or L), without its soft mask."""
    filters = _filters(xobject)
    if filters and filters[-1] in _PILLOW_FILTERS:
        if len(filters) > 1:
            return "an image behind several filters"
        try:
            with Image.open(io.BytesIO(xobject.encoded_data)) as encoded:
                if encoded.size != (width, height):
                    return "a JPEG image whose size is not the image's"
                encoded.load()
                if encoded.mode not in ("L", "RGB", "RGBA", "LA"):
                    return f"a JPEG image in mode {encoded.mode}"
                return encoded.convert("RGB" if encoded.mode.startswith("RGB") else "L")
        except Exception:  # noqa: BLE001 - Pillow's many errors for bad data
            return "a JPEG image sealkit cannot decode"
    if any(f not in _PLAIN_FILTERS for f in filters):
        return f"an image with the filter {', '.join(filters)}"
    space = _colour_space(xobject.get("/ColorSpace"))
    if isinstance(space, str):
        return space
    mode, palette = space
    bits = int(xobject.get("/BitsPerComponent", 8))
    raw_mode = _RAW_MODES.get((mode, bits))
    if raw_mode is None:
        return f"an image of {bits} bits per component in {mode}"
    try:
        data = xobject.data
    except Exception:  # noqa: BLE001 - a stream its filters cannot decode
        return "an image whose data cannot be decoded"
    need = (width * bits * _COMPONENTS[mode] + 7) // 8 * height
    if len(data) < need:
        return "an image with less data than its size needs"
    image = Image.frombytes(
        "1" if raw_mode == "1" else mode, (width, height), bytes(data[:need]), "raw", raw_mode
    )
    if mode == "P":
        image.putpalette(palette.ljust(768, b"\0")[:768])
    return image.convert("L" if mode == "L" else "RGB")


def _colour_space(value: Any) -> tuple[str, bytes] | str:
    """("RGB" | "L" | "P", palette) for the colour spaces sealkit decodes, else why not."""
    value = value.get_object() if hasattr(value, "get_object") else value
    family = str(value[0] if isinstance(value, list) and value else value)
    if family in ("/DeviceRGB", "/CalRGB", "/RGB"):
        return "RGB", b""
    if family in ("/DeviceGray", "/CalGray", "/G"):
        return "L", b""
    if family in ("/DeviceCMYK", "/CMYK"):
        return "CMYK", b""
    if family == "/ICCBased" and isinstance(value, list) and len(value) > 1:
        components = int(value[1].get_object().get("/N", 0))
        if components in (1, 3, 4):
            return {1: "L", 3: "RGB", 4: "CMYK"}[components], b""
        return f"an image in an ICC colour space of {components} components"
    if family in ("/Indexed", "/I") and isinstance(value, list) and len(value) == 4:
        base = _colour_space(value[1])
        lookup = value[3].get_object()
        table = lookup.data if hasattr(lookup, "data") else bytes(getattr(lookup, "original_bytes", b""))
        if base == ("RGB", b"") and table:
            return "P", bytes(table)
        return "an indexed image over a colour space sealkit does not decode"
    return f"an image in the colour space {family}"


def _on_paper(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return Image.alpha_composite(paper, image).convert("RGB").resize(size, Image.Resampling.BOX)


def same_picture(expected: Image.Image, shown: Image.Image) -> tuple[bool, str]:
    """Whether ``shown`` (RGBA) shows the picture ``expected`` (RGBA), and how it was decided."""
    same_size = expected.size == shown.size
    if same_size and ImageChops.difference(expected, shown).getbbox(alpha_only=False) is None:
        return True, "identical pixels"
    (ew, eh), (sw, sh) = expected.size, shown.size
    if abs((sw / sh) / (ew / eh) - 1) > 0.02:
        return False, f"an image of other proportions ({sw}×{sh} px; the seal's picture is {ew}×{eh})"
    width = max(1, round(min(ew, sw, GRID * ew / max(ew, eh))))
    grid = (width, max(1, round(width * eh / ew)))
    red, green, blue = ImageChops.difference(_on_paper(expected, grid), _on_paper(shown, grid)).split()
    worst = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    levels = worst.histogram()
    total = grid[0] * grid[1]
    mean = sum(level * count for level, count in enumerate(levels)) / total
    far = sum(levels[FAR_LIMIT + 1 :]) / total
    blocks = (max(1, grid[0] // BLOCK), max(1, grid[1] // BLOCK))
    spread = worst.point(lambda v: 255 if v > FAR_LIMIT else 0).resize(blocks, Image.Resampling.BOX)
    densest = max((level for level, count in enumerate(spread.histogram()) if count), default=0) / 255
    if mean <= MEAN_LIMIT and far <= FAR_SHARE and densest <= BLOCK_SHARE:
        return True, f"the same picture on paper ({sw}×{sh} px, mean difference {mean:.1f}/255)"
    return False, (
        f"another picture ({far:.2%} of it differs clearly, up to {densest:.0%} of a "
        f"{100 * BLOCK / grid[0]:.0f}% patch; mean difference {mean:.1f}/255)"
    )


__all__ = ["picture_image", "same_picture", "xobject_image"]
