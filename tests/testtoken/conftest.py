"""Fixtures for the tests of the SM2 test token itself."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import pkcs11
import pytest
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag

from tests.helpers import pkcs11_vendor
from tests.helpers import testtoken as _tt
from tests.helpers.testtoken import DEFAULT_USER_PIN, TestTokenDir

from .sm2util import point_from_ec_point

# the helper's fixtures, made visible to the tests in this directory
testtoken_module = _tt.testtoken_module
make_testtoken = _tt.make_testtoken
open_testtoken = _tt.open_testtoken

SIGN_DECRYPT = MechanismFlag.SIGN | MechanismFlag.VERIFY | MechanismFlag.DECRYPT | MechanismFlag.ENCRYPT


@dataclass
class Vendor:
    """python-pkcs11 enum members for the codes of a token's preset (0 -> None)."""

    key_type: KeyType
    keygen: Mechanism
    sign_with_z: Mechanism
    sign_digest: Mechanism
    decrypt: Mechanism | None
    sm3: Mechanism | None


def vendor_of(tok: TestTokenDir) -> Vendor:
    c = tok.preset

    def mech(value: int, name: str) -> Mechanism | None:
        return pkcs11_vendor.mechanism(value, f"TT_{name}_{value:08X}") if value else None

    return Vendor(
        key_type=pkcs11_vendor.key_type(c.key_type, f"TT_SM2_{c.key_type:08X}"),
        keygen=mech(c.keygen_mech, "SM2_KEYGEN"),  # type: ignore[arg-type]
        sign_with_z=mech(c.sign_mech_with_z, "SM3_SM2"),  # type: ignore[arg-type]
        sign_digest=mech(c.sign_mech_digest, "SM2_SIGN"),  # type: ignore[arg-type]
        decrypt=mech(c.decrypt_mech, "SM2_DECRYPT"),
        sm3=mech(c.sm3_mech, "SM3"),
    )


def generate(session: pkcs11.Session, v: Vendor, label: str = "sign", key_id: bytes = b"\x01", store=True):
    """An SM2 key pair on the token; returns (public, private, 65-byte point)."""
    pub, priv = session.generate_keypair(
        v.key_type, mechanism=v.keygen, store=store, label=label, id=key_id, capabilities=SIGN_DECRYPT
    )
    return pub, priv, point_from_ec_point(pub[Attribute.EC_POINT])


@pytest.fixture
def token_session(make_testtoken, open_testtoken):
    """Factory: ``token_session(preset=..., **conf) -> (TestTokenDir, Vendor, logged-in RW session)``."""
    sessions = []

    def make(**conf):
        tok = make_testtoken(**conf)
        lib = open_testtoken(tok)
        session = lib.get_token(token_label=tok.label).open(rw=True, user_pin=DEFAULT_USER_PIN)
        sessions.append(session)
        return tok, vendor_of(tok), session

    yield make
    for s in sessions:
        with contextlib.suppress(pkcs11.PKCS11Error):  # some tests pull the token out
            s.close()
