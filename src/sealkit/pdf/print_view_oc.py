"""Is optional content shown on screen and printed alike? (ISO 32000-1 8.11; used by :mod:`.print_view`).

An optional content group (OCG) is ON or OFF per the default configuration ``/OCProperties /D`` (/BaseState,
/ON, /OFF). Its usage dictionary (8.11.4.4) may recommend another state per purpose — ``/Usage /View
/ViewState``, ``/Print /PrintState`` — and the configuration's usage application dictionaries (``/D
/AS``: ``/Event /View`` or ``/Print``, ``/OCGs``, ``/Category``) tell a viewer to apply them when it
displays or prints.
A membership dictionary (/OCMD) is visible by a policy (/P AllOn, AnyOn, AnyOff, AllOff) over its /OCGs, or by
a visibility expression (/VE: /And, /Or, /Not over groups).

Viewers do not agree on these rules, so each group is evaluated as three of them would, for the screen and
for printing:

- ``spec``: the default configuration, then the /AS entries of the event (View or Print) for the categories
  they name; /Zoom, /User and /Language recommendations depend on the reader's zoom, name or language and
  count as "either";
- ``poppler``: the default configuration only (it applies no usage);
- ``pdfium``: the group's own ``/Usage /Print /PrintState`` (printing) or ``/Usage /View /ViewState``
  decides even without an /AS entry, else the configuration and the /AS entries of the event.

:class:`OptionalContent` answers, for an /OC value, the set of visibilities each viewer may give it on
screen and in print; content differs when one viewer's two sets are not the same single value.
"""

from __future__ import annotations

from typing import Any

from pyhanko.pdf_utils import generic


def get_resolved(container: Any, key: str, default: Any = None) -> Any:
    """``container[key]`` resolved (pyHanko's ``.get`` returns references and undecrypted strings)."""
    if not isinstance(container, generic.DictionaryObject) or key not in container:
        return default
    try:
        return container[key]
    except Exception:  # noqa: BLE001 - a broken entry reads as absent
        return default


#: The viewers whose reading is modelled (see the module docstring).
VIEWERS = ("spec", "poppler", "pdfium")
MODES = ("View", "Print")
_EITHER = frozenset({True, False})
_MAX_DEPTH = 16  # nesting of /VE expressions
_VARIABLE = {"/Zoom", "/User", "/Language"}


def _key(value: Any) -> Any:
    if isinstance(value, generic.IndirectObject):
        return (int(value.idnum), int(value.generation))
    return id(value)


def _name(value: Any) -> str:
    return str(value) if isinstance(value, generic.NameObject) else ""


