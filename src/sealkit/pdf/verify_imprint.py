"""The seal a person sees against the seal the signature carries: the verifier's ``seal-image`` check.

A signature that carries a GB/T 38540 seal (sealkit's signed CMS attribute) must show that seal's own
picture wherever it shows a seal, and nothing over it:

- the field's widget: the whole picture;
- the cross-page strips reserved as the field's kids (``/NM sealkit-cross-page i/n``): slice *i* of *n*,
  cut as :func:`sealkit.pdf.appearance.strip_bounds` cuts them;
- every other visible annotation written in the signature's own revision (a first signature's extra seals
  and cross-page strips are /Stamp annotations): the whole picture or one slice of it.

Each appearance is read by :mod:`sealkit.pdf.appearance_paint`. It must paint exactly one image, upright,
inside the appearance's box and any clip, in a plain blend mode (Normal or Multiply), fully opaque and
outside optional content; its pixels must be the picture's (:func:`sealkit.pdf.imprint_pixels.same_picture`:
identical as sealkit writes them, or the same picture on paper when embedded differently). Anything else it
paints — another image, a drawing, a shading, text over the picture's rectangle, an operator sealkit does
not know — makes it a mismatch: ``sig-constraints.seal-image-mismatch``, TOTAL-FAILED /
SIG_CONSTRAINTS_FAILURE. What cannot be compared (an image encoding sealkit does not decode, the seal's own
picture undecodable, text beside the picture that no clip keeps off it) is a warning that says so, never a
✓. sealkit clips the caption it writes under a seal to its band, so its own captions are provably clear.

A signature without a seal gets a plain warning: a visible image proves nothing about the signer. And for
every signature, pyHanko's default text stamp ("Digitally signed by NAME.") naming someone other than the
signer is a warning (``appearance.names-other-signer``): /Contents can be re-signed without touching the
widget.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from PIL import Image

from sealkit.pdf.appearance import MM, strip_bounds
from sealkit.pdf.appearance_paint import Paint, Painting, axis_aligned, read_painting, transform_box, unit_box
from sealkit.pdf.imprint_pixels import picture_image, same_picture, xobject_image
from sealkit.pdf.overlap import Box, _intersects
from sealkit.pdf.pdf_lexer import unescape
from sealkit.pdf.report import SignatureVerdict
from sealkit.validation import signer_certificate

MISMATCH = "sig-constraints.seal-image-mismatch"
NOT_COMPARED = "the visible imprint could not be compared with the seal's picture"
#: The reason for it: an electronic seal whose imprint nobody could check is not a pass.
NOT_COMPARED_REASON = "imprint-not-compared.seal-image"
IMAGE_ONLY = "visible image only; not an electronic seal — the image proves nothing about the signer"
#: At most this many objects of the signing revision are searched for stamp annotations.
_MAX_REVISION_OBJECTS = 50_000
_HIDDEN = 2 | 32  # annotation flags Hidden and NoView
_PYHANKO_STAMP = re.compile(r"^Digitally signed by (.+?)\.?$")
#: The stamp's words as they stand in a content stream drawn with a simple font (the only case read).
_STAMP_WORDS = b"signed by"
#: A literal string shown with Tj.
_SHOWN = re.compile(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", re.S)


@dataclass
class _Target:
    """A place that shows the seal: the annotation, how to name it, and which slices it may show."""

    label: str
    annot: Any
    slices: list[tuple[int, int]] | None  # (index, count) it shows; None: the whole or any slice (a stamp)


@dataclass
class _Outcome:
    verdict: str  # match | mismatch | unknown
    detail: str
    size_mm: tuple[float, float] | None = None
    expected_mm: tuple[float, float] | None = None


def imprint_checks(verdict: SignatureVerdict, reader: Any, embedded: Any, field: Any, field_ref: Any) -> None:
    """Record the ``seal-image`` check (and the ``appearance`` warning) of the signature ``embedded`` (a
    pyHanko EmbeddedPdfSignature) in the signature field ``field``. Never raises for odd input: what
    cannot be read is a warning that says the imprint was not compared."""
    try:
        _imprint_checks(verdict, reader, embedded, field, field_ref)
    except Exception:  # noqa: BLE001 - a structure no check foresaw: said, never a pass
        logging.getLogger(__name__).debug("imprint check failed", exc_info=True)
        verdict.check(
            "seal-image",
            False,
            f"{NOT_COMPARED}: the appearances cannot be read (see --verbose)",
            NOT_COMPARED_REASON,
        )


def _imprint_checks(
    verdict: SignatureVerdict, reader: Any, embedded: Any, field: Any, field_ref: Any
) -> None:
    from sealkit.errors import SealkitError
    from sealkit.pdf.fields import split_widgets
    from sealkit.seal.attribute import carried_seal

    signed_data: cms.SignedData = embedded.signed_data
    try:
        signer = signer_certificate(signed_data)
    except (ValueError, TypeError, KeyError):  # no usable signer certificate: the signature's checks say so
        signer = None
    pages = _PageNumbers(reader)
    main, strips = split_widgets(field, field_ref)
    shown = [(w, f"the field's widget{pages.on(w)}") for w, _ in main if _visible(w)]
    _stamp_names_check(verdict, [w for w, _ in shown], signer)
    try:
        seal = carried_seal(signed_data)
    except (SealkitError, ValueError, TypeError, KeyError, IndexError):
        verdict.check(
            "seal-image",
            False,
            f"{NOT_COMPARED}: the seal in the signature cannot be read",
            NOT_COMPARED_REASON,
        )
        return
    if seal is None:
        if shown:
            verdict.check(
                "seal-image", False, f"{IMAGE_ONLY} ({_describe(shown[0][0])}{pages.on(shown[0][0])})"
            )
        else:
            verdict.check("seal-image", False, "invisible signature (no widget appearance)")
        return
    targets = [_Target(label, w, [(0, 1)]) for w, label in shown]
    for index, (strip, _) in enumerate(strips):
        if _visible(strip):
            label = f"cross-page strip {index + 1}/{len(strips)}{pages.on(strip)}"
            targets.append(_Target(label, strip, [(index, len(strips))]))
    own = {_key(ref) for _, ref in main + strips}
    for annot in _added_annotations(reader, embedded.signed_revision, own):
        subtype = str(annot.get("/Subtype", "/?"))[1:]
        targets.append(_Target(f"a {subtype} annotation{pages.on(annot)}", annot, None))
    if not targets:
        verdict.check(
            "seal-image", False, "invisible signature: the seal is in the signature, no imprint is shown"
        )
        return
    picture = picture_image(seal.picture)
    if isinstance(picture, str):
        verdict.check("seal-image", False, f"{NOT_COMPARED}: {picture}", NOT_COMPARED_REASON)
        return
    seal_mm = (float(seal.width_mm), float(seal.height_mm))
    outcomes = [(t, _judge(t, picture, seal_mm)) for t in targets]
    _record(verdict, outcomes)


def _record(verdict: SignatureVerdict, outcomes: list[tuple[_Target, _Outcome]]) -> None:
    bad = [f"{t.label}: {o.detail}" for t, o in outcomes if o.verdict == "mismatch"]
    unknown = [f"{t.label}: {o.detail}" for t, o in outcomes if o.verdict == "unknown"]
    if bad:
        verdict.check(
            "seal-image",
            False,
            "the imprint shown is not the seal's picture: " + "; ".join(bad[:4]),
            MISMATCH,
        )
    elif unknown:
        verdict.check("seal-image", False, f"{NOT_COMPARED}: " + "; ".join(unknown[:4]), NOT_COMPARED_REASON)
    else:
        how = {o.detail for _, o in outcomes}
        places = ", ".join(t.label + _size(o.size_mm) for t, o in outcomes)
        verdict.check(
            "seal-image",
            True,
            f"the visible imprint is the seal's own picture ({', '.join(sorted(how))}): {places}",
        )
    sizes = [
        f"{t.label} shows it at {_size(o.size_mm)[2:-1]}, the seal's size is {_size(o.expected_mm)[2:-1]}"
        for t, o in outcomes
        if o.verdict == "match" and o.size_mm and o.expected_mm and not _same_size(o.size_mm, o.expected_mm)
    ]
    if sizes:
        verdict.check(
            "seal-size", False, "the imprint is not shown at the seal's size: " + "; ".join(sizes[:3])
        )


def _size(size: tuple[float, float] | None) -> str:
    return f" ({size[0]:.1f}×{size[1]:.1f} mm)" if size else ""


def _same_size(shown: tuple[float, float], expected: tuple[float, float]) -> bool:
    def close(a: float, b: float) -> bool:
        return abs(a - b) <= max(1.0, 0.05 * b)

    return (close(shown[0], expected[0]) and close(shown[1], expected[1])) or (
        close(shown[0], expected[1]) and close(shown[1], expected[0])
    )


def _rect(annot: Any) -> Box | None:
    try:
        x1, y1, x2, y2 = (float(v) for v in annot["/Rect"])
    except Exception:  # noqa: BLE001 - no usable /Rect: not shown
        return None
    box = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
    return box if box[2] - box[0] > 0 and box[3] - box[1] > 0 else None


def _visible(annot: Any) -> bool:
    try:
        hidden = int(annot.get("/F", 0)) & _HIDDEN
        return not hidden and _rect(annot) is not None and "/AP" in annot and "/N" in annot["/AP"]
    except Exception:  # noqa: BLE001 - an unreadable annotation shows nothing a viewer agrees on
        return False


def _describe(annot: Any) -> str:
    rect = _rect(annot)
    assert rect is not None
    return f"{(rect[2] - rect[0]) / MM:.1f}×{(rect[3] - rect[1]) / MM:.1f} mm"


def _appearance(annot: Any) -> Any:
    """The normal appearance stream a viewer shows (the /AS state of a state dictionary), or None."""
    normal = annot["/AP"]["/N"]
    if hasattr(normal, "data"):
        return normal
    state = annot.get("/AS")
    chosen = normal.get(str(state)) if state is not None and hasattr(normal, "get") else None
    return chosen if chosen is not None and hasattr(chosen.get_object(), "data") else None


class _PageNumbers:
    """Page numbers of annotations (by their /P), read from the page tree once when first needed."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.numbers: dict[tuple[int, int], int] | None = None

    def on(self, annot: Any) -> str:
        page = annot.raw_get("/P") if hasattr(annot, "raw_get") and "/P" in annot else None
        if page is None or not hasattr(page, "idnum"):
            return ""
        if self.numbers is None:
            self.numbers = self._walk()
        number = self.numbers.get((int(page.idnum), int(page.generation)))
        return f" on page {number}" if number else ""

    def _walk(self) -> dict[tuple[int, int], int]:
        numbers: dict[tuple[int, int], int] = {}
        seen: set[tuple[int, int]] = set()
        try:
            stack = [self.reader.root.raw_get("/Pages")]
            while stack and len(seen) < 200_000:
                ref = stack.pop()
                key = (int(ref.idnum), int(ref.generation))
                if key in seen:
                    continue
                seen.add(key)
                node = ref.get_object()
                if "/Kids" in node:
                    kids = node["/Kids"]
                    stack.extend(kids.raw_get(i) for i in reversed(range(len(kids))))
                else:
                    numbers[key] = len(numbers) + 1
        except Exception:  # noqa: BLE001, S110 - a broken page tree: pages stay unnamed
            pass
        return numbers


