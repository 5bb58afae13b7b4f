"""Independent checks of what sealkit writes: the SES_Signature parsed by a structure check written here
from the ASN.1 of GB/T 38540-2020 (not sealkit's classes), both SM2 signatures verified by OpenSSL, and every
Reference digest recomputed with the ``cryptography`` package's SM3 over the members ``zipfile`` reads."""

import base64
import re
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes

from tests.ofd.helpers import members, sign

SIGN = "Doc_0/Signs/Sign_0/"


def tlv(data: bytes, pos: int = 0) -> tuple[int, int, int, int]:
    """(tag, start of contents, end of contents, end of value) of the DER value at ``pos``."""
    tag = data[pos]
    first = data[pos + 1]
    if first < 0x80:
        length, header = first, 2
    else:
        count = first & 0x7F
        assert 1 <= count <= 4, "DER length too long"
        length, header = int.from_bytes(data[pos + 2 : pos + 2 + count], "big"), 2 + count
        assert length >= 0x80, "DER lengths are minimal"
    start = pos + header
    return tag, start, start + length, start + length


def children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    out, pos = [], start
    while pos < end:
        item = tlv(data, pos)
        out.append((item[0], pos, item[1], item[2]))
        pos = item[3]
    assert pos == end
    return out


def oid(data: bytes) -> str:
    first, rest, value, arcs = data[0], data[1:], 0, []
    for byte in rest:
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    return ".".join(str(a) for a in [first // 40, first % 40, *arcs])


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


SEQUENCE, INTEGER, BIT_STRING, OCTET_STRING, OID, IA5, UTF8, GENERALIZED_TIME = (
    0x30,
    0x02,
    0x03,
    0x04,
    0x06,
    0x16,
    0x0C,
    0x18,
)


@pytest.fixture(scope="module")
def signed(pki, seals, tmp_path_factory):
    from sealkit.ofd import sample_contract_ofd

    directory = tmp_path_factory.mktemp("independent")
    (directory / "c.ofd").write_bytes(sample_contract_ofd(pages=2))
    return members(sign(pki, seals, directory / "c.ofd", directory / "s.ofd").read_bytes())


def structure(der: bytes) -> dict:
    """SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert OCTET STRING, signatureAlgID OID, signature BIT
    STRING, timeStamp [0] EXPLICIT BIT STRING OPTIONAL } with TBS_Sign and SESeal as GB/T 38540 §7 / §8."""
    tag, start, end, total = tlv(der)
    assert tag == SEQUENCE and total == len(der)
    top = children(der, start, end)
    assert [t for t, *_ in top][:4] == [SEQUENCE, OCTET_STRING, OID, BIT_STRING] and len(top) in (4, 5)
    tbs_tag, tbs_pos, tbs_start, tbs_end = top[0]
    tbs = children(der, tbs_start, tbs_end)
    assert [t for t, *_ in tbs][:5] == [INTEGER, SEQUENCE, GENERALIZED_TIME, BIT_STRING, IA5]
    assert der[tbs[0][2] : tbs[0][3]] == b"\x04"  # version 4
    seal = children(der, tbs[1][2], tbs[1][3])  # SESeal { eSealInfo, cert, signAlgID, signedValue }
    assert [t for t, *_ in seal] == [SEQUENCE, OCTET_STRING, OID, BIT_STRING]
    info = children(der, seal[0][2], seal[0][3])  # SES_SealInfo { header, esID, property, picture [ext] }
    assert [t for t, *_ in info][:4] == [SEQUENCE, IA5, SEQUENCE, SEQUENCE]
    header = children(der, info[0][2], info[0][3])
    assert [t for t, *_ in header] == [IA5, INTEGER, IA5] and der[header[0][2] : header[0][3]] == b"ES"
    prop = children(der, info[2][2], info[2][3])  # type, name, certListType, certList, 3 times
    assert [t for t, *_ in prop] == [INTEGER, UTF8, INTEGER, SEQUENCE] + [GENERALIZED_TIME] * 3
    picture = children(der, info[3][2], info[3][3])
    assert [t for t, *_ in picture] == [IA5, OCTET_STRING, INTEGER, INTEGER]
    time = der[tbs[2][2] : tbs[2][3]].decode()
    assert re.fullmatch(r"\d{14}Z", time), time
    data_hash = der[tbs[3][2] : tbs[3][3]]
    signature = der[top[3][2] : top[3][3]]
    assert data_hash[0] == 0 and signature[0] == 0  # no unused bits
    return {
        "tbs": der[tbs_pos:tbs_end],
        "data_hash": data_hash[1:],
        "property_info": der[tbs[4][2] : tbs[4][3]].decode(),
        "signer_cert": der[top[1][2] : top[1][3]],
        "algorithm": oid(der[top[2][2] : top[2][3]]),
        "signature": signature[1:],
        "seal": der[tbs[1][1] : tbs[1][3]],
        "seal_info": der[seal[0][1] : seal[0][3]],
        "maker_cert": der[seal[1][2] : seal[1][3]],
        "maker_algorithm": oid(der[seal[2][2] : seal[2][3]]),
        "maker_signature": der[seal[3][2] + 1 : seal[3][3]],
    }


def test_structure_from_the_standard(signed):
    parts = structure(signed[SIGN + "SignedValue.dat"])
    assert parts["algorithm"] == parts["maker_algorithm"] == "1.2.156.10197.1.501"
    assert parts["data_hash"] == sm3(signed[SIGN + "Signature.xml"])
    assert parts["property_info"] == "/" + SIGN + "Signature.xml"
    assert parts["seal"] == signed[SIGN + "Seal.esl"]  # Seal.esl is byte-identical to the seal inside


def _openssl_verify(tmp_path, name, cert_der, data, signature):
    (tmp_path / f"{name}.der").write_bytes(cert_der)
    pub = subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-in", tmp_path / f"{name}.der", "-pubkey", "-noout"],
        check=True,
        capture_output=True,
    ).stdout
    (tmp_path / f"{name}.pub").write_bytes(pub)
    (tmp_path / f"{name}.bin").write_bytes(data)
    (tmp_path / f"{name}.sig").write_bytes(signature)
    return subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            tmp_path / f"{name}.pub",
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345678",
            "-in",
            tmp_path / f"{name}.bin",
            "-sigfile",
            tmp_path / f"{name}.sig",
        ],
        capture_output=True,
        text=True,
    )


