"""A workaround for asn1crypto taking some definite lengths for indefinite ones (asn1crypto #249).

**The upstream bug.** asn1crypto 1.5.1 treats a value it has already encoded (or parsed) as BER with an
*indefinite* length when the last byte of its cached header is ``0x80`` (``if self._header[-1:] == b'\\x80':
force = True``, five times in ``asn1crypto/core.py``). An indefinite length is the single length octet
``0x80``, but a definite long-form length ends with ``0x80`` too whenever the length is 128 more than a
multiple of 256: ``81 80`` (128), ``82 01 80`` (384), ``82 07 80`` (1920)... Such a value is dumped with
``force=True``: its whole subtree is re-encoded, and every child still held as bytes is parsed. asn1crypto
issue #249 (open) and pull request #302 describe the check; no release fixes it.

**Why SM2 B-T signing took 5-18 s.** pyHanko's ``_package_signature`` builds a SignerInfo around the signed
attributes, the signature and the unsigned attribute holding the RFC 3161 token; asn1crypto re-reads the
contents of every freshly built level, twice per level (``Asn1Value.dump`` asks for them once for the value
and once for the header). When one of those headers ends in ``0x80``, the forced dump parses the token's
signed attributes, and parsing fills in the omitted DEFAULT ``hashAlgorithm`` (sha256) of its ESSCertIDv2 as
a newly constructed value, which asn1crypto marks as changed (cf. asn1crypto #256). From then on every
ancestor re-encodes the whole token each time its contents are read, doubling at each of the ~17 levels down
to that AlgorithmIdentifier: about 10^6 encodings instead of about 10^3. The trigger depends only on lengths,
hence the randomness: SM2 signatures (the signer's and the TSA's) are 70-72 bytes of DER, which moves the
SignerInfo length over a few bytes from one signature to the next; RSA signatures have a fixed length, so an
RSA PKI hits the trigger always or never.

A mistaken forced dump is a correctness hazard as well: it normalises to DER whatever it reaches, so a
token, certificate or SESeal received in non-DER form (an unsorted SET OF, say) would change bytes that a
signature covers.

**The workaround.** :func:`install` (run by ``import sealkit``) wraps the five affected ``dump`` methods: when
a cached header ends in ``0x80`` but every length in it is definite, the header is dropped before asn1crypto's
check and rebuilt from the cached contents, as for a value never dumped before (same bytes for DER). Genuine
indefinite lengths are still re-encoded as upstream intends. Remove this module once asn1crypto ships a fixed
check.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from asn1crypto import core

#: The classes whose own ``dump`` holds the faulty ``_header[-1:] == b'\x80'`` check in asn1crypto 1.5.1.
_PATCHED_CLASSES = (core.Asn1Value, core.Choice, core.Primitive, core.Sequence, core.SequenceOf)
_MARK = "__sealkit_definite_length_fix__"


def lengths_are_definite(header: bytes) -> bool:
    """Whether every length in ``header`` (identifier and length octets, explicit tags first) is definite.

    False for an indefinite length (the single length octet ``0x80``) and for anything that does not parse
    as a sequence of complete headers, so that asn1crypto's own handling applies to it unchanged.
    """
    index, size = 0, len(header)
    if size == 0:
        return False
    while index < size:
        if header[index] & 0x1F == 0x1F:  # high-tag-number form: more identifier octets follow
            index += 1
            while index < size and header[index] & 0x80:
                index += 1
        index += 1
        if index >= size:
            return False
        first = header[index]
        index += 1
        if first == 0x80:
            return False
        if first > 0x80:
            index += first & 0x7F
    return index == size


def _guarded(dump: Callable[..., bytes]) -> Callable[..., bytes]:
    @functools.wraps(dump)
    def guarded_dump(self: Any, force: bool = False) -> bytes:
        header = self._header
        if header is not None and header[-1:] == b"\x80" and lengths_are_definite(header):
            self._header = None  # rebuilt by dump() from the cached contents: same bytes for DER
        return dump(self, force)

    setattr(guarded_dump, _MARK, True)
    return guarded_dump


def install() -> None:
    """Patch asn1crypto once (idempotent); see the module docstring."""
    for cls in _PATCHED_CLASSES:
        dump = cls.__dict__["dump"]
        if not getattr(dump, _MARK, False):
            cls.dump = _guarded(dump)  # type: ignore[method-assign]


def installed() -> bool:
    """Whether :func:`install` has patched every affected class."""
    return all(getattr(cls.__dict__["dump"], _MARK, False) for cls in _PATCHED_CLASSES)
