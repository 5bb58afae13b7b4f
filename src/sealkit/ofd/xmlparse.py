"""Hardened XML for OFD parts: parse without entities, DTDs, network or huge trees; look elements up by name.

OFD parts never carry a DOCTYPE, so one is refused outright (that ends entity expansion — billion laughs,
external entities — before it starts). The lxml parser is configured the safe way as well:
``resolve_entities=False``, ``no_network=True``, ``load_dtd=False``, ``huge_tree=False`` (libxml2's own limits
on depth — 256 levels — and text size stay on). Every failure is a one-line :class:`~sealkit.errors.OfdError`
naming the part.

Readers find OFD elements by local name whatever the prefix (``ofd:`` is usual, but not required), as ofdrw
does; writers use the ``ofd`` prefix on the GB/T 33190 namespace.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from sealkit.errors import OfdError

NS = "http://www.ofdspec.org/2016"
NSMAP = {"ofd": NS}
#: The largest XML part parsed (bytes); page contents of real documents stay far below.
MAX_XML_BYTES = 64 * 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse_xml(data: bytes, what: str) -> etree._Element:
    """The root element of the XML part ``what``; refuses DOCTYPEs, entities and anything malformed."""
    if len(data) > MAX_XML_BYTES:
        raise OfdError(f"refusing {what}: {len(data)} bytes of XML is over the limit")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise OfdError(f"refusing {what}: it declares a DOCTYPE or entities (OFD parts never do)")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise OfdError(f"refusing {what}: not well-formed XML ({' '.join(str(exc).split())[:160]})") from None
    except ValueError as exc:
        raise OfdError(f"refusing {what}: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise OfdError(f"refusing {what}: it declares a DOCTYPE (OFD parts never do)")
    return root


def local(element: etree._Element) -> str:
    """The local name of ``element`` (no namespace); "" for comments and processing instructions."""
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    """The child elements called ``name``, in document order."""
    return (c for c in element.iterchildren() if local(c) == name)


def child(element: etree._Element, name: str) -> etree._Element | None:
    """The first child element called ``name``, or None."""
    return next(children(element, name), None)


def text(element: etree._Element, name: str) -> str | None:
    """The stripped text of the first child ``name``, or None."""
    found = child(element, name)
    return (found.text or "").strip() if found is not None else None


def required(element: etree._Element, name: str, what: str) -> etree._Element:
    """The first child ``name``; :class:`OfdError` naming ``what`` when it is missing."""
    found = child(element, name)
    if found is None:
        raise OfdError(f"{what} has no <{name}>")
    return found


def make(name: str, attrib: dict[str, str] | None = None, text_value: str | None = None) -> etree._Element:
    """A new ``ofd:`` element (the root of a part: it declares the namespace)."""
    element = etree.Element(etree.QName(NS, name), attrib or {}, nsmap=NSMAP)
    if text_value is not None:
        element.text = text_value
    return element


def sub(
    parent: etree._Element, name: str, attrib: dict[str, str] | None = None, text_value: str | None = None
) -> etree._Element:
    """A new ``ofd:`` child of ``parent``."""
    element = etree.SubElement(parent, etree.QName(NS, name), attrib or {})
    if text_value is not None:
        element.text = text_value
    return element


def serialise(root: etree._Element) -> bytes:
    """A part as bytes: UTF-8 with an XML declaration, as ofdrw writes them."""
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + bytes(etree.tostring(root, encoding="UTF-8"))
