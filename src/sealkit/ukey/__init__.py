"""Keys wherever they live: PKCS#11 UKeys (vendor SM2 profiles) and the software key store, one interface.

Open any key with :func:`open_key` (``file:``, ``keystore:`` or RFC 7512 ``pkcs11:`` references); every key
is a :class:`PrivateKeyHandle`. PINs and passwords come from :class:`PinSource` objects, never from argv.
"""

from sealkit.ukey.base import DEFAULT_SM2_UID, KeyInfo, KeyKind, PrivateKeyHandle, SignOptions
from sealkit.ukey.keyref import FileRef, KeystoreRef, Pkcs11Ref, parse_keyref
from sealkit.ukey.keystore import KEY_TYPES, KeyStore
from sealkit.ukey.opener import keystore, open_key
from sealkit.ukey.p11admin import generate_token_key, import_token_cert, list_token_keys, list_tokens
from sealkit.ukey.p11module import close_all_sessions
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
from sealkit.ukey.selftest import self_test
from sealkit.ukey.software import SoftwareKey, load_certificates, load_key_file

__all__ = [
    "DEFAULT_SM2_UID",
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