def _key(ref: Any) -> tuple[int, int]:
    ref = getattr(ref, "reference", ref)
    return int(ref.idnum), int(ref.generation)


def _added_annotations(reader: Any, revision: int | None, own: set[tuple[int, int]]) -> list[Any]:
    """The visible annotations written in ``revision`` (the signer's own update) other than the field's
    widgets ``own``: a first signature's extra seals and cross-page strips (/Stamp), or anything else the
    signer showed while sealing."""
    if revision is None:
        return []
    try:
        refs = sorted(reader.xrefs.explicit_refs_in_revision(revision), key=_key)
    except Exception:  # noqa: BLE001 - an unreadable revision has no annotations sealkit can name
        return []
    found = []
    for ref in refs[:_MAX_REVISION_OBJECTS]:
        if _key(ref) in own:
            continue
        try:
            obj = reader.get_object(ref)
            if hasattr(obj, "get") and "/Subtype" in obj and "/Rect" in obj and _visible(obj):
                found.append(obj)
        except Exception:  # noqa: BLE001, S112 - an unreadable object is judged by the modification rules
            continue
    return found


def _judge(target: _Target, picture: Image.Image, seal_mm: tuple[float, float]) -> _Outcome:
    """Does ``target``'s appearance paint the picture (or its slice) and nothing that could change it?"""
    form = _appearance(target.annot)
    if form is None:
        return _Outcome("unknown", "its appearance is a state dictionary without a chosen state")
    form = form.get_object()
    painting = read_painting(form)
    found = _painted_image(painting)
    if isinstance(found, _Outcome):
        return found
    image_paint, box = found
    shown = xobject_image(image_paint.image)
    if isinstance(shown, str):
        return _Outcome("unknown", shown)
    columns, how = _matching_slice(picture, shown, target, _shown_mm(target.annot, form, box), seal_mm)
    if columns is None:
        return _Outcome("mismatch", f"shows {how}")
    left, right = columns
    expected = (seal_mm[0] * (right - left) / picture.width, seal_mm[1])
    return _Outcome("match", how, _shown_mm(target.annot, form, box), expected)