def test_openssl_verifies_both_sm2_signatures(signed, tmp_path):
    parts = structure(signed[SIGN + "SignedValue.dat"])
    signer = _openssl_verify(tmp_path, "signer", parts["signer_cert"], parts["tbs"], parts["signature"])
    assert signer.returncode == 0 and "Signature Verified Successfully" in signer.stdout, signer.stderr
    maker = _openssl_verify(
        tmp_path, "maker", parts["maker_cert"], parts["seal_info"], parts["maker_signature"]
    )
    assert maker.returncode == 0 and "Signature Verified Successfully" in maker.stdout, maker.stderr
    # and OpenSSL says no to a changed TBS_Sign
    forged = bytearray(parts["tbs"])
    forged[-5] ^= 1
    bad = _openssl_verify(tmp_path, "forged", parts["signer_cert"], bytes(forged), parts["signature"])
    assert bad.returncode != 0


def test_reference_digests_recomputed(signed):
    xml = signed[SIGN + "Signature.xml"].decode()
    references = dict(
        re.findall(r'<ofd:Reference FileRef="([^"]+)"><ofd:CheckValue>([^<]+)</ofd:CheckValue>', xml)
    )
    assert len(references) == len(signed) - 3  # all but Signature.xml, SignedValue.dat, Signatures.xml
    for path, value in references.items():
        assert base64.b64decode(value) == sm3(signed[path.lstrip("/")]), path
