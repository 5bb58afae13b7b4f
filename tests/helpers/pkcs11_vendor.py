"""Minimal registration of vendor SM2 codes in python-pkcs11's enums, for the tests of the test token.

python-pkcs11 0.10 only accepts members of its ``KeyType``/``Mechanism`` enums (``sign``, ``decrypt``,
``generate_keypair``) and reading ``CKA_KEY_TYPE`` runs ``KeyType(value)``. A vendor value becomes a member
the way ``enum`` makes one: ``int.__new__`` plus ``_name_``/``_value_``, entered in ``_value2member_map_``.
An existing member with the same value is reused, so this coexists with sealkit's own registration
(``sealkit.ukey``), whichever runs first.
"""

from __future__ import annotations

import threading
from enum import IntEnum
from typing import TypeVar

from pkcs11 import KeyType, Mechanism

E = TypeVar("E", bound=IntEnum)

_lock = threading.Lock()


def register(enum_cls: type[E], value: int, name: str) -> E:
    """The member of ``enum_cls`` with ``value``, created as ``name`` when there is none."""
    with _lock:
        existing = enum_cls._value2member_map_.get(value)
        if existing is not None:
            return existing  # type: ignore[return-value]
        member = int.__new__(enum_cls, value)
        member._name_ = name
        member._value_ = value
        enum_cls._value2member_map_[value] = member
        enum_cls._member_map_.setdefault(name, member)
        return member


def key_type(value: int, name: str) -> KeyType:
    return register(KeyType, value, name)


def mechanism(value: int, name: str) -> Mechanism:
    return register(Mechanism, value, name)