def _painted_image(painting: Painting) -> tuple[Paint, Box] | _Outcome:
    """The one image an appearance paints and its box, or why the appearance is not just that image."""
    if painting.unknown:
        return _Outcome(
            "mismatch", "paints what sealkit does not recognise: " + ", ".join(painting.unknown[:3])
        )
    images = [p for p in painting.paints if p.kind == "image"]
    if len(images) != 1:
        return _Outcome("mismatch", f"paints {len(images)} images, not the seal's picture alone")
    image = images[0]
    matrix = image.matrix
    if not axis_aligned(matrix) or matrix[0] <= 0 or matrix[3] <= 0:
        return _Outcome("mismatch", "draws the picture rotated, skewed or mirrored")
    box = unit_box(list(matrix))
    clip = image.clip
    if clip is None or not image.clip_exact or not _contains(clip, box):
        return _Outcome("mismatch", "hides part of the picture (outside the appearance's box or a clip)")
    if image.effects:
        return _Outcome("mismatch", f"draws the picture with {', '.join(image.effects)}")
    if image.optional:
        return _Outcome("mismatch", "draws the picture as optional content (shown or not, by viewer)")
    for paint in painting.paints:
        if paint is image or (paint.kind == "text" and not _intersects(paint.box, box)):
            continue
        if paint.kind != "text":
            return _Outcome("mismatch", f"also paints {_what(paint)}")
        if _intersects(paint.estimate, box):
            return _Outcome("mismatch", f"paints text over the picture{_quoted(paint.text)}")
        return _Outcome(
            "unknown", f"paints text beside the picture{_quoted(paint.text)} that no clip keeps off it"
        )
    return image, box


