"""Interop with the openssl command (OpenSSL 3): signatures and encryption in both directions."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealkit import sm2
from sealkit.errors import InvalidSignature

from .conftest import needs_openssl_cli, openssl, openssl_ok

pytestmark = needs_openssl_cli

MSG = b"GB/T 38540 electronic seal test message\n" * 3
UID = "1234567812345678"


@pytest.fixture(scope="module")
def openssl_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, bytes]:
    d = tmp_path_factory.mktemp("ossl")
    key_pem = openssl("genpkey", "-algorithm", "SM2")
    (d / "key.pem").write_bytes(key_pem)
    (d / "pub.pem").write_bytes(openssl("pkey", "-pubout", input=key_pem))
    return d / "key.pem", d / "pub.pem", key_pem


def _sign_args(uid: str = UID) -> list[str]:
    return ["-rawin", "-digest", "sm3", "-pkeyopt", f"distid:{uid}"]


def test_openssl_signs_we_verify(openssl_key: tuple[Path, Path, bytes], backend: str, tmp_path: Path) -> None:
    key_path, pub_path, _ = openssl_key
    (tmp_path / "m").write_bytes(MSG)
    sig = openssl("pkeyutl", "-sign", "-inkey", str(key_path), "-in", str(tmp_path / "m"), *_sign_args())
    pub = sm2.load_pem_public_key(pub_path.read_bytes(), backend=backend)
    pub.verify(sig, MSG)
    with pytest.raises(InvalidSignature):
        pub.verify(sig, MSG + b"x")
    with pytest.raises(InvalidSignature):
        pub.verify(sig, MSG, uid=b"")  # OpenSSL's own default would be the empty ID


def test_openssl_signs_with_custom_uid(openssl_key: tuple[Path, Path, bytes], tmp_path: Path) -> None:
    key_path, pub_path, _ = openssl_key
    (tmp_path / "m").write_bytes(MSG)
    sig = openssl(
        "pkeyutl", "-sign", "-inkey", str(key_path), "-in", str(tmp_path / "m"), *_sign_args("alice")
    )
    sm2.load_pem_public_key(pub_path.read_bytes()).verify(sig, MSG, uid=b"alice")


def test_we_sign_openssl_verifies(
    openssl_key: tuple[Path, Path, bytes], backend: str, tmp_path: Path
) -> None:
    key_path, pub_path, key_pem = openssl_key
    key = sm2.load_pem_private_key(key_pem, backend=backend)
    (tmp_path / "m").write_bytes(MSG)
    for i in range(3):
        sig = key.sign(MSG)
        (tmp_path / f"s{i}").write_bytes(sig)
        args = ["pkeyutl", "-verify", "-pubin", "-inkey", str(pub_path), "-in", str(tmp_path / "m")]
        assert openssl_ok(*args, "-sigfile", str(tmp_path / f"s{i}"), *_sign_args())
        assert not openssl_ok(*args, "-sigfile", str(tmp_path / f"s{i}"), *_sign_args("other"))


def test_openssl_encrypts_we_decrypt(
    openssl_key: tuple[Path, Path, bytes], backend: str, tmp_path: Path
) -> None:
    key_path, pub_path, key_pem = openssl_key
    (tmp_path / "m").write_bytes(MSG)
    ct = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", str(pub_path), "-in", str(tmp_path / "m"))
    assert sm2.load_pem_private_key(key_pem, backend=backend).decrypt(ct) == MSG


def test_we_encrypt_openssl_decrypts(
    openssl_key: tuple[Path, Path, bytes], backend: str, tmp_path: Path
) -> None:
    key_path, pub_path, _ = openssl_key
    pub = sm2.load_pem_public_key(pub_path.read_bytes(), backend=backend)
    for i, msg in enumerate((MSG, b"x", bytes(range(256)) * 4)):
        (tmp_path / f"c{i}").write_bytes(pub.encrypt(msg))
        assert openssl("pkeyutl", "-decrypt", "-inkey", str(key_path), "-in", str(tmp_path / f"c{i}")) == msg


def test_vector_key_signature_in_openssl(vectors: dict, tmp_path: Path) -> None:
    """Our PEM of the standard's key, used by openssl to verify the standard's signature."""
    v = vectors["sm2_sign"][0]
    key = sm2.derive_private_key(int(v["d"], 16))
    (tmp_path / "pub.pem").write_bytes(key.public_key().to_pem())
    (tmp_path / "m").write_bytes(v["msg_ascii"].encode())
    (tmp_path / "s").write_bytes(sm2.encode_signature(int(v["r"], 16), int(v["s"], 16)))
    assert openssl_ok(
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        str(tmp_path / "pub.pem"),
        "-in",
        str(tmp_path / "m"),
        "-sigfile",
        str(tmp_path / "s"),
        *_sign_args(v["uid_ascii"]),
    )
