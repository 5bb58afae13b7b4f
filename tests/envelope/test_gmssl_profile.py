"""``--profile gmssl``: SM2 envelopes that GmSSL 3 opens (issue 12, item 11).

GmSSL is not installable here, so :func:`gmssl_deenvelop` re-implements, rule by rule, what GmSSL 3's
``cms_deenvelop`` (src/cms.c) and the DER readers under it (src/asn1.c, src/x509_alg.c, src/sm2_lib.c)
accept, and ``cmsdecrypt`` (tools/cmsdecrypt.c) on top:

- ContentInfo: SEQUENCE { OID one of the GM/T 0010 types and = envelopedData, [0] EXPLICIT }, nothing after;
- EnvelopedData: INTEGER version = 1, SET recipientInfos, encryptedContentInfo, nothing after;
- KeyTransRecipientInfo: version = 1, issuerAndSerialNumber (matched byte for byte with the recipient's
  certificate), keyEncryptionAlgorithm = SEQUENCE { OID 1.2.156.10197.1.301.2 } with no parameters (not
  even NULL), encryptedKey OCTET STRING holding an SM2Cipher;
- SM2Cipher: SEQUENCE { INTEGER x, INTEGER y (positive, minimal, at most 32 bytes), OCTET STRING hash of
  32 bytes, OCTET STRING ciphertext of at most 255 bytes }, nothing after, (x, y) on the curve;
- EncryptedContentInfo: OID a GM/T 0010 content type, SEQUENCE { OID SM4-CBC 1.2.156.10197.1.104.2,
  OCTET STRING IV of 16 bytes }, [0] IMPLICIT primitive encryptedContent, optional [1]/[2] sharedInfo,
  nothing after; the content key is 16 bytes; SM4-CBC with PKCS#7 padding;
- all of it strict DER: definite, minimal lengths; no negative or zero-padded INTEGERs;
- ``cmsdecrypt`` then writes the content only if its type is GM/T 0010 *data*.
"""

from __future__ import annotations

import json

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sealkit_cli.main import run

from sealkit.envelope import decrypt_file, encrypt_file, inspect
from sealkit.errors import InvalidInput

GM_CMS = "1.2.156.10197.6.1.4.2"
GM_TYPES = {f"{GM_CMS}.{n}": name for n, name in enumerate(
    ["data", "signedData", "envelopedData", "signedAndEnvelopedData", "encryptedData", "keyAgreementInfo"], 1
)}  # fmt: skip
SM2_ENCRYPT_GMSSL, SM4_CBC = "1.2.156.10197.1.301.2", "1.2.156.10197.1.104.2"
_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93


class Refused(AssertionError):
    """GmSSL would refuse the file (the message says at which rule)."""


def _check(condition: bool, rule: str) -> None:
    if not condition:
        raise Refused(rule)


def _tlv(data: bytes, i: int, tag: int, what: str) -> tuple[bytes, int]:
    """The value of the DER element ``tag`` at ``i`` and the offset after it (GmSSL's asn1_*_from_der)."""
    _check(i < len(data) and data[i] == tag, f"{what}: expected tag {tag:#04x}")
    i += 1
    _check(i < len(data), f"{what}: truncated")
    first = data[i]
    i += 1
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        _check(1 <= count <= 4 and data[i] != 0, f"{what}: non-minimal or indefinite length")
        length = int.from_bytes(data[i : i + count], "big")
        _check(length >= 0x80, f"{what}: long form for a short length")
        i += count
    _check(i + length <= len(data), f"{what}: truncated")
    return data[i : i + length], i + length


def _integer(data: bytes, i: int, what: str) -> tuple[bytes, int]:
    """GmSSL's asn1_integer_from_der: positive, minimal; the leading sign byte removed."""
    value, i = _tlv(data, i, 0x02, what)
    _check(len(value) > 0 and not value[0] & 0x80, f"{what}: empty or negative INTEGER")
    if value[0] == 0 and len(value) > 1:
        value = value[1:]
        _check(bool(value[0] & 0x80), f"{what}: INTEGER with a needless leading zero")
    return value, i