class OptionalContent:
    """The optional content rules of one revision's catalog (``/OCProperties``)."""

    def __init__(self, catalog: Any) -> None:
        properties = get_resolved(catalog, "/OCProperties") if catalog is not None else None
        self.present = isinstance(properties, generic.DictionaryObject)
        config = get_resolved(properties, "/D") if isinstance(properties, generic.DictionaryObject) else None
        self.config = config if isinstance(config, generic.DictionaryObject) else generic.DictionaryObject()
        #: PDFium starts from the first alternate configuration meant for viewing (/Configs with /Intent
        #: /View or /All), not from /D as poppler does
        self.pdfium_config = self.config
        configs = get_resolved(properties, "/Configs") if self.present else None
        for entry in configs if isinstance(configs, generic.ArrayObject) else []:
            entry = entry.get_object() if isinstance(entry, generic.IndirectObject) else entry
            intent = get_resolved(entry, "/Intent") if isinstance(entry, generic.DictionaryObject) else None
            names = [_name(i) for i in intent] if isinstance(intent, generic.ArrayObject) else [_name(intent)]
            if isinstance(entry, generic.DictionaryObject) and {"/View", "/All"} & set(names):
                self.pdfium_config = entry
                break
        self._states: dict[Any, dict[tuple[str, str], frozenset[bool]]] = {}

    def _listed(self, key: str, group_key: Any, config: Any) -> bool:
        array = get_resolved(config, key)
        if not isinstance(array, generic.ArrayObject):
            return False
        return any(_key(array.raw_get(i)) == group_key for i in range(len(array)))

    def _base(self, group_key: Any, config: Any = None) -> bool:
        """The group's state in ``config`` (default /D)."""
        config = self.config if config is None else config
        state = _name(get_resolved(config, "/BaseState")) != "/OFF"
        if self._listed("/ON", group_key, config):
            state = True
        if self._listed("/OFF", group_key, config):
            state = False
        return state

    def _usage_state(self, group: Any, category: str) -> frozenset[bool] | None:
        """What the group's usage dictionary recommends for ``category`` (None: nothing)."""
        usage = get_resolved(group, "/Usage")
        entry = get_resolved(usage, category) if isinstance(usage, generic.DictionaryObject) else None
        if not isinstance(entry, generic.DictionaryObject):
            return None
        if category in _VARIABLE:
            return _EITHER
        value = get_resolved(entry, category + "State")
        return None if value is None else frozenset({_name(value) != "/OFF"})

    def _applications(self, mode: str, group_key: Any) -> list[list[str]]:
        """The categories of every /AS entry of event ``mode`` that lists the group."""
        entries = get_resolved(self.config, "/AS")
        found: list[list[str]] = []
        if not isinstance(entries, generic.ArrayObject):
            return found
        for entry in entries:
            entry = entry.get_object() if isinstance(entry, generic.IndirectObject) else entry
            if not isinstance(entry, generic.DictionaryObject):
                continue
            event = _name(get_resolved(entry, "/Event")) or "/View"
            groups = get_resolved(entry, "/OCGs")
            if event != "/" + mode or not isinstance(groups, generic.ArrayObject):
                continue
            if any(_key(groups.raw_get(i)) == group_key for i in range(len(groups))):
                categories = get_resolved(entry, "/Category")
                names = [_name(c) for c in categories] if isinstance(categories, generic.ArrayObject) else []
                found.append(names)
        return found

    def _spec(self, group: Any, group_key: Any, mode: str) -> frozenset[bool]:
        """The /AS entries of the event set the state their categories recommend (OFF if any says OFF)."""
        state: frozenset[bool] | None = None
        for categories in self._applications(mode, group_key):
            for category in categories:
                recommended = self._usage_state(group, category)
                if recommended is not None:
                    state = (
                        recommended
                        if state is None
                        else frozenset(a and b for a in state for b in recommended)
                    )
        return frozenset({self._base(group_key)}) if state is None else state

    def _pdfium(self, group: Any, group_key: Any, mode: str) -> frozenset[bool]:
        own = self._usage_state(group, "/" + mode)
        if own is not None:
            return own
        if mode != "View":
            view = self._usage_state(group, "/View")
            if view is not None:
                return view
        # the /AS entries could only apply the usage states already read above
        return frozenset({self._base(group_key, self.pdfium_config)})

    def group_states(self, ref: Any) -> dict[tuple[str, str], frozenset[bool]]:
        """(viewer, mode) -> the visibilities an OCG may have."""
        group_key = _key(ref)
        if group_key not in self._states:
            group = ref.get_object() if isinstance(ref, generic.IndirectObject) else ref
            states: dict[tuple[str, str], frozenset[bool]] = {}
            for mode in MODES:
                base = frozenset({self._base(group_key)})
                states[("poppler", mode)] = base
                states[("spec", mode)] = self._spec(group, group_key, mode)
                states[("pdfium", mode)] = self._pdfium(group, group_key, mode)
            self._states[group_key] = states
        return self._states[group_key]

    def visibility(self, oc: Any) -> dict[tuple[str, str], frozenset[bool]]:
        """(viewer, mode) -> the visibilities of content marked with the /OC value ``oc`` (an OCG or OCMD)."""
        everywhere = {(v, m): frozenset({True}) for v in VIEWERS for m in MODES}
        if not self.present or oc is None:
            return everywhere
        obj = oc.get_object() if isinstance(oc, generic.IndirectObject) else oc
        if not isinstance(obj, generic.DictionaryObject):
            return everywhere
        if _name(get_resolved(obj, "/Type")) != "/OCMD":
            return self.group_states(oc)
        return {(v, m): self._membership(obj, v, m) for v in VIEWERS for m in MODES}

    def _membership(self, ocmd: Any, viewer: str, mode: str) -> frozenset[bool]:
        expression = get_resolved(ocmd, "/VE")
        if isinstance(expression, generic.ArrayObject):
            return self._expression(expression, viewer, mode, 0)
        groups = ocmd.raw_get("/OCGs") if "/OCGs" in ocmd else None
        if isinstance(groups, generic.IndirectObject):
            groups = groups.get_object()
        if isinstance(groups, generic.ArrayObject):
            refs = [groups.raw_get(i) for i in range(len(groups))]
        elif isinstance(groups, generic.DictionaryObject) or groups is not None:
            refs = [groups]
        else:
            return frozenset({True})
        states = [self._state(r, viewer, mode) for r in refs]
        policy = _name(get_resolved(ocmd, "/P")) or "/AnyOn"
        if any(len(s) > 1 for s in states):
            return _EITHER
        values = [next(iter(s)) for s in states]
        if not values:
            return frozenset({True})
        result = {
            "/AllOn": all(values),
            "/AnyOff": not all(values),
            "/AllOff": not any(values),
        }.get(policy, any(values))
        return frozenset({result})

    def _state(self, ref: Any, viewer: str, mode: str) -> frozenset[bool]:
        obj = ref.get_object() if isinstance(ref, generic.IndirectObject) else ref
        if not isinstance(obj, generic.DictionaryObject):
            return frozenset({True})  # a null member is ignored
        return self.group_states(ref)[(viewer, mode)]

    def _expression(self, expression: Any, viewer: str, mode: str, depth: int) -> frozenset[bool]:
        if depth > _MAX_DEPTH or len(expression) < 2:
            return _EITHER
        operator = _name(expression[0])
        operands = []
        for i in range(1, len(expression)):
            item = expression.raw_get(i)
            inner = item.get_object() if isinstance(item, generic.IndirectObject) else item
            if isinstance(inner, generic.ArrayObject):
                operands.append(self._expression(inner, viewer, mode, depth + 1))
            else:
                operands.append(self._state(item, viewer, mode))
        if any(len(s) > 1 for s in operands):
            return _EITHER
        values = [next(iter(s)) for s in operands]
        if operator == "/Not":
            return frozenset({not values[0]})
        if operator == "/And":
            return frozenset({all(values)})
        if operator == "/Or":
            return frozenset({any(values)})
        return _EITHER
