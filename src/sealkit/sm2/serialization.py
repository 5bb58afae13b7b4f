"""DER/PEM encodings of SM2 keys, as OpenSSL 3 writes and reads them.

* Private keys: PKCS#8 ``PrivateKeyInfo`` with ``id-ecPublicKey`` + named curve ``1.2.156.10197.1.301`` and an
  inner SEC 1 ``ECPrivateKey`` (version 1, 32-byte d, ``[1]`` public key, no ``[0]`` parameters) — byte for
  byte what ``openssl genpkey -algorithm SM2`` writes; encrypted PKCS#8 (PBES2: PBKDF2 with HMAC-SHA-1/-224/
  -256/-384/-512 or HMAC-SM3, and AES-128/192/256-CBC or SM4-CBC); and SEC 1 ``EC PRIVATE KEY``.
* Public keys: ``SubjectPublicKeyInfo`` (uncompressed point on write; compressed accepted on read).

When a password is given, keys are written as PBES2 with PBKDF2-HMAC-SHA256 (random 16-byte salt,
:data:`DEFAULT_PBKDF2_ITERATIONS` iterations) and AES-256-CBC, what ``openssl pkcs8 -topk8 -v2 aes-256-cbc``
writes. This module works on integers and points; :mod:`sealkit.sm2.keys` wraps them in key objects.
"""

from __future__ import annotations

import os

from asn1crypto import algos, core, keys, pem
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from sealkit.errors import DecodingError, InvalidKey, PinIncorrect, PinRequired, UnsupportedAlgorithm
from sealkit.sm2 import curve, oids
from sealkit.sm2.curve import Point
from sealkit.sm2.symmetric import DIGESTS

oids.register()

#: PBKDF2 iterations used when writing encrypted keys (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
DEFAULT_PBKDF2_ITERATIONS = 600_000
#: Refuse to run PBKDF2 for more than this many iterations when reading (a malicious file could hang us).
MAX_PBKDF2_ITERATIONS = 10_000_000

_PRF = DIGESTS  # PBKDF2 PRFs: HMAC with these
_CIPHERS = {
    "aes128_cbc": (algorithms.AES, 16),
    "aes192_cbc": (algorithms.AES, 24),
    "aes256_cbc": (algorithms.AES, 32),
    "sm4_cbc": (algorithms.SM4, 16),
}


def _sm2_params() -> keys.ECDomainParameters:
    return keys.ECDomainParameters(name="named", value=oids.SM2_CURVE_NAME)


def _check_params(params: keys.ECDomainParameters | None) -> None:
    if params is None or isinstance(params, core.Void):
        return
    if params.name != "named" or params.chosen.native != oids.SM2_CURVE_NAME:
        raise InvalidKey("not an SM2 key (the EC curve is not sm2p256v1)")


# --- public keys ----------


def public_key_info(point: Point) -> keys.PublicKeyInfo:
    """The asn1crypto ``PublicKeyInfo`` (SPKI) of an SM2 point."""
    return keys.PublicKeyInfo(
        {
            "algorithm": keys.PublicKeyAlgorithm({"algorithm": "ec", "parameters": _sm2_params()}),
            "public_key": curve.encode_point(point),
        }
    )


