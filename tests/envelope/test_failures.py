"""Every way opening a bid can fail: one clear error, the right class, and nothing left behind."""

from __future__ import annotations

import pytest
from asn1crypto import cms

from sealkit.envelope import decrypt_file, encrypt_file, inspect
from sealkit.errors import (
    DamagedEnvelope,
    EnvelopeError,
    NotAnEnvelope,
    NotARecipient,
    NotYetOpen,
    SealkitError,
    UnsupportedAlgorithm,
    VerificationFailed,
)
from tests.envelope.keys import SoftKey


def _flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _envelope(rsa_pki, bid, out_dir, cipher, **kw):
    env = out_dir / f"bid-{cipher}.p7m"
    encrypt_file(
        bid, env, [rsa_pki.cert("bidder-enc")], signer=rsa_pki.key("bidder-sign"), content_cipher=cipher, **kw
    )
    return env


def _open_fails(env, key, error, out_dir, match=None, **kw):
    before = env.read_bytes()
    with pytest.raises(error, match=match) as caught:
        decrypt_file(env, out_dir / "opened.pdf", key, **kw)
    assert sorted(p.name for p in out_dir.iterdir()) == [env.name], "something was left behind"
    assert env.read_bytes() == before, "the input was modified"
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def _content_offset(env):
    info = cms.ContentInfo.load(env.read_bytes())
    eci = info["content"][
        "auth_encrypted_content_info"
        if "authenticated" in info["content_type"].native
        else "encrypted_content_info"
    ]
    return env.read_bytes().index(eci["encrypted_content"].contents)


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "aes-256-cbc", "sm4-cbc"])
@pytest.mark.parametrize("where", ["start", "middle", "last-block"])
def test_flipped_ciphertext_byte(rsa_pki, bid, out_dir, cipher, where):
    env = _envelope(rsa_pki, bid, out_dir, cipher)
    start = _content_offset(env)
    size = inspect(env).encrypted_size
    offset = {"start": start + 5, "middle": start + size // 2, "last-block": start + size - 3}[where]
    _flip(env, offset)
    _open_fails(env, rsa_pki.key("bidder-enc"), (DamagedEnvelope, VerificationFailed), out_dir)


def test_flipped_gcm_tag(rsa_pki, bid, out_dir):
    env = _envelope(rsa_pki, bid, out_dir, "aes-256-gcm")
    _flip(env, env.stat().st_size - 1)
    _open_fails(env, rsa_pki.key("bidder-enc"), DamagedEnvelope, out_dir, match="GCM tag")


def test_flipped_gcm_ciphertext_unsigned_says_tag(rsa_pki, bid, out_dir):
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")])
    _flip(env, _content_offset(env) + 1000)
    _open_fails(env, rsa_pki.key("bidder-enc"), DamagedEnvelope, out_dir, match="GCM tag")


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "aes-256-cbc"])
def test_flipped_encrypted_key(rsa_pki, bid, out_dir, cipher):
    env = _envelope(rsa_pki, bid, out_dir, cipher)
    info = cms.ContentInfo.load(env.read_bytes())
    encrypted_key = info["content"]["recipient_infos"][0].chosen["encrypted_key"].native
    _flip(env, env.read_bytes().index(encrypted_key) + 100)
    _open_fails(env, rsa_pki.key("bidder-enc"), DamagedEnvelope, out_dir, match="encrypted key")


class _BadSigner(SoftKey):
    def sign(self, data, options=None):
        signature = bytearray(super().sign(data, options))
        signature[len(signature) // 2] ^= 0x40
        return bytes(signature)


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "sm4-cbc"])
def test_bad_inner_signature(rsa_pki, bid, out_dir, cipher):
    good = rsa_pki.key("bidder-sign")
    signer = _BadSigner(good._key, good.certificate(), "bidder-sign")
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")], signer=signer, content_cipher=cipher)
    message = _open_fails(env, rsa_pki.key("bidder-enc"), VerificationFailed, out_dir)
    assert "inner signature does not verify" in message and "bidder-sign" in message


def test_bad_sm2_inner_signature(sm2_pki, bid, out_dir):
    signer = _BadSigner(sm2_pki.key("sm2-bidder-sign")._key, sm2_pki.cert("sm2-bidder-sign"), "sm2 signer")
    env = out_dir / "bid.gm"
    encrypt_file(bid, env, [sm2_pki.cert("sm2-bidder-enc")], signer=signer)
    _open_fails(
        env,
        sm2_pki.key("sm2-bidder-enc"),
        VerificationFailed,
        out_dir,
        match="inner signature does not verify",
    )


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "sm4-cbc"])
def test_truncation_at_many_offsets(rsa_pki, bid, out_dir, cipher):
    env = _envelope(rsa_pki, bid, out_dir, cipher)
    full = env.read_bytes()
    start = _content_offset(env)
    for cut in (
        0,
        1,
        2,
        10,
        40,
        start - 300,
        start - 1,
        start + 1,
        start + 4096,
        len(full) // 2,
        len(full) - 17,
        len(full) - 16,
        len(full) - 1,
    ):
        env.write_bytes(full[:cut])
        _open_fails(env, rsa_pki.key("bidder-enc"), EnvelopeError, out_dir)
    env.write_bytes(full + b"\x00")
    _open_fails(env, rsa_pki.key("bidder-enc"), DamagedEnvelope, out_dir, match="after the envelope")


