"""Recipients of an envelope: wrap the content key to a certificate, describe a RecipientInfo, and find the
recipient a key opens.

RSA recipients get a KeyTransRecipientInfo with RSAES-OAEP (SHA-256, MGF1-SHA-256) by default, or PKCS#1
v1.5; OAEP is read with SHA-1/256/384/512 for the label hash and for MGF1, alike or mixed (Java's
``OAEPWithSHA-256AndMGF1Padding`` uses MGF1-SHA-1; OpenSSL's default is SHA-1 for both). SM2 recipients
(GM/T 0010) get the key SM2-encrypted, the ciphertext in GM/T 0009 DER (raw C1C3C2 / C1C2C3 read): algorithm
1.2.156.10197.1.301.3 and version 0 (``standard``) or GmSSL's 1.2.156.10197.1.301.2 and version 1
(``gmssl`` profile); both are read.
"""

from __future__ import annotations

from collections.abc import Sequence

from asn1crypto import algos, cms, x509

from sealkit import sm2
from sealkit.envelope.model import RecipientSummary
from sealkit.errors import DamagedEnvelope, InvalidInput, NotARecipient, SealkitError, UnsupportedAlgorithm
from sealkit.ukey import KeyKind, PrivateKeyHandle

RSA, SM2 = "rsa", "sm2"
_RSA_ALGORITHMS = ("rsaes_oaep", "rsaes_pkcs1v15", "rsa")
#: The SM2 key-encryption OID GmSSL 3 writes and requires (others write …301.3).
GMSSL_KEY_ENCRYPTION = "1.2.156.10197.1.301.2"
#: Envelope profiles: ``standard`` (RFC 5652 versions, …301.3) and ``gmssl`` (versions 1, …301.2).
PROFILES = ("standard", "gmssl")
_OAEP_DIGESTS = ("sha1", "sha256", "sha384", "sha512")


def key_family(cert: x509.Certificate) -> str:
    """``rsa`` or ``sm2`` for a recipient certificate; :class:`UnsupportedAlgorithm` otherwise."""
    info = cert.public_key
    algorithm = info.algorithm
    if algorithm == "rsa":
        return RSA
    if algorithm == "ec" and info["algorithm"]["parameters"].chosen.native == "sm2p256v1":
        return SM2
    raise UnsupportedAlgorithm(
        f"cannot encrypt to {describe_certificate(cert)}: its {algorithm.upper()} key is neither RSA nor SM2"
    )


def describe_certificate(cert: x509.Certificate) -> str:
    return f"{_cn(cert.subject)} (issuer {_cn(cert.issuer)}, serial 0x{cert.serial_number:x})"


def _cn(name: x509.Name) -> str:
    try:
        cn = name.native.get("common_name")
    except (ValueError, TypeError):  # pragma: no cover - undecodable name
        cn = None
    if isinstance(cn, list):
        cn = cn[-1]
    return str(cn) if cn else name.human_friendly


def wrap_key(
    cert: x509.Certificate,
    cek: bytes,
    *,
    use_ski: bool = False,
    rsa_padding: str = "oaep",
    profile: str = "standard",
) -> cms.RecipientInfo:
    """A KeyTransRecipientInfo giving ``cek`` to the holder of ``cert`` (``profile`` ``gmssl``: SM2 only,
    version 1 and GmSSL's key-encryption OID)."""
    family = key_family(cert)
    gmssl = profile == "gmssl"
    if use_ski:
        ski = cert.key_identifier or cert.public_key.sha1
        rid = cms.RecipientIdentifier({"subject_key_identifier": ski})
    else:
        rid = cms.RecipientIdentifier(
            {"issuer_and_serial_number": {"issuer": cert.issuer, "serial_number": cert.serial_number}}
        )
    if family == SM2:
        encrypted = sm2.load_der_public_key(cert.public_key.dump()).encrypt(cek)
        oid = GMSSL_KEY_ENCRYPTION if gmssl else "sm2_encrypt"
        algorithm = cms.KeyEncryptionAlgorithm({"algorithm": oid})
    else:
        encrypted, algorithm = _rsa_encrypt(cert, cek, rsa_padding)
    return cms.RecipientInfo(
        {
            "ktri": {
                "version": "v2" if use_ski else "v1" if gmssl else "v0",
                "rid": rid,
                "key_encryption_algorithm": algorithm,
                "encrypted_key": encrypted,
            }
        }
    )


