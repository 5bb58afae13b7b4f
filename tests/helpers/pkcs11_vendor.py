"""Vendor SM2 codes in python-pkcs11's enums, for the tests of the test token.

The registration itself is sealkit's (:mod:`sealkit.ukey.vendor_enums`: one place for the enum trick); the
test token's tests use the same functions under their historical names.
"""

from sealkit.ukey.vendor_enums import key_type, mechanism, register

__all__ = ["key_type", "mechanism", "register"]