def _small_int(data: bytes, i: int, what: str) -> tuple[int, int]:
    value, i = _integer(data, i, what)
    return int.from_bytes(value, "big"), i


def _oid(data: bytes, i: int, what: str) -> tuple[str, int]:
    value, i = _tlv(data, i, 0x06, what)
    return cms.ObjectIdentifier.load(b"\x06" + bytes([len(value)]) + value).dotted, i


def _sm2_cipher(der: bytes) -> None:
    """GmSSL's sm2_ciphertext_from_der."""
    body, end = _tlv(der, 0, 0x30, "SM2Cipher")
    _check(end == len(der), "SM2Cipher: data after it")
    x, i = _integer(body, 0, "SM2Cipher x")
    y, i = _integer(body, i, "SM2Cipher y")
    _check(len(x) <= 32 and len(y) <= 32, "SM2Cipher: coordinate longer than 32 bytes")
    digest, i = _tlv(body, i, 0x04, "SM2Cipher hash")
    _check(len(digest) == 32, "SM2Cipher: hash is not 32 bytes")
    ciphertext, i = _tlv(body, i, 0x04, "SM2Cipher ciphertext")
    _check(len(ciphertext) <= 255, "SM2Cipher: ciphertext longer than 255 bytes")
    _check(i == len(body), "SM2Cipher: data after the ciphertext")
    px, py = int.from_bytes(x, "big"), int.from_bytes(y, "big")
    _check((py * py - (px**3 + (_P - 3) * px + _B)) % _P == 0, "SM2Cipher: point not on the curve")


