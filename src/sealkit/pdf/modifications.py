"""Compare two revisions of a PDF by what they *mean*: the object graph seen from the trailer.

pyHanko parses the file and keeps every revision's cross-reference sections; this module walks the
revision before an incremental update and the revision after it side by side, from the trailer down,
following references on both sides, and reports the first difference under each place it is asked about
(a page, a form field, the catalog), with the place, the object number and what differs.

Comparing values rather than object numbers is what makes the allow-list in
:mod:`sealkit.pdf.verify_policy` sound: an object shared by a page and an allowed place (the DSS, a seal's
appearance) cannot be changed "as" the allowed one, since the page's comparison sees the change too; an
object moved into an object stream, redefined in a later xref section or a hybrid-reference stream is
compared by its content wherever it is used; a reference that now points at *another* object is a change
even when the contents are equal (:attr:`Difference.retargeted`: viewers tell optional content groups,
fields and pages apart by reference); and a *forward reference* — a reference that the
older revision already contained but that pointed to no object there, filled in later (``/Annots [990 0
R]``) — is found where it is used (:attr:`Difference.forward`).

Objects that nothing reachable from the trailer refers to are not compared: no viewer shows them.
:func:`dangling_references` finds references, in one revision, to a number that revision frees while the
file still defines it (viewers disagree on those).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from pyhanko.pdf_utils import generic

_MAX_DEPTH = 200
_MAX_PAIRS = 200_000
_TEXT = (generic.TextStringObject, generic.ByteStringObject)
_NONE_OPEN = 1 << 30
_Pair = tuple[tuple[int, int], tuple[int, int]]


class TooComplex(Exception):
    """The revisions are too deep or too large to compare (a verdict, not a crash, for the caller)."""


@dataclass(frozen=True)
class Difference:
    """Where two revisions differ: the path of keys from the compared place, the innermost object.

    ``forward`` is the object number when the older revision referred to an object it did not define and
    the newer one defines it (a forward reference); ``retargeted`` the object number a reference pointed
    at before, when it now points at another object (even one with equal content).
    """

    path: tuple[str, ...]
    obj: int | None
    what: str
    forward: int | None = None
    retargeted: int | None = None

    def keys(self) -> set[str]:
        return {p for p in self.path if p.startswith("/")}

    def where(self) -> str:
        text = " ".join(self.path) or "(itself)"
        return f"{text} (object {self.obj})" if self.obj is not None else text


def _key(ref: Any) -> tuple[int, int]:
    return int(ref.idnum), int(ref.generation)


class Revisions:
    """The revision before an update (``old``) and after it (``new``), and a memoised value comparison.

    ``changed`` holds the (number, generation) of every object the update wrote; ``defined_old(ref)``
    and ``defined_new(ref)`` say whether a reference resolves to an object in that revision.
    """

    def __init__(self, reader: Any, revision: int) -> None:
        self.reader = reader
        self.revision = revision
        self.old = reader.get_historical_resolver(revision - 1)
        self.new = reader.get_historical_resolver(revision)
        self.changed = {_key(ref) for ref in reader.xrefs.explicit_refs_in_revision(revision)}
        #: Finished comparisons of reference pairs. A comparison that met a pair still being compared (a
        #: reference cycle) assumed that pair equal: its "equal" is *provisional* until that pair is
        #: done (:attr:`_provisional`, by the level of the open pair it relied on), then final if the
        #: pair was equal and dropped if not — else a lenient comparison (the DSS) could leave an "equal"
        #: behind that a strict one (the catalog) would read.
        self._memo: dict[_Pair, Difference | None] = {}
        self._open: dict[_Pair, int] = {}
        self._provisional: dict[_Pair, int] = {}
        self._waiting: list[list[_Pair]] = []
        self._relied = _NONE_OPEN
        self._defined: dict[tuple[int, int, int], bool] = {}
        #: Objects a rule compares on their own (pages, fields, widgets, the catalog, the form): reached
        #: through a reference, they count as equal here, and :attr:`assumed` remembers it until a rule
        #: has compared them (:attr:`judged`); :meth:`unjudged` lists those no rule compared.
        self.deferred: set[tuple[int, int]] = set()
        self.assumed: dict[tuple[int, int], tuple[str, ...]] = {}
        self.judged: set[tuple[int, int]] = set()

    # -- resolving -------------------------------------------------------------------------------------

    def defined(self, ref: Any, revision: int) -> bool:
        """Whether ``ref`` names an object in ``revision``.

        An xref entry for an object *number* replaces every older definition of that number, whatever its
        generation: after ``11 1`` is registered, ``11 0 R`` refers to nothing (PDF 7.5.4, and how viewers
        read it), although pyHanko's lookup falls back to the older (11, 0). Such an object counts as freed.
        """
        key = (*_key(ref), revision)
        if key not in self._defined:
            xrefs = self.reader.xrefs
            entries = (_entry(xrefs.get_xref_data(r), key[0], key[1]) for r in range(revision, -1, -1))
            latest = next((entry for entry in entries if entry is not None), False)
            self._defined[key] = latest and (
                self.reader.xrefs.get_historical_ref(generic.Reference(key[0], key[1]), revision) is not None
            )
        return self._defined[key]

    def defined_old(self, ref: Any) -> bool:
        return self.defined(ref, self.revision - 1)

    def defined_new(self, ref: Any) -> bool:
        return self.defined(ref, self.revision)

    def is_new_object(self, ref: Any) -> bool:
        """The update defines ``ref`` and the revision before did not."""
        return _key(ref) in self.changed and not self.defined_old(ref)

    def resolve(self, value: Any, old: bool) -> Any:
        """``value`` with one level of indirection removed (an undefined reference is null)."""
        if isinstance(value, generic.IndirectObject):
            if not self.defined(value, self.revision - (1 if old else 0)):
                return generic.NullObject()
            resolver = self.old if old else self.new
            return resolver.get_object(generic.Reference(*_key(value), pdf=resolver))
        return value

    # -- comparing -------------------------------------------------------------------------------------

    def diff(
        self, old: Any, new: Any, path: tuple[str, ...] = (), obj: int | None = None
    ) -> Difference | None:
        """The first difference between ``old`` (older revision) and ``new`` (newer), or None if equal."""
        return self._diff(old, new, path, obj, 0)

    def diff_object(self, old: Any, new: Any, path: tuple[str, ...] = ()) -> Difference | None:
        """Like :meth:`diff`, for an object a rule judges itself: compared even when deferred."""
        same = isinstance(old, generic.IndirectObject) and isinstance(new, generic.IndirectObject)
        if same and _key(old) == _key(new) and self.defined_old(old):
            self.judge(new)
            if not self.defined_new(new):
                return Difference(path, new.idnum, "freed after signing")
            return self._diff_direct(
                self.resolve(old, True),
                self.resolve(new, False),
                path,
                new.idnum,
                1,
                same_object=_key(new) not in self.changed,
            )
        return self.diff(old, new, path)

    def judge(self, ref: Any) -> None:
        """Record that a rule compares the object ``ref`` in both revisions."""
        if isinstance(ref, generic.IndirectObject):
            self.judged.add(_key(ref))

    def unjudged(self) -> list[tuple[int, int]]:
        """Deferred objects that a comparison relied on but that no rule compared: compare them now."""
        pending = sorted(set(self.assumed) - self.judged)
        for key in pending:
            self.deferred.discard(key)
            self.judged.add(key)
        return pending

    def _diff(
        self, old: Any, new: Any, path: tuple[str, ...], obj: int | None, depth: int
    ) -> Difference | None:
        if depth > _MAX_DEPTH or len(self._memo) > _MAX_PAIRS:
            raise TooComplex(f"the object graph is too deep or too large to compare at {' '.join(path)}")
        old_ref = old if isinstance(old, generic.IndirectObject) else None
        new_ref = new if isinstance(new, generic.IndirectObject) else None
        if old_ref is not None or new_ref is not None:
            return self._diff_refs(old_ref, new_ref, old, new, path, obj, depth)
        return self._diff_direct(old, new, path, obj, depth)

    def _diff_refs(
        self,
        old_ref: Any,
        new_ref: Any,
        old: Any,
        new: Any,
        path: tuple[str, ...],
        obj: int | None,
        depth: int,
    ) -> Difference | None:
        if old_ref is not None and new_ref is not None:
            if _key(old_ref) == _key(new_ref):
                if _key(old_ref) in self.deferred:
                    self.assumed.setdefault(_key(old_ref), path)
                    return None
                old_here, new_here = self.defined_old(old_ref), self.defined_new(new_ref)
                if not old_here and new_here:
                    return Difference(path, old_ref.idnum, "defined after signing", forward=old_ref.idnum)
                if old_here and not new_here:
                    return Difference(path, old_ref.idnum, "freed after signing")
                if not old_here:
                    return None  # undefined in both: null in both
            elif self.defined_old(old_ref) or self.defined_new(new_ref):
                # Viewers identify objects by reference (an optional content group in /OFF, a field's
                # /Parent, a page): another object with the same content is still another object.
                return Difference(
                    path,
                    new_ref.idnum,
                    f"refers to object {new_ref.idnum} instead of object {old_ref.idnum}",
                    retargeted=old_ref.idnum,
                )
            pair = (_key(old_ref), _key(new_ref))
            if pair in self._memo:
                known = self._memo[pair]  # its path is relative to the pair: put it under this one
                return None if known is None else replace(known, path=path + known.path)
            level = self._open.get(pair, self._provisional.get(pair))
            if level is not None:  # being compared, or equal provided an open pair is: assume equal
                self._relied = min(self._relied, level)
                return None
            return self._compare_pair(pair, old_ref, new_ref, path, depth)
        # an indirect object on one side, a direct one on the other: compare the values
        resolved_old = self.resolve(old, True)
        resolved_new = self.resolve(new, False)
        where = new_ref.idnum if new_ref is not None else obj
        if isinstance(resolved_old, generic.StreamObject) or isinstance(resolved_new, generic.StreamObject):
            return Difference(path, where, "an indirect stream replaced by a direct value")
        if old_ref is not None and isinstance(resolved_old, generic.DictionaryObject):
            # a copy written in place has no identity: whatever the old object stood for (an OCG in /OFF)
            # no longer names it
            return Difference(
                path, obj, f"object {old_ref.idnum} replaced by a direct copy", retargeted=old_ref.idnum
            )
        if new_ref is not None and isinstance(resolved_new, generic.DictionaryObject):
            # and the reverse: a direct dictionary (an inline group, always on) is not the object that now
            # stands in its place (a group in /OFF)
            return Difference(path, new_ref.idnum, f"a direct dictionary replaced by object {new_ref.idnum}")
        return self._diff_direct(resolved_old, resolved_new, path, where, depth + 1)

    def _compare_pair(
        self, pair: _Pair, old_ref: Any, new_ref: Any, path: tuple[str, ...], depth: int
    ) -> Difference | None:
        """Compare the objects of a reference pair, with the bookkeeping of reference cycles."""
        if len(self._memo) + len(self._provisional) > _MAX_PAIRS:
            raise TooComplex(f"the object graph is too large to compare at {' '.join(path)}")
        level = len(self._open)
        self._open[pair] = level
        self._waiting.append([])
        outer, self._relied = self._relied, _NONE_OPEN
        try:
            result = self._diff_direct(
                self.resolve(old_ref, True),
                self.resolve(new_ref, False),
                path,
                new_ref.idnum,
                depth + 1,
                same_object=pair[0] == pair[1] and pair[1] not in self.changed,
            )
        except BaseException:
            for other in self._waiting[level]:
                del self._provisional[other]
            raise
        finally:
            del self._open[pair]
            waiting = self._waiting.pop()
        for other in waiting:  # they relied on this pair being equal
            del self._provisional[other]
            if result is None:
                self._memo[other] = None
        relied = self._relied
        if result is None and relied < level:
            self._provisional[pair] = relied
            self._waiting[relied].append(pair)
        else:
            self._memo[pair] = None if result is None else replace(result, path=result.path[len(path) :])
        self._relied = min(outer, relied)
        return result

    def _diff_direct(
        self,
        old: Any,
        new: Any,
        path: tuple[str, ...],
        obj: int | None,
        depth: int,
        same_object: bool = False,
    ) -> Difference | None:
        if isinstance(old, generic.DictionaryObject) and isinstance(new, generic.DictionaryObject):
            is_stream = isinstance(old, generic.StreamObject), isinstance(new, generic.StreamObject)
            if is_stream[0] != is_stream[1]:
                return Difference(path, obj, "a stream replaced by a dictionary, or the reverse")
            keys = set(old) | set(new)
            for key in sorted(keys):
                if key not in old or key not in new:
                    side = "added" if key not in old else "removed"
                    return Difference((*path, str(key)), obj, f"{key} {side}")
                found = self._diff(old.raw_get(key), new.raw_get(key), (*path, str(key)), obj, depth + 1)
                if found is not None:
                    return found
            if is_stream[0] and not same_object and _stream_bytes(old) != _stream_bytes(new):
                return Difference(path, obj, "stream data changed")
            return None
        if isinstance(old, generic.ArrayObject) and isinstance(new, generic.ArrayObject):
            if len(old) != len(new):
                return Difference(path, obj, f"{len(old)} entries became {len(new)}")
            for index, (a, b) in enumerate(zip(old, new, strict=True)):
                found = self._diff(
                    _raw_item(old, index, a), _raw_item(new, index, b), (*path, f"[{index}]"), obj, depth + 1
                )
                if found is not None:
                    return found
            return None
        if _scalar_equal(old, new):
            return None
        return Difference(path, obj, f"{_show(old)} became {_show(new)}")


def freed_but_defined(reader: Any) -> list[set[int]]:
    """For each revision, the object numbers a reference could be read differently by: those it leaves
    freed although some revision of the file defines them, and those registered with more than one
    generation (one pass over the xref data). pyHanko and qpdf read a freed object as null, poppler and
    PDFium rebuild it from the old definition (:func:`dangling_references`)."""
    xrefs = reader.xrefs
    sections = [xrefs.get_xref_data(r) for r in range(xrefs.total_revisions)]
    parts = sections + [s.hybrid.xref_data for s in sections if s.hybrid is not None]
    generations: dict[int, set[int]] = {}
    for part in parts:
        for number, (generation, _) in part.standard_xrefs.items():
            generations.setdefault(number, set()).add(generation)
        for number in part.xrefs_in_objstm:
            generations.setdefault(number, set()).add(0)
    several = {n for n, gens in generations.items() if len(gens) > 1}
    freed: set[int] = set()
    out = []
    for section in sections:
        for part in (section, section.hybrid.xref_data if section.hybrid is not None else None):
            if part is not None:
                freed -= set(part.standard_xrefs) | set(part.xrefs_in_objstm)
                freed |= set(part.freed)
        out.append((freed & generations.keys()) | several)
    return out


def dangling_references(
    reader: Any, revision: int, ambiguous: set[int], budget: int = 2_000_000
) -> list[str]:
    """References reachable from ``revision``'s catalog to an object that revision does not define,
    among the ``ambiguous`` numbers (see :func:`freed_but_defined`); walks nothing when there are none, at
    most ``budget`` objects otherwise."""
    found: list[str] = []
    if ambiguous:
        _walk_for_freed(reader, revision, ambiguous, found, budget)
    return found


def _defined_at(reader: Any, revision: int, number: int, generation: int) -> bool:
    xrefs = reader.xrefs
    entries = (_entry(xrefs.get_xref_data(r), number, generation) for r in range(revision, -1, -1))
    return bool(next((entry for entry in entries if entry is not None), False))


def _walk_for_freed(reader: Any, revision: int, ambiguous: set[int], found: list[str], budget: int) -> int:
    resolver = reader.get_historical_resolver(revision)
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Any, int | None]] = [(resolver.trailer_view.raw_get("/Root"), None)]
    while stack and budget > 0:
        value, holder = stack.pop()
        if isinstance(value, generic.IndirectObject):
            key = _key(value)
            if key in seen:
                continue
            seen.add(key)
            budget -= 1
            if key[0] in ambiguous and not _defined_at(reader, revision, *key):
                where = f"object {holder}" if holder is not None else "the trailer"
                found.append(
                    f"revision {revision + 1}: {where} refers to object {key[0]} {key[1]}, which that"
                    " revision does not define although the file holds a definition of that number"
                    " (viewers disagree on what it is)"
                )
                continue
            try:
                value = resolver.get_object(generic.Reference(*key, pdf=resolver))
            except Exception:  # noqa: BLE001, S112 - unreadable here: the diff and the xref audit judge it
                continue
            holder = key[0]
        if isinstance(value, generic.DictionaryObject):
            stack.extend((value.raw_get(k), holder) for k in value)
        elif isinstance(value, generic.ArrayObject):
            stack.extend((_raw_item(value, i, item), holder) for i, item in enumerate(value))
    return budget


def _entry(section: Any, number: int, generation: int) -> bool | None:
    """Whether one xref section defines (number, generation): None when it has no entry for the number."""
    if number in section.xrefs_in_objstm:
        return generation == 0
    if number in section.standard_xrefs:
        return bool(section.standard_xrefs[number][0] == generation)
    if number in section.freed:
        # a hybrid-reference file lists its stream's objects free in the table (PDF 7.5.8.4)
        hybrid = _entry(section.hybrid.xref_data, number, generation) if section.hybrid is not None else None
        return bool(hybrid)
    return _entry(section.hybrid.xref_data, number, generation) if section.hybrid is not None else None


def _stream_bytes(stream: Any) -> bytes:
    return bytes(stream.encoded_data)


def _raw_item(array: Any, index: int, fallback: Any) -> Any:
    try:
        return array.raw_get(index)
    except Exception:  # noqa: BLE001 - an odd array element: compare what iteration gave
        return fallback


def _scalar_equal(old: Any, new: Any) -> bool:
    if isinstance(old, _TEXT) and isinstance(new, _TEXT):
        return bytes(old.original_bytes) == bytes(new.original_bytes)
    if isinstance(old, bool | generic.BooleanObject) or isinstance(new, bool | generic.BooleanObject):
        return type(old) is type(new) and bool(old) == bool(new)
    if isinstance(old, generic.NameObject) or isinstance(new, generic.NameObject):
        return isinstance(old, generic.NameObject) and isinstance(new, generic.NameObject) and old == new
    if isinstance(old, int | generic.FloatObject) and isinstance(new, int | generic.FloatObject):
        return old == new
    if isinstance(old, generic.NullObject) and isinstance(new, generic.NullObject):
        return True
    return type(old) is type(new) and old == new


def _show(value: Any) -> str:
    if isinstance(value, generic.DictionaryObject):
        return "a dictionary"
    if isinstance(value, generic.ArrayObject):
        return "an array"
    if isinstance(value, generic.NullObject):
        return "nothing"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def rect_of(value: Any) -> tuple[float, float, float, float] | None:
    """A /Rect as (x1, y1, x2, y2) normalised, or None unless it is exactly four finite numbers."""
    if not isinstance(value, generic.ArrayObject) or len(value) != 4:
        return None
    numbers = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | generic.FloatObject):
            return None
        number = float(item)
        if not math.isfinite(number) or abs(number) > 1e6:
            return None
        numbers.append(number)
    x1, y1, x2, y2 = numbers
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def show_rect(rect: tuple[float, float, float, float]) -> str:
    return "[" + " ".join(f"{v:g}" for v in rect) + "]"


def has_area(rect: tuple[float, float, float, float]) -> bool:
    return rect[2] - rect[0] > 0 and rect[3] - rect[1] > 0
