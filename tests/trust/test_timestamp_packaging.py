"""Packaging a timestamped signature encodes the timestamp token once, not 2^depth times.

asn1crypto took a definite length ending in 0x80 (e.g. a 1920-byte SignerInfo, header ``30 82 07 80``) for an
indefinite one and force-re-encoded the whole SignerInfo; parsing the token on the way marked it changed, and
pyHanko's ``_package_signature`` then took 5-18 s for about a third of SM2 B-T signatures (see
``sealkit._asn1fix``). These tests count asn1crypto's encodings (``_set_contents`` calls) instead of timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Iterator

import pytest
from asn1crypto import cms, core, tsp
from pyhanko.sign.timestamps.api import TimeStamper

from sealkit import _asn1fix
from sealkit.dev.pki import make_test_pki
from sealkit.dev.responses import KeyedIdentity, timestamp_token
from sealkit.dev.services import PkiServices
from sealkit.pdf.signer import HandleSigner
from sealkit.trust import make_timestamper
from sealkit.ukey import KeyKind
from tests.helpers.pki_signing import sign_contract

#: An SM2 B-T signature (size estimate plus the real one) makes about 8,200 encodings; the bug made ~10^6,
#: a token marked changed before packaging (e.g. by reading `.native` of its signed attributes) ~230,000.
ENCODINGS_PER_SIGNATURE = 20_000


@contextlib.contextmanager
def counted_encodings() -> Iterator[list[int]]:
    """Count every (re-)encoding of a constructed asn1crypto value while the block runs."""
    count = [0]
    patches = []
    for cls in (core.Sequence, core.Set, core.SequenceOf, core.SetOf):
        original = cls.__dict__["_set_contents"]

        def counting(self, force=False, _original=original):  # type: ignore[no-untyped-def]
            count[0] += 1
            return _original(self, force)

        cls._set_contents = counting
        patches.append((cls, original))
    try:
        yield count
    finally:
        for cls, original in patches:
            cls._set_contents = original


class _Int(core.Sequence):
    _fields = [("value", core.Integer)]


class _Blob(core.Sequence):
    _fields = [("first", core.OctetString), ("second", core.OctetString)]


def test_the_workaround_is_installed_by_importing_sealkit():
    assert _asn1fix.installed()


@pytest.mark.parametrize(
    ("header", "definite"),
    [
        ("30 80", False),  # indefinite
        ("a0 80 30 80", False),  # explicit [0], both indefinite
        ("a0 82 30 80 30 80", False),  # definite explicit tag around an indefinite value
        ("30 81 80", True),  # 128
        ("30 82 01 80", True),  # 384
        ("30 82 07 80", True),  # 1920
        ("a0 82 07 84 30 82 07 80", True),  # explicit [0] around a 1920-byte SEQUENCE
        ("1f 81 00 81 80", True),  # high tag number form
        ("30 82 07", False),  # truncated
        ("", False),
    ],
)
def test_lengths_are_definite(header, definite):
    assert _asn1fix.lengths_are_definite(bytes.fromhex(header)) is definite


def test_a_definite_length_ending_in_0x80_is_not_re_encoded():
    der = _Blob({"first": b"a" * 190, "second": b"b" * 188}).dump()
    assert der[:4] == bytes.fromhex("30820180")  # 384 bytes of contents
    value = _Blob.load(der)
    assert value.dump() == der
    with counted_encodings() as count:
        assert value.dump() == der
    assert count[0] == 0
    assert value.children is None  # still the parsed bytes: nothing was taken apart to re-encode


def test_a_real_indefinite_length_is_still_re_encoded_as_der():
    value = _Int.load(bytes.fromhex("3080020230390000"))
    assert value.dump() == bytes.fromhex("300402023039")


class _StubSm2Key:
    """An SM2 "key" whose signature has a chosen length (the packaging never looks at its bytes)."""

    kind = KeyKind.SM2

    def __init__(self, size: int) -> None:
        self.size = size

    def sign(self, data: bytes, options: object) -> bytes:
        return bytes(self.size)


class _FixedTimestamper(TimeStamper):
    """Returns the same token, parsed afresh, for every request."""

    def __init__(self, token_der: bytes) -> None:
        super().__init__()
        self.token_der = token_der

    async def async_timestamp(self, message_digest, md_algorithm):  # type: ignore[no-untyped-def]
        return cms.ContentInfo.load(self.token_der)


def _package(signer_identity, token_der: bytes, signature_size: int) -> cms.ContentInfo:
    signer = HandleSigner(_StubSm2Key(signature_size), signer_identity.certificate)  # type: ignore[arg-type]
    return asyncio.run(
        signer.async_sign_general_data(b"contract", "sm3", timestamper=_FixedTimestamper(token_der))
    )


def test_packaging_an_sm2_signature_with_a_0x80_length_does_not_re_encode_the_token(tmp_path):
    pki = make_test_pki(tmp_path, "sm2")
    tsa = KeyedIdentity.load(pki.issue("tsa", "tsa"))
    imprint = tsp.MessageImprint({"hash_algorithm": {"algorithm": "sm3"}, "hashed_message": bytes(32)})
    token_der = timestamp_token(tsa, imprint, nonce=1, gen_time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).dump()
    signer = pki.issue("signer")

    # Choose the signature length (256..511: fixed-size headers) that makes the SignerInfo 128 + 256n long.
    probe = _package(signer, token_der, 256)["content"]["signer_infos"][0].dump()
    size = 256 + (0x80 - (len(probe) - 4)) % 256
    with counted_encodings() as count:
        packaged = _package(signer, token_der, size)
        der = packaged.dump()
    signer_info = packaged["content"]["signer_infos"][0]
    assert signer_info.dump()[:4].hex().endswith("80"), "the test no longer produces the 0x80 length"
    assert count[0] < 5_000, f"{count[0]} encodings to package one signature"  # ~1,400; unfixed ~10^6

    token = signer_info["unsigned_attrs"][0]["values"][0]
    assert token.dump() == token_der and not token._is_mutated()
    assert (
        cms.ContentInfo.load(der)["content"]["signer_infos"][0]["unsigned_attrs"][0]["values"][0].dump()
        == token_der
    )


@pytest.mark.parametrize("services", ["sm2"], indirect=True)
def test_ten_sm2_b_t_signatures_each_encode_a_bounded_amount(services: PkiServices, contract, tmp_path):
    signer = services.pki.issue("signer-count", "sign")
    counts = []
    for index in range(10):
        with counted_encodings() as count:
            sign_contract(
                contract,
                tmp_path / f"bt{index}.pdf",
                signer,
                services.pki,
                timestamper=make_timestamper(services.tsa_url),
            )
        counts.append(count[0])
    assert max(counts) < ENCODINGS_PER_SIGNATURE, counts
