"""gmssl (pure-Python SM2) as an independent oracle.

gmssl quirks handled here: it takes hex strings; ``CryptSM2.__init__`` does ``public_key.lstrip("04")`` when
the key starts with "04" (which also eats leading 0/4 hex digits of x), so we pass x||y without a prefix and
use keys whose x does not start with "04"; mode 1 is C1C3C2 and mode 0 is C1C2C3, both without the 04
prefix; ``sign``/``verify`` take e (= SM3(Z||M)) and r||s as 128 hex digits (or DER hex with asn1=True).
"""

from __future__ import annotations

import pytest

from sealkit import sm2
from sealkit.errors import InvalidSignature
from sealkit.sm2.encryption import CiphertextFormat

gmssl_sm2 = pytest.importorskip("gmssl.sm2")

MSG = b"procurement notice 2024-0042"


def _pair(backend: str) -> tuple[sm2.SM2PrivateKey, object]:
    while True:
        key = sm2.generate_private_key(backend=backend)
        pub_hex = key.public_key().encoded_point()[1:].hex()
        if not pub_hex.startswith("04"):
            break
    crypt = gmssl_sm2.CryptSM2(private_key=f"{key.private_value:064x}", public_key=pub_hex, mode=1)
    return key, crypt


def test_gmssl_verifies_ours(backend: str) -> None:
    key, crypt = _pair(backend)
    r, s = sm2.decode_signature(key.sign(MSG))
    assert crypt.verify_with_sm3(f"{r:064x}{s:064x}", MSG)
    assert not crypt.verify_with_sm3(f"{r:064x}{s:064x}", MSG + b"!")


def test_we_verify_gmssl(backend: str) -> None:
    key, crypt = _pair(backend)
    for _ in range(3):
        k_hex = f"{sm2.generate_private_key().private_value:064x}"
        raw = crypt.sign_with_sm3(MSG, k_hex)
        sig = sm2.encode_signature(int(raw[:64], 16), int(raw[64:], 16))
        key.public_key().verify(sig, MSG)
        with pytest.raises(InvalidSignature):
            key.public_key().verify(sig, MSG[:-1])


def test_gmssl_digest_agrees(backend: str) -> None:
    key, crypt = _pair(backend)
    assert bytes.fromhex(crypt._sm3_z(MSG)) == key.public_key().digest(MSG)


@pytest.mark.parametrize(
    "mode, fmt", [(1, CiphertextFormat.C1C3C2_NO_PREFIX), (0, CiphertextFormat.C1C2C3_NO_PREFIX)]
)
def test_encryption_both_ways(backend: str, mode: int, fmt: CiphertextFormat) -> None:
    key, crypt = _pair(backend)
    crypt.mode = mode
    for _ in range(3):
        ct = crypt.encrypt(MSG)
        assert key.decrypt(ct, fmt) == MSG
        assert crypt.decrypt(key.public_key().encrypt(MSG, fmt)) == MSG