def gmssl_deenvelop(der: bytes, recipient_cert, key) -> tuple[str, bytes]:
    """What GmSSL 3's cms_deenvelop returns for ``der`` opened with ``key`` and ``recipient_cert``:
    (content type name, content); :class:`Refused` naming the rule it breaks."""
    info, end = _tlv(der, 0, 0x30, "ContentInfo")
    _check(end == len(der), "ContentInfo: data after it")
    content_type, i = _oid(info, 0, "ContentInfo contentType")
    _check(
        GM_TYPES.get(content_type) == "envelopedData",
        f"ContentInfo: type {content_type} is not envelopedData",
    )
    explicit, i = _tlv(info, i, 0xA0, "ContentInfo [0]")
    _check(i == len(info), "ContentInfo: data after [0]")
    enveloped, end = _tlv(explicit, 0, 0x30, "EnvelopedData")
    _check(end == len(explicit), "EnvelopedData: data after it")
    version, i = _small_int(enveloped, 0, "EnvelopedData version")
    _check(version == 1, f"EnvelopedData: version {version}, GmSSL requires 1")
    recipient_infos, i = _tlv(enveloped, i, 0x31, "recipientInfos")
    eci_start = i
    _, i = _tlv(enveloped, i, 0x30, "encryptedContentInfo")
    _check(i == len(enveloped), "EnvelopedData: data after encryptedContentInfo (e.g. unprotectedAttrs)")

    tbs = recipient_cert["tbs_certificate"]
    issuer_der, serial = tbs["issuer"].dump(), tbs["serial_number"].contents.lstrip(b"\x00")
    cek, j = None, 0
    while j < len(recipient_infos) and cek is None:
        ktri, j = _tlv(recipient_infos, j, 0x30, "RecipientInfo")
        v, k = _small_int(ktri, 0, "RecipientInfo version")
        ias, k = _tlv(ktri, k, 0x30, "issuerAndSerialNumber")
        _, m = _tlv(ias, 0, 0x30, "issuer")
        issuer_tlv = ias[:m]
        ias_serial, m = _integer(ias, m, "serialNumber")
        _check(m == len(ias), "issuerAndSerialNumber: data after it")
        algorithm, k = _tlv(ktri, k, 0x30, "keyEncryptionAlgorithm")
        oid, a = _oid(algorithm, 0, "keyEncryptionAlgorithm")
        _check(oid == SM2_ENCRYPT_GMSSL, f"keyEncryptionAlgorithm: Unknown OID {oid}")
        _check(a == len(algorithm), "keyEncryptionAlgorithm: parameters present (even NULL is refused)")
        encrypted_key, k = _tlv(ktri, k, 0x04, "encryptedKey")
        _check(v == 1, f"RecipientInfo: version {v}, GmSSL requires 1")
        if issuer_tlv != issuer_der or ias_serial != serial:
            continue  # not this recipient
        _sm2_cipher(encrypted_key)
        cek = key.decrypt(encrypted_key)
    _check(cek is not None, "no RecipientInfo for the recipient certificate")
    _check(len(cek) == 16, "content key is not an SM4 key")

    eci, _ = _tlv(enveloped, eci_start, 0x30, "encryptedContentInfo")
    inner_type, i = _oid(eci, 0, "encryptedContentInfo contentType")
    _check(inner_type in GM_TYPES, f"encryptedContentInfo: type {inner_type} is not a GM/T 0010 type")
    algorithm, i = _tlv(eci, i, 0x30, "contentEncryptionAlgorithm")
    oid, a = _oid(algorithm, 0, "contentEncryptionAlgorithm")
    _check(oid == SM4_CBC, f"contentEncryptionAlgorithm: {oid} is not SM4-CBC")
    iv, a = _tlv(algorithm, a, 0x04, "SM4-CBC IV")
    _check(a == len(algorithm) and len(iv) == 16, "SM4-CBC: the parameter is not a 16-byte IV")
    ciphertext, i = _tlv(eci, i, 0x80, "encryptedContent [0] IMPLICIT OCTET STRING (primitive)")
    for tag in (0x81, 0x82):  # sharedInfo1, sharedInfo2
        if i < len(eci) and eci[i] == tag:
            _, i = _tlv(eci, i, tag, "sharedInfo")
    _check(i == len(eci), "encryptedContentInfo: data after it")
    decryptor = Cipher(algorithms.SM4(cek), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    pad = padded[-1]
    _check(1 <= pad <= 16 and padded.endswith(bytes([pad]) * pad), "SM4-CBC: bad padding")
    return GM_TYPES[inner_type], padded[:-pad]


def gmssl_cmsdecrypt(der: bytes, recipient_cert, key) -> bytes:
    """tools/cmsdecrypt.c: cms_deenvelop, then only GM/T 0010 data is written out."""
    content_type, content = gmssl_deenvelop(der, recipient_cert, key)
    _check(content_type == "data", f"cmsdecrypt: invalid CMS content type: {content_type}")
    return content


# --- tests -------------------------------------------------------------------------------------------------


def test_unsigned_gmssl_envelope_opens_with_cmsdecrypt(sm2_pki, bid, out_dir):
    env = out_dir / "bid.gm"
    recipients = [sm2_pki.cert("sm2-bidder-enc"), sm2_pki.cert("sm2-platform-backup")]
    made = encrypt_file(bid, env, recipients, profile="gmssl", allow_unsigned=True)
    assert made.profile == "gmssl"
    for name in ("sm2-bidder-enc", "sm2-platform-backup"):
        assert gmssl_cmsdecrypt(env.read_bytes(), sm2_pki.cert(name), sm2_pki.key(name)) == bid.read_bytes()


def test_signed_gmssl_envelope_follows_the_library_rules(sm2_pki, bid, out_dir):
    """cms_deenvelop opens a signed one too; cmsdecrypt writes only 'data' and refuses it (documented)."""
    env = out_dir / "bid.gm"
    encrypt_file(
        bid, env, [sm2_pki.cert("sm2-bidder-enc")], signer=sm2_pki.key("sm2-bidder-sign"), profile="gmssl"
    )
    key, cert = sm2_pki.key("sm2-bidder-enc"), sm2_pki.cert("sm2-bidder-enc")
    content_type, content = gmssl_deenvelop(env.read_bytes(), cert, key)
    assert content_type == "signedData"
    signed = cms.ContentInfo.load(content)
    assert signed["content_type"].dotted == f"{GM_CMS}.2"
    assert signed["content"]["encap_content_info"]["content"].native == bid.read_bytes()
    with pytest.raises(Refused, match="invalid CMS content type: signedData"):
        gmssl_cmsdecrypt(env.read_bytes(), cert, key)


def test_standard_profile_is_what_gmssl_refuses(sm2_pki, bid, out_dir):
    """The checker's twin: the default GM/T 0010 envelope breaks GmSSL's rules exactly as issue 12 says."""
    env = out_dir / "bid.gm"
    encrypt_file(bid, env, [sm2_pki.cert("sm2-bidder-enc")], allow_unsigned=True)
    key, cert = sm2_pki.key("sm2-bidder-enc"), sm2_pki.cert("sm2-bidder-enc")
    with pytest.raises(Refused, match="EnvelopedData: version 0"):
        gmssl_deenvelop(env.read_bytes(), cert, key)
    info = cms.ContentInfo.load(env.read_bytes())
    info["content"]["version"] = 1
    with pytest.raises(Refused, match="Unknown OID 1.2.156.10197.1.301.3"):
        gmssl_deenvelop(info.dump(force=True), cert, key)


@pytest.mark.parametrize("profile", ["standard", "gmssl"])
@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_sealkit_reads_both_profiles(sm2_pki, bid, out_dir, profile, signed):
    env = out_dir / "bid.gm"
    signer = sm2_pki.key("sm2-bidder-sign") if signed else None
    encrypt_file(
        bid, env, [sm2_pki.cert("sm2-bidder-enc")], signer=signer, profile=profile, allow_unsigned=not signed
    )
    info = inspect(env)
    assert info.profile == profile and info.format == "gmt0010-enveloped-data"
    assert {r.key_algorithm_oid for r in info.recipients} == {
        SM2_ENCRYPT_GMSSL if profile == "gmssl" else "1.2.156.10197.1.301.3"
    }
    trust = {"trust": [sm2_pki.root]} if signed else {"allow_unsigned": True}
    result = decrypt_file(env, out_dir / "p", sm2_pki.key("sm2-bidder-enc"), **trust)
    assert (out_dir / "p").read_bytes() == bid.read_bytes()
    assert (result.signer is not None) is signed


def test_gmssl_profile_refusals(rsa_pki, sm2_pki, bid, out_dir):
    with pytest.raises(InvalidInput, match="SM2 recipients"):
        encrypt_file(bid, out_dir / "x", [rsa_pki.cert("bidder-enc")], profile="gmssl")
    with pytest.raises(InvalidInput, match="issuer and serial"):
        encrypt_file(
            bid, out_dir / "x", [sm2_pki.cert("sm2-bidder-enc")], profile="gmssl", recipient_id="ski"
        )
    with pytest.raises(InvalidInput, match="unknown envelope profile"):
        encrypt_file(bid, out_dir / "x", [sm2_pki.cert("sm2-bidder-enc")], profile="cfca")
    assert sorted(p.name for p in out_dir.iterdir()) == []


def test_cli_profile_gmssl(sm2_pki, bid, out_dir, capsys):
    ids = sm2_pki.ids
    env = out_dir / "bid.gm"
    args = ["bid", "encrypt", bid, "-o", env, "--to", ids["sm2-bidder-enc"].cert_path, "--profile", "gmssl"]
    code = run([*map(str, args), "--allow-unsigned", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["profile"] == "gmssl"
    assert run(["bid", "info", str(env)]) == 0
    assert "profile:    gmssl" in capsys.readouterr().out
    opened = gmssl_cmsdecrypt(env.read_bytes(), sm2_pki.cert("sm2-bidder-enc"), sm2_pki.key("sm2-bidder-enc"))
    assert opened == bid.read_bytes()
