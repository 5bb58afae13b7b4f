"""The OAEP decoder behind raw-RSA token decryption, against blocks ``cryptography`` encrypts: every digest,
and every way a block can be wrong is the same DamagedEnvelope."""

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sealkit.errors import DamagedEnvelope, UnsupportedAlgorithm
from sealkit.ukey._oaep import oaep_decode

KEY = rsa.generate_private_key(65537, 2048)
N = KEY.public_key().public_numbers().n
D = KEY.private_numbers().d
K = 256
HASHES = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


def raw_block(message: bytes, digest: str) -> bytes:
    """What a token's CKM_RSA_X_509 returns for the OAEP ciphertext of ``message``."""
    algorithm = HASHES[digest]()
    ciphertext = KEY.public_key().encrypt(message, padding.OAEP(padding.MGF1(algorithm), algorithm, None))
    return pow(int.from_bytes(ciphertext, "big"), D, N).to_bytes(K, "big")


@pytest.mark.parametrize("digest", sorted(HASHES))
@pytest.mark.parametrize("message", [b"", b"\x00", b"\x01\x01", b"k" * 32])
def test_decodes_what_cryptography_encrypts(digest, message):
    assert oaep_decode(raw_block(message, digest), K, digest) == message


def test_a_dropped_leading_zero_byte_is_restored():
    block = raw_block(b"content key 16B!", "sha256")
    assert block[0] == 0
    assert oaep_decode(block[1:], K, "sha256") == b"content key 16B!"


def test_every_corruption_is_one_error():
    block = raw_block(b"content key 16B!", "sha256")
    bad = [
        b"\x01" + block[1:],  # Y != 0
        block[:5] + bytes([block[5] ^ 1]) + block[6:],  # masked seed
        block[:-1] + bytes([block[-1] ^ 1]),  # masked DB
        block + b"\x00",  # longer than the modulus
    ]
    messages = set()
    for candidate in bad:
        with pytest.raises(DamagedEnvelope) as caught:
            oaep_decode(candidate, K, "sha256")
        messages.add(str(caught.value))
    with pytest.raises(DamagedEnvelope) as caught:
        oaep_decode(block, K, "sha256", label=b"other label")
    messages.add(str(caught.value))
    with pytest.raises(DamagedEnvelope) as caught:
        oaep_decode(block, K, "sha1")  # another digest
    messages.add(str(caught.value))
    assert messages == {"RSA decryption failed"}
    with pytest.raises(UnsupportedAlgorithm):
        oaep_decode(block, K, "md5")


@pytest.mark.parametrize(("digest", "mgf"), [("sha256", "sha1"), ("sha512", "sha256"), ("sha1", "sha384")])
def test_decodes_a_different_mgf1_hash(digest, mgf):
    """OAEP with MGF1 over another hash (Java's OAEPWithSHA-256AndMGF1Padding: SHA-256, MGF1-SHA-1)."""
    pad = padding.OAEP(padding.MGF1(HASHES[mgf]()), HASHES[digest](), None)
    ciphertext = KEY.public_key().encrypt(b"content key 16B!", pad)
    block = pow(int.from_bytes(ciphertext, "big"), D, N).to_bytes(K, "big")
    assert oaep_decode(block, K, digest, mgf_hash=mgf) == b"content key 16B!"
    with pytest.raises(DamagedEnvelope):
        oaep_decode(block, K, digest)  # the same block read with MGF1-<digest>