def _rsa_encrypt(
    cert: x509.Certificate, cek: bytes, rsa_padding: str
) -> tuple[bytes, cms.KeyEncryptionAlgorithm]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    public = serialization.load_der_public_key(cert.public_key.dump())
    assert isinstance(public, rsa.RSAPublicKey)
    if rsa_padding == "pkcs1v15":
        return public.encrypt(cek, padding.PKCS1v15()), cms.KeyEncryptionAlgorithm(
            {"algorithm": "rsaes_pkcs1v15"}
        )
    if rsa_padding != "oaep":
        raise InvalidInput(f"unknown RSA padding {rsa_padding!r}: use oaep or pkcs1v15")
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    params = algos.RSAESOAEPParams(
        {
            "hash_algorithm": {"algorithm": "sha256"},
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": "sha256"}},
        }
    )
    algorithm = cms.KeyEncryptionAlgorithm({"algorithm": "rsaes_oaep", "parameters": params})
    return public.encrypt(cek, oaep), algorithm


# --- reading ------------------------------------------------------------------------------------------------


def summarize(info: cms.RecipientInfo) -> RecipientSummary:
    """Describe one RecipientInfo (any kind) for messages and ``inspect``."""
    if info.name != "ktri":
        kinds = {"kari": "key agreement", "kekri": "KEK", "pwri": "password", "ori": "other"}
        return RecipientSummary(f"{kinds.get(info.name, info.name)} recipient (not supported)", info.name, "")
    ktri = info.chosen
    alg = ktri["key_encryption_algorithm"]
    oid = alg["algorithm"].dotted
    rid = ktri["rid"]
    if rid.name == "issuer_and_serial_number":
        issuer = rid.chosen["issuer"]
        serial = int(rid.chosen["serial_number"].native)
        return RecipientSummary(
            f"issuer {_cn(issuer)}, serial 0x{serial:x}",
            _algorithm_name(alg),
            oid,
            issuer=issuer.human_friendly,
            serial=serial,
        )
    ski = bytes(rid.chosen.native)
    return RecipientSummary(
        f"subjectKeyIdentifier {ski.hex()}", _algorithm_name(alg), oid, subject_key_identifier=ski
    )


def _algorithm_name(alg: cms.KeyEncryptionAlgorithm) -> str:
    name = alg["algorithm"].native
    if name == "sm2_encrypt":
        return "sm2"
    if name == "rsaes_oaep":
        try:
            params = alg["parameters"]
            digest = params["hash_algorithm"]["algorithm"].native
            mgf = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
        except (ValueError, KeyError, TypeError, AttributeError):
            return "rsaes-oaep(?)"
        return f"rsaes-oaep({digest})" if mgf == digest else f"rsaes-oaep({digest}, mgf1-{mgf})"
    if name in ("rsa", "rsaes_pkcs1v15"):
        return "rsaes-pkcs1v15"
    return str(name)


def _family_of(info: cms.RecipientInfo) -> str | None:
    if info.name != "ktri":
        return None
    name = info.chosen["key_encryption_algorithm"]["algorithm"].native
    return SM2 if name == "sm2_encrypt" else RSA if name in _RSA_ALGORITHMS else None


def _matches(info: cms.RecipientInfo, cert: x509.Certificate | None, key: PrivateKeyHandle) -> bool:
    rid = info.chosen["rid"]
    if rid.name == "issuer_and_serial_number":
        return cert is not None and (
            rid.chosen["issuer"] == cert.issuer and rid.chosen["serial_number"].native == cert.serial_number
        )
    ski = bytes(rid.chosen.native)
    known = {key.public_key_info().sha1}
    if cert is not None and cert.key_identifier:
        known.add(cert.key_identifier)
    return ski in known


