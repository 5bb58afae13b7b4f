"""Teach python-pkcs11 the vendor-defined SM2 key types and mechanisms (the one place that does it).

python-pkcs11 0.10 only accepts members of its ``KeyType`` and ``Mechanism`` enums: ``sign``, ``decrypt`` and
``generate_keypair`` refuse plain integers, and reading ``CKA_KEY_TYPE`` runs ``KeyType(value)``, which raises
for a vendor value. :func:`register` adds a member to such an enum the way ``enum`` itself does (a new
``int`` subclass instance with ``_name_``/``_value_``, entered in ``_value2member_map_`` and
``_member_map_``). It is idempotent and thread-safe, and an existing member with the same value is reused,
so registering a code twice (two profiles sharing it) is harmless.
"""

from __future__ import annotations

import threading
from enum import IntEnum
from typing import TypeVar

from pkcs11 import KeyType, Mechanism

E = TypeVar("E", bound=IntEnum)

_lock = threading.Lock()


def register(enum_cls: type[E], value: int, name: str) -> E:
    """The member of ``enum_cls`` for ``value``, creating ``name`` if the enum has no such value."""
    with _lock:
        existing = enum_cls._value2member_map_.get(value)
        if existing is not None:
            return existing  # type: ignore[return-value]
        member = int.__new__(enum_cls, value)
        member._name_ = name
        member._value_ = value
        member.__objclass__ = enum_cls  # type: ignore[attr-defined]
        enum_cls._value2member_map_[value] = member
        if name not in enum_cls._member_map_:
            enum_cls._member_map_[name] = member
        return member


def key_type(value: int, name: str) -> KeyType:
    """A (possibly vendor-defined) ``CKK_*`` as a :class:`pkcs11.KeyType`."""
    return register(KeyType, value, name)


def mechanism(value: int, name: str) -> Mechanism:
    """A (possibly vendor-defined) ``CKM_*`` as a :class:`pkcs11.Mechanism`."""
    return register(Mechanism, value, name)


def mechanism_name(value: int) -> str:
    """The name of a mechanism code, including registered vendor ones, else its hex value."""
    member = Mechanism._value2member_map_.get(value)
    return member.name if member is not None and member.name else f"0x{value:08X}"
