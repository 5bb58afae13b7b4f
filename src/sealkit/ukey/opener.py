""":func:`open_key`: turn a key reference into a :class:`~sealkit.ukey.base.PrivateKeyHandle`."""

from __future__ import annotations

from sealkit.config import Config
from sealkit.ukey.base import PrivateKeyHandle
from sealkit.ukey.keyref import FileRef, KeystoreRef, parse_keyref
from sealkit.ukey.keystore import KeyStore
from sealkit.ukey.pins import PinSource, pin_chain
from sealkit.ukey.software import load_key_file


def open_key(
    keyref: str, *, config: Config | None = None, pin_source: PinSource | None = None
) -> PrivateKeyHandle:
    """Open the key ``keyref`` (``file:``, ``keystore:`` or ``pkcs11:``).

    PINs and passwords come, in order, from the reference's ``pin-source``, a non-interactive
    ``pin_source``, ``SEALKIT_PIN``, then an interactive ``pin_source`` (see :mod:`sealkit.ukey.pins`).
    Without ``config`` no configuration file is read (``Config()``: defaults and the environment).
    """
    config = config or Config()
    ref = parse_keyref(keyref)
    pins = pin_chain(ref.pin_source, pin_source, config.env)
    if isinstance(ref, FileRef):
        return load_key_file(ref.path, pins=pins, cert=ref.cert, chain=ref.chain)
    if isinstance(ref, KeystoreRef):
        return keystore(config).open(ref.name, pins)
    from sealkit.ukey.pkcs11 import open_pkcs11_key

    return open_pkcs11_key(ref, config=config, pins=pins)


def keystore(config: Config | None = None) -> KeyStore:
    """The key store of ``config`` (``$SEALKIT_HOME/keys``)."""
    config = config or Config()
    return KeyStore(config.home / "keys")
