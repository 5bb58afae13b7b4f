"""SM2 helpers for checking the test token from outside: public keys, Z/e, signature and ciphertext
encodings, verification with the ``openssl`` CLI, with gmssl (pure Python, independent of OpenSSL) and,
for many signatures, with libcrypto through ctypes."""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import hashlib
import subprocess
from pathlib import Path

from asn1crypto import core, keys
from gmssl import sm2 as gm_sm2

DEFAULT_UID = b"1234567812345678"
SM2_CURVE_OID = "1.2.156.10197.1.301"
EC_PARAMS_SM2 = bytes.fromhex("06082a811ccf5501822d")

# SM2 curve parameters (GB/T 32918.5)
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0


def point_from_ec_point(ec_point: bytes) -> bytes:
    """CKA_EC_POINT (DER OCTET STRING) -> 65-byte 04||x||y."""
    point = core.OctetString.load(ec_point).native
    assert len(point) == 65 and point[0] == 4, point.hex()
    return point


def spki_der(point: bytes) -> bytes:
    params = keys.ECDomainParameters(name="named", value=SM2_CURVE_OID)
    info = keys.PublicKeyInfo({"algorithm": {"algorithm": "ec", "parameters": params}, "public_key": point})
    return info.dump()


def spki_pem(point: bytes) -> str:
    b64 = base64.b64encode(spki_der(point)).decode()
    body = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"


def sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def sm2_z(point: bytes, uid: bytes = DEFAULT_UID) -> bytes:
    entl = (len(uid) * 8).to_bytes(2, "big")
    parts = [A, B, GX, GY]
    return sm3(entl + uid + b"".join(v.to_bytes(32, "big") for v in parts) + point[1:])


def sm2_e(point: bytes, message: bytes, uid: bytes = DEFAULT_UID) -> bytes:
    """e = SM3(Z || M): what a host computes before calling a token's sign-over-e mechanism."""
    return sm3(sm2_z(point, uid) + message)


class _EcdsaSig(core.Sequence):
    _fields = [("r", core.Integer), ("s", core.Integer)]


def raw_to_der(sig: bytes) -> bytes:
    assert len(sig) == 64
    return _EcdsaSig({"r": int.from_bytes(sig[:32], "big"), "s": int.from_bytes(sig[32:], "big")}).dump()


def der_to_raw(sig: bytes) -> bytes:
    parsed = _EcdsaSig.load(sig)
    return int(parsed["r"]).to_bytes(32, "big") + int(parsed["s"]).to_bytes(32, "big")


def to_der(sig: bytes) -> bytes:
    return raw_to_der(sig) if len(sig) == 64 else sig


def check_range(sig_raw: bytes) -> None:
    r, s = int.from_bytes(sig_raw[:32], "big"), int.from_bytes(sig_raw[32:], "big")
    assert 0 < r < N and 0 < s < N


# ---- verification ------------------------------------------------------------------------------------


def openssl_verify(workdir: Path, point: bytes, message: bytes, sig: bytes, uid: bytes = DEFAULT_UID) -> bool:
    """Verify with ``openssl pkeyutl -verify -rawin -digest sm3`` (OpenSSL computes Z and e itself)."""
    pub = workdir / "pub.pem"
    msg = workdir / "msg.bin"
    sigf = workdir / "sig.der"
    pub.write_text(spki_pem(point))
    msg.write_bytes(message)
    sigf.write_bytes(to_der(sig))
    cmd = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin", "-digest", "sm3"]
    cmd += ["-pkeyopt", f"distid:{uid.decode()}", "-in", str(msg), "-sigfile", str(sigf)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return proc.returncode == 0 and "Signature Verified Successfully" in proc.stdout


def gmssl_verify_e(point: bytes, e: bytes, sig: bytes) -> bool:
    """Verify a signature over e with gmssl's pure-Python SM2 (``verify`` takes e as is: no Z)."""
    raw = sig if len(sig) == 64 else der_to_raw(sig)
    crypt = gm_sm2.CryptSM2(private_key=None, public_key=point[1:].hex())
    return bool(crypt.verify(raw.hex(), e))


def openssl_encrypt(workdir: Path, point: bytes, plaintext: bytes) -> bytes:
    """SM2-encrypt with the openssl CLI: GM/T 0009 DER ciphertext."""
    pub = workdir / "enc-pub.pem"
    pt = workdir / "pt.bin"
    pub.write_text(spki_pem(point))
    pt.write_bytes(plaintext)
    cmd = ["openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", str(pub), "-in", str(pt)]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


class _Ciphertext(core.Sequence):
    _fields = [
        ("x", core.Integer),
        ("y", core.Integer),
        ("hash", core.OctetString),
        ("ciphertext", core.OctetString),
    ]


def der_ciphertext_to_raw(der: bytes, order: str = "c1c3c2") -> bytes:
    ct = _Ciphertext.load(der)
    c1 = b"\x04" + int(ct["x"]).to_bytes(32, "big") + int(ct["y"]).to_bytes(32, "big")
    c3, c2 = ct["hash"].native, ct["ciphertext"].native
    return c1 + (c3 + c2 if order == "c1c3c2" else c2 + c3)


class LibcryptoVerifier:
    """SM2-with-SM3 verification through libcrypto (ctypes): fast enough to check thousands of signatures."""

    def __init__(self, point: bytes):
        lib = ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3")
        vp, c_long, c_size = ctypes.c_void_p, ctypes.c_long, ctypes.c_size_t
        for name, res, args in [
            ("d2i_PUBKEY", vp, [vp, ctypes.POINTER(ctypes.c_char_p), c_long]),
            ("EVP_PKEY_free", None, [vp]),
            ("EVP_MD_CTX_new", vp, []),
            ("EVP_MD_CTX_free", None, [vp]),
            ("EVP_PKEY_CTX_new", vp, [vp, vp]),
            ("EVP_PKEY_CTX_free", None, [vp]),
            ("EVP_PKEY_CTX_set1_id", ctypes.c_int, [vp, ctypes.c_char_p, c_size]),
            ("EVP_MD_CTX_set_pkey_ctx", None, [vp, vp]),
            ("EVP_sm3", vp, []),
            ("EVP_DigestVerifyInit", ctypes.c_int, [vp, vp, vp, vp, vp]),
            ("EVP_DigestVerify", ctypes.c_int, [vp, ctypes.c_char_p, c_size, ctypes.c_char_p, c_size]),
        ]:
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args
        self._lib = lib
        der = spki_der(point)
        buf = ctypes.c_char_p(der)
        self._pkey = lib.d2i_PUBKEY(None, ctypes.byref(buf), len(der))
        assert self._pkey, "libcrypto could not load the SM2 public key"

    def verify(self, message: bytes, sig: bytes, uid: bytes = DEFAULT_UID) -> bool:
        lib = self._lib
        sig = to_der(sig)
        md = lib.EVP_MD_CTX_new()
        pctx = lib.EVP_PKEY_CTX_new(self._pkey, None)
        try:
            if lib.EVP_PKEY_CTX_set1_id(pctx, uid, len(uid)) <= 0:
                return False
            lib.EVP_MD_CTX_set_pkey_ctx(md, pctx)
            if lib.EVP_DigestVerifyInit(md, None, lib.EVP_sm3(), None, self._pkey) <= 0:
                return False
            return lib.EVP_DigestVerify(md, sig, len(sig), message, len(message)) == 1
        finally:
            lib.EVP_MD_CTX_free(md)
            lib.EVP_PKEY_CTX_free(pctx)

    def close(self) -> None:
        if self._pkey:
            self._lib.EVP_PKEY_free(self._pkey)
            self._pkey = None