def test_truncated_envelope_says_truncated(rsa_pki, bid, out_dir):
    env = _envelope(rsa_pki, bid, out_dir, "aes-256-gcm")
    env.write_bytes(env.read_bytes()[:-5000])
    _open_fails(env, rsa_pki.key("bidder-enc"), DamagedEnvelope, out_dir, match="truncated")


def test_wrong_key(rsa_pki, sm2_pki, bid, out_dir):
    env = _envelope(rsa_pki, bid, out_dir, "aes-256-gcm")
    message = _open_fails(env, rsa_pki.key("other-enc"), NotARecipient, out_dir)
    assert f"0x{rsa_pki.cert('bidder-enc').serial_number:x}" in message
    gm = out_dir / "bid.gm"
    encrypt_file(bid, gm, [sm2_pki.cert("sm2-bidder-enc")], signer=sm2_pki.key("sm2-bidder-sign"))
    env.unlink()
    _open_fails(
        gm, sm2_pki.key("sm2-platform-backup"), NotARecipient, out_dir, match="sm2-bidder-enc|serial 0x"
    )


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"%PDF-1.7 not an envelope", "not a CMS file"),
        (b"", "empty"),
        (b"-----BEGIN CMS-----\nMIIB\n-----END CMS-----\n", "PEM"),
        (b"MIME-Version: 1.0\r\n", "S/MIME"),
        (b"\x30\x03\x02\x01\x00", "not a CMS file"),
    ],
)
def test_not_an_envelope(rsa_pki, out_dir, content, match):
    env = out_dir / "x.p7m"
    env.write_bytes(content)
    _open_fails(env, rsa_pki.key("bidder-enc"), NotAnEnvelope, out_dir, match=match)
    with pytest.raises(NotAnEnvelope):
        inspect(env)


def test_a_signed_data_is_not_an_envelope(rsa_pki, out_dir):
    signed = cms.ContentInfo(
        {
            "content_type": "signed_data",
            "content": {
                "version": "v1",
                "digest_algorithms": [],
                "encap_content_info": {"content_type": "data"},
                "signer_infos": [],
            },
        }
    )
    env = out_dir / "x.p7m"
    env.write_bytes(signed.dump())
    _open_fails(env, rsa_pki.key("bidder-enc"), NotAnEnvelope, out_dir, match="signed_data, not a digital")


def test_unknown_content_algorithm_names_the_oid(rsa_pki, bid, out_dir):
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")])
    data = env.read_bytes()
    gcm_oid = bytes.fromhex("060960864801650304012e")  # aes256-GCM
    env.write_bytes(data.replace(gcm_oid, bytes.fromhex("060960864801650304012f"), 1))
    _open_fails(
        env, rsa_pki.key("bidder-enc"), UnsupportedAlgorithm, out_dir, match="2.16.840.1.101.3.4.1.47"
    )


def test_unknown_key_transport_is_not_a_recipient(rsa_pki, bid, out_dir):
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")])
    oaep_oid = bytes.fromhex("06092a864886f70d010107")
    env.write_bytes(env.read_bytes().replace(oaep_oid, bytes.fromhex("06092a864886f70d01017f"), 1))
    message = _open_fails(env, rsa_pki.key("bidder-enc"), NotARecipient, out_dir)
    assert "1.2.840.113549.1.1.127" in message


def test_not_yet_open_and_force(rsa_pki, bid, out_dir):
    import datetime as dt

    env = _envelope(rsa_pki, bid, out_dir, "aes-256-gcm")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    _open_fails(env, rsa_pki.key("bidder-enc"), NotYetOpen, out_dir, match="bids open at", not_before=later)
    decrypt_file(env, out_dir / "p", rsa_pki.key("bidder-enc"), not_before=later, force=True)
    earlier = dt.datetime.now() - dt.timedelta(minutes=1)  # naive: local time
    decrypt_file(env, out_dir / "q", rsa_pki.key("bidder-enc"), not_before=earlier)
    assert (out_dir / "q").read_bytes() == bid.read_bytes()


def test_every_failure_is_a_sealkit_error():
    assert issubclass(NotAnEnvelope, EnvelopeError) and issubclass(EnvelopeError, SealkitError)