def _what(paint: Paint) -> str:
    return {
        "image-mask": "a stencil-mask image",
        "inline-image": "an inline image",
        "path": "a drawing (a path)",
        "shading": "a shading",
    }.get(paint.kind, paint.kind)


def _quoted(text: str) -> str:
    text = " ".join(text.split())
    return f" ({text[:40]!r})" if text else ""


def _contains(outer: Box, inner: Box, tolerance: float = 0.5) -> bool:
    return (
        inner[0] >= outer[0] - tolerance
        and inner[1] >= outer[1] - tolerance
        and inner[2] <= outer[2] + tolerance
        and inner[3] <= outer[3] + tolerance
    )


def _shown_mm(annot: Any, form: Any, box: Box) -> tuple[float, float] | None:
    """The picture's size on the page: its box in the form, through /Matrix, fitted to the /Rect."""
    rect = _rect(annot)
    try:
        matrix = tuple(float(v) for v in form.get("/Matrix", (1, 0, 0, 1, 0, 0)))[:6]
        bbox = [float(v) for v in form["/BBox"]]
        outer = transform_box(
            (min(bbox[0], bbox[2]), min(bbox[1], bbox[3]), max(bbox[0], bbox[2]), max(bbox[1], bbox[3])),
            matrix,
        )
        inner = transform_box(box, matrix)
    except Exception:  # noqa: BLE001 - no usable /Matrix or /BBox: the size is not known
        return None
    if rect is None or outer[2] <= outer[0] or outer[3] <= outer[1]:
        return None
    scale_x = (rect[2] - rect[0]) / (outer[2] - outer[0])
    scale_y = (rect[3] - rect[1]) / (outer[3] - outer[1])
    return (inner[2] - inner[0]) * scale_x / MM, (inner[3] - inner[1]) * scale_y / MM


