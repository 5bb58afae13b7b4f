"""Keys wherever they live: PKCS#11 UKeys (vendor SM2 profiles) and the software key store, one interface.

Open any key with :func:`open_key` (``file:``, ``keystore:`` or RFC 7512 ``pkcs11:`` references); every key
is a :class:`PrivateKeyHandle`. PINs and passwords come from :class:`PinSource` objects, never from argv.

python-pkcs11 (and sealkit's PKCS#11 layer) is imported only when a ``pkcs11:`` reference is opened or a
token function (``list_tokens``, ``generate_token_key``…) is first used: file and key-store users never load
it.
"""

import sys
from typing import TYPE_CHECKING

from sealkit.certs import load_certificates
from sealkit.lazy import lazy_exports
from sealkit.ukey.base import DEFAULT_SM2_UID, KeyInfo, KeyKind, PrivateKeyHandle, SignOptions
from sealkit.ukey.keyref import FileRef, KeystoreRef, Pkcs11Ref, parse_keyref
from sealkit.ukey.keystore import KEY_TYPES, KeyStore
from sealkit.ukey.opener import keystore, open_key
from sealkit.ukey.pins import (
    PIN_ENV,
    CallbackPinSource,
    ChainedPinSource,
    EnvPinSource,
    FilePinSource,
    FixedPin,
    PinSource,
    pin_chain,
)
from sealkit.ukey.requests import USCC_ATTRIBUTES, certificate_request, request_subject
from sealkit.ukey.selftest import self_test
from sealkit.ukey.software import SoftwareKey, load_key_file

if TYPE_CHECKING:  # imported on first use (python-pkcs11 behind them)
    from sealkit.ukey.p11admin import generate_token_key, import_token_cert, list_token_keys, list_tokens

_EXPORTS = {
    "generate_token_key": "p11admin",
    "import_token_cert": "p11admin",
    "list_token_keys": "p11admin",
    "list_tokens": "p11admin",
}
__getattr__, _lazy_dir = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_lazy_dir()))


def close_all_sessions() -> None:
    """Log out of and close every shared token session (the next operation logs in again). Nothing to do,
    and nothing imported, when no PKCS#11 module was ever used."""
    p11module = sys.modules.get("sealkit.ukey.p11module")
    if p11module is not None:
        p11module.close_all_sessions()


__all__ = [
    "DEFAULT_SM2_UID",
    "USCC_ATTRIBUTES",
    "certificate_request",
    "request_subject",
    "KEY_TYPES",
    "PIN_ENV",
    "CallbackPinSource",
    "ChainedPinSource",
    "EnvPinSource",
    "FilePinSource",
    "FileRef",
    "FixedPin",
    "KeyInfo",
    "KeyKind",
    "KeyStore",
    "KeystoreRef",
    "Pkcs11Ref",
    "PinSource",
    "PrivateKeyHandle",
    "SignOptions",
    "SoftwareKey",
    "close_all_sessions",
    "generate_token_key",
    "import_token_cert",
    "keystore",
    "list_token_keys",
    "list_tokens",
    "load_certificates",
    "load_key_file",
    "open_key",
    "parse_keyref",
    "pin_chain",
    "self_test",
]