def unwrap_key(
    infos: Sequence[cms.RecipientInfo], key: PrivateKeyHandle, key_size: int
) -> tuple[RecipientSummary, bytes]:
    """The content key from the recipient ``key`` opens, and that recipient.

    The recipient whose identifier matches the key's certificate (or key identifier) is tried first; without
    a match every recipient of the key's algorithm is tried. :class:`NotARecipient` names the file's
    recipients when none opens; :class:`DamagedEnvelope` when the matching one's encrypted key is damaged.
    """
    family = {KeyKind.RSA: RSA, KeyKind.SM2: SM2}.get(key.kind)
    compatible = [i for i in infos if family is not None and _family_of(i) == family]
    cert = key.certificate()
    matching = [i for i in compatible if _matches(i, cert, key)]
    for info in matching:
        cek = _decrypt_key(info, key, key_size)
        if cek is None:
            raise DamagedEnvelope(
                f"the encrypted key for recipient {summarize(info).identifier} is damaged or was made for "
                f"another key with the same identifier"
            )
        return summarize(info), cek
    for info in compatible:
        cek = _decrypt_key(info, key, key_size)
        if cek is not None:
            return summarize(info), cek
    listing = "; ".join(summarize(i).identifier + f" [{summarize(i).key_algorithm}]" for i in infos) or "none"
    who = f"key {key.label!r}"
    if cert is not None:
        who += f" ({describe_certificate(cert)})"
    raise NotARecipient(f"{who} is not a recipient of this envelope; its recipients are: {listing}")


def _decrypt_key(info: cms.RecipientInfo, key: PrivateKeyHandle, key_size: int) -> bytes | None:
    ktri = info.chosen
    alg = ktri["key_encryption_algorithm"]
    encrypted = bytes(ktri["encrypted_key"].native)
    if _family_of(info) == SM2:
        candidates = _sm2_candidates(encrypted, key_size)
        kwargs: dict[str, str] = {}
    else:
        candidates = [encrypted]
        try:
            kwargs = _rsa_options(alg)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise DamagedEnvelope(
                f"the RSA-OAEP parameters of {summarize(info).identifier} are malformed"
            ) from None
    for candidate in candidates:
        try:
            cek = key.decrypt(candidate, **kwargs)
        except DamagedEnvelope:
            continue
        if len(cek) == key_size:
            return cek
    return None


def _rsa_options(alg: cms.KeyEncryptionAlgorithm) -> dict[str, str]:
    """The ``key.decrypt`` options for an RSA key-transport algorithm (absent OAEP parameters: SHA-1)."""
    if alg["algorithm"].native != "rsaes_oaep":
        return {"rsa_padding": "pkcs1v15"}
    params = alg["parameters"]
    digest = params["hash_algorithm"]["algorithm"].native
    mgf = params["mask_gen_algorithm"]
    if mgf["algorithm"].native != "mgf1":
        raise UnsupportedAlgorithm(
            f"RSA-OAEP with mask generation {mgf['algorithm'].dotted} is not supported"
        )
    mgf_digest = mgf["parameters"]["algorithm"].native
    if params["p_source_algorithm"]["parameters"].native not in (b"", None):
        raise UnsupportedAlgorithm("RSA-OAEP with a label is not supported")
    for name in (digest, mgf_digest):
        if name not in _OAEP_DIGESTS:
            raise UnsupportedAlgorithm(f"RSA-OAEP with digest {name} is not supported")
    options = {"rsa_padding": "oaep", "oaep_hash": digest}
    if mgf_digest != digest:  # only then: key handles that predate mgf_hash still open the usual case
        options["mgf_hash"] = mgf_digest
    return options


def _sm2_candidates(encrypted: bytes, key_size: int) -> list[bytes]:
    """The GM/T 0009 DER ciphertexts ``encrypted`` may be: DER as is, or raw C1C3C2 / C1C2C3."""
    if encrypted[:1] == b"\x30":
        return [encrypted]
    formats = sm2.CiphertextFormat
    if len(encrypted) == 1 + 64 + 32 + key_size and encrypted[0] == 4:
        options = (formats.C1C3C2, formats.C1C2C3)
    else:
        options = (formats.C1C3C2_NO_PREFIX, formats.C1C2C3_NO_PREFIX)
    candidates = []
    for fmt in options:
        try:
            candidates.append(sm2.SM2Ciphertext.decode(encrypted, fmt).encode(sm2.CiphertextFormat.DER))
        except SealkitError:
            continue
    return candidates