def _matching_slice(
    picture: Image.Image,
    shown: Image.Image,
    target: _Target,
    shown_mm: tuple[float, float] | None,
    seal_mm: tuple[float, float],
) -> tuple[tuple[int, int] | None, str]:
    """The picture's columns (left, right) that ``shown`` is (None: no part), and how that was decided."""
    width = picture.width
    if target.slices is not None:
        candidates = [strip_bounds(width, count)[index] for index, count in target.slices]
    else:  # a stamp: the whole picture, or a slice of a cut into about as many strips as its width says
        counts = {1}
        if shown_mm and shown_mm[0] > 0:
            estimate = round(seal_mm[0] / shown_mm[0])
            counts |= {n for n in (estimate - 1, estimate, estimate + 1) if 1 <= n <= width}
        candidates = sorted(
            {b for n in counts for b in strip_bounds(width, n)}, key=lambda c: c != (0, width)
        )
    exact = [c for c in candidates if c[1] - c[0] == shown.width]
    first = ""
    for columns in exact + [c for c in candidates if c not in exact]:
        expected = (
            picture if columns == (0, width) else picture.crop((columns[0], 0, columns[1], picture.height))
        )
        same, how = same_picture(expected, shown)
        if same:
            return columns, how
        first = first or how
    return None, first


def _stamp_names_check(
    verdict: SignatureVerdict, widgets: list[Any], signer: asn1_x509.Certificate | None
) -> None:
    """Warn when pyHanko's default stamp on the widget names someone other than the signer."""
    if signer is None:
        return
    names = _signer_names(signer)
    for widget in widgets:
        form = _appearance(widget)
        for text in _shown_strings(form.get_object()) if form is not None else ():
            match = _PYHANKO_STAMP.match(" ".join(text.split()))
            if match and match.group(1) not in names:
                verdict.check(
                    "appearance",
                    False,
                    f"[appearance.names-other-signer] the widget's stamp reads {match.group(0)!r}, "
                    f"but the signature was made by {_signer_names(signer, plain=True).pop()!r}",
                )
                return


def _shown_strings(form: Any, depth: int = 0) -> list[str]:
    """The literal strings shown with ``Tj`` in ``form`` and the forms it draws (four levels deep) that hold
    the stamp's words — pyHanko's default stamp, drawn with a simple font. A regular expression over the
    content, not the content interpreter: this runs for every signature."""
    found: list[str] = []
    try:
        data = bytes(form.data)
        if _STAMP_WORDS in data:
            found += [unescape(m.group(1)).decode("latin-1") for m in _SHOWN.finditer(data)]
        xobjects = form.get("/Resources", {}).get("/XObject", {}) if depth < 4 else {}
        for ref in xobjects.values():
            if ref.get_object().get("/Subtype") == "/Form":
                found += _shown_strings(ref.get_object(), depth + 1)
    except Exception:  # noqa: BLE001 - unreadable content shows no stamp text this check could read
        logging.getLogger(__name__).debug("appearance text unreadable", exc_info=True)
    return [text for text in found if "signed by" in text]


def _signer_names(cert: asn1_x509.Certificate, *, plain: bool = False) -> set[str]:
    """The names pyHanko's stamp may show for ``cert``: its common name or organisation, with its e-mail
    (``plain``: the one name pyHanko would choose)."""
    subject = cert.subject.native
    names = [str(subject[k]) for k in ("common_name", "organization_name") if k in subject]
    if plain:
        return {names[0] if names else cert.subject.human_friendly}
    email = subject.get("email_address")
    return set(names) | ({f"{n} <{email}>" for n in names} if email else set())


__all__ = ["IMAGE_ONLY", "MISMATCH", "NOT_COMPARED", "imprint_checks"]