def point_from_public_key_info(info: keys.PublicKeyInfo) -> Point:
    """The checked point of an SM2 SPKI; :class:`InvalidKey` if it is not SM2 or not on the curve."""
    try:
        if info["algorithm"]["algorithm"].native != "ec":
            raise InvalidKey("not an SM2 public key")
        _check_params(info["algorithm"]["parameters"])
        raw = info["public_key"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise DecodingError("malformed SubjectPublicKeyInfo") from exc
    return curve.decode_point(raw)


def decode_spki(data: bytes) -> Point:
    """Parse a DER ``SubjectPublicKeyInfo``."""
    try:
        info = keys.PublicKeyInfo.load(bytes(data), strict=True)
        info["algorithm"]  # noqa: B018 - force parsing
    except (ValueError, TypeError) as exc:
        raise DecodingError("malformed SubjectPublicKeyInfo") from exc
    return point_from_public_key_info(info)


# --- private keys ----------


def _ec_private_key(d: int, point: Point, with_params: bool) -> keys.ECPrivateKey:
    value: dict[str, object] = {"version": "ecPrivkeyVer1", "private_key": d}
    if with_params:
        value["parameters"] = _sm2_params()
    value["public_key"] = curve.encode_point(point)
    ec = keys.ECPrivateKey(value)
    ec.set_key_size(curve.SIZE)
    return ec


def encode_pkcs8(d: int, point: Point) -> bytes:
    """Unencrypted PKCS#8 DER, as OpenSSL 3 writes it."""
    info = keys.PrivateKeyInfo(
        {
            "version": 0,
            "private_key_algorithm": keys.PrivateKeyAlgorithm(
                {"algorithm": "ec", "parameters": _sm2_params()}
            ),
            "private_key": _ec_private_key(d, point, with_params=False),
        }
    )
    return info.dump()


def encode_sec1(d: int, point: Point) -> bytes:
    """SEC 1 ``ECPrivateKey`` DER (``EC PRIVATE KEY``) with the named curve and the public key."""
    return _ec_private_key(d, point, with_params=True).dump()


def encrypt_pkcs8(plain_der: bytes, password: bytes, iterations: int = DEFAULT_PBKDF2_ITERATIONS) -> bytes:
    """Wrap PKCS#8 DER in PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)."""
    if not isinstance(password, bytes) or not password:
        raise InvalidKey("the key password must be non-empty bytes")
    salt, iv = os.urandom(16), os.urandom(16)
    key = PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(password)
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = enc.update(padder.update(plain_der) + padder.finalize()) + enc.finalize()
    epki = keys.EncryptedPrivateKeyInfo(
        {
            "encryption_algorithm": algos.EncryptionAlgorithm(
                {
                    "algorithm": "pbes2",
                    "parameters": algos.Pbes2Params(
                        {
                            "key_derivation_func": algos.KdfAlgorithm(
                                {
                                    "algorithm": "pbkdf2",
                                    "parameters": algos.Pbkdf2Params(
                                        {
                                            "salt": algos.Pbkdf2Salt(name="specified", value=salt),
                                            "iteration_count": iterations,
                                            "prf": algos.HmacAlgorithm(
                                                {"algorithm": "sha256", "parameters": core.Null()}
                                            ),
                                        }
                                    ),
                                }
                            ),
                            "encryption_scheme": algos.EncryptionAlgorithm(
                                {"algorithm": "aes256_cbc", "parameters": core.OctetString(iv)}
                            ),
                        }
                    ),
                }
            ),
            "encrypted_data": ciphertext,
        }
    )
    return epki.dump()


def decrypt_pkcs8(data: bytes, password: bytes) -> bytes:
    """Unwrap a PBES2 ``EncryptedPrivateKeyInfo``; a wrong password raises :class:`PinIncorrect`."""
    try:
        epki = keys.EncryptedPrivateKeyInfo.load(data, strict=True)
        alg = epki["encryption_algorithm"]
        if alg["algorithm"].native != "pbes2":
            raise UnsupportedAlgorithm(
                f"key encryption {alg['algorithm'].native!r} (only PBES2 is supported)"
            )
        params = alg["parameters"]
        kdf = params["key_derivation_func"]
        if kdf["algorithm"].native != "pbkdf2":
            raise UnsupportedAlgorithm(f"key derivation {kdf['algorithm'].native!r} (only PBKDF2)")
        kp = kdf["parameters"]
        salt = kp["salt"].chosen.native
        iterations = kp["iteration_count"].native
        prf_name = kp["prf"]["algorithm"].native
        scheme_name = params["encryption_scheme"]["algorithm"].native
        iv = params["encryption_scheme"]["parameters"].native
        ciphertext = epki["encrypted_data"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise DecodingError("malformed EncryptedPrivateKeyInfo") from exc
    if prf_name not in _PRF:
        raise UnsupportedAlgorithm(f"PBKDF2 PRF {prf_name!r}")
    if scheme_name not in _CIPHERS:
        raise UnsupportedAlgorithm(f"key encryption cipher {scheme_name!r}")
    if not 0 < iterations <= MAX_PBKDF2_ITERATIONS:
        raise UnsupportedAlgorithm("PBKDF2 iteration count out of range")
    cipher_cls, key_len = _CIPHERS[scheme_name]
    if not isinstance(iv, bytes) or len(iv) != 16 or not ciphertext or len(ciphertext) % 16:
        raise DecodingError("malformed EncryptedPrivateKeyInfo")
    prf: hashes.HashAlgorithm = _PRF[prf_name]()  # type: ignore[abstract]
    key = PBKDF2HMAC(prf, key_len, salt, iterations).derive(password)
    dec = Cipher(cipher_cls(key), modes.CBC(iv)).decryptor()
    padded = dec.update(ciphertext) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise PinIncorrect(
            "wrong password for the encrypted private key (or the key file is damaged)"
        ) from None


def _first_tag(data: bytes) -> tuple[int, int]:
    """(tag of the first element, its first content byte) inside the outer SEQUENCE."""
    outer = core.Sequence.load(data, strict=True)
    children = outer.contents
    if not children:
        raise ValueError("empty")
    tag = children[0]
    first = core.Asn1Value.load(children, strict=False)
    return tag, first.contents[0] if first.contents else -1


def _from_ec_private_key(ec: keys.ECPrivateKey) -> tuple[int, Point | None]:
    if ec["version"].native != "ecPrivkeyVer1":
        raise InvalidKey("unknown ECPrivateKey version")
    _check_params(ec["parameters"] if ec["parameters"].contents else None)
    raw = ec["private_key"].contents
    if len(raw) != curve.SIZE:
        raise InvalidKey("an SM2 private key is 32 bytes")
    d = curve.check_private_value(int.from_bytes(raw, "big"))
    pub = ec["public_key"]
    point = curve.decode_point(pub.native) if pub.contents else None
    return d, point


def decode_private(data: bytes, password: bytes | None = None) -> tuple[int, Point | None]:
    """Parse PKCS#8, encrypted PKCS#8 or SEC 1 DER; return (d, embedded public point or None).

    An encrypted key needs ``password`` (:class:`PinRequired` otherwise); a password for a key that is not
    encrypted is refused (:class:`InvalidKey`), as pyca/cryptography does.
    """
    data = bytes(data)
    try:
        tag, first_byte = _first_tag(data)
    except (ValueError, TypeError) as exc:
        raise DecodingError("not a DER private key") from exc
    if tag == 0x30:  # EncryptedPrivateKeyInfo: SEQUENCE{AlgorithmIdentifier, OCTET STRING}
        if password is None:
            raise PinRequired("the private key is encrypted: a password is needed")
        plain = decrypt_pkcs8(data, password)
        try:
            return decode_private(plain, None)
        except DecodingError:
            # ~1/256 wrong passwords pass the padding check; the garbage then fails to parse.
            raise PinIncorrect("wrong password for the encrypted private key") from None
    if password is not None:
        raise InvalidKey("a password was given but the private key is not encrypted")
    if tag != 0x02:
        raise DecodingError("not a DER private key")
    try:
        if first_byte == 0:  # PKCS#8 version 0; SEC 1 ECPrivateKey has version 1
            info = keys.PrivateKeyInfo.load(data, strict=True)
            alg = info["private_key_algorithm"]
            if alg["algorithm"].native != "ec":
                raise InvalidKey(f"not an SM2 key ({alg['algorithm'].native})")
            _check_params(alg["parameters"])
            return _from_ec_private_key(keys.ECPrivateKey.load(info["private_key"].contents, strict=True))
        return _from_ec_private_key(keys.ECPrivateKey.load(data, strict=True))
    except (ValueError, TypeError, KeyError) as exc:
        raise DecodingError("malformed SM2 private key") from exc


# --- PEM ----------

#: PEM labels of private keys we read. OpenSSL 3 labels a SEC 1 SM2 key ``SM2 PRIVATE KEY`` (``openssl ec``).
PRIVATE_LABELS = ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY", "SM2 PRIVATE KEY")


def pem_decode(data: bytes, labels: tuple[str, ...]) -> bytes:
    """The DER of the first PEM block whose label is in ``labels`` (other blocks, e.g. EC/SM2 PARAMETERS,
    are skipped). Legacy OpenSSL-encrypted PEM (``Proc-Type: 4,ENCRYPTED``) is refused."""
    if not pem.detect(data):
        raise DecodingError("not PEM data")
    try:
        for label, headers, der in pem.unarmor(bytes(data), multiple=True):
            if label in labels:
                if "Proc-Type" in headers:
                    raise UnsupportedAlgorithm(
                        "legacy encrypted PEM; convert with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
                    )
                return bytes(der)
    except ValueError as exc:
        raise DecodingError("malformed PEM data") from exc
    raise DecodingError(f"no {' / '.join(labels)} block in the PEM data")


def pem_encode(label: str, der: bytes) -> bytes:
    """PEM armour with 64-column base64, as OpenSSL writes."""
    return bytes(pem.armor(label, der))
