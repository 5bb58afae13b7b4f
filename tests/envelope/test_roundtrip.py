"""Round trips through sealkit.envelope: RSA (three ciphers), SM2 (GM/T 0010), several recipients."""

from __future__ import annotations

import stat

import pytest
from asn1crypto import cms

from sealkit.envelope import MIXED_FAMILIES, decrypt_file, encrypt_file, inspect
from sealkit.errors import (
    EnvelopeError,
    InvalidInput,
    NotARecipient,
    UnsupportedAlgorithm,
    VerificationFailed,
)


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "aes-256-cbc", "sm4-cbc"])
def test_rsa_signed_round_trip(rsa_pki, bid, out_dir, cipher):
    env = out_dir / "bid.p7m"
    made = encrypt_file(
        bid, env, [rsa_pki.cert("bidder-enc")], signer=rsa_pki.key("bidder-sign"), content_cipher=cipher
    )
    assert made.content_cipher == cipher and made.signed and made.plaintext_size == bid.stat().st_size
    assert env.stat().st_size == made.file_size
    plain = out_dir / "bid-opened.pdf"
    result = decrypt_file(env, plain, rsa_pki.key("bidder-enc"), trust=[rsa_pki.root])
    assert plain.read_bytes() == bid.read_bytes()
    assert result.size == bid.stat().st_size
    assert result.signer is not None and result.signer.trusted
    assert "bidder-sign" in result.signer.subject
    assert stat.S_IMODE(plain.stat().st_mode) == 0o600
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


def test_gcm_unsigned_is_auth_enveloped_data_with_oaep(rsa_pki, bid, out_dir):
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")])
    info = cms.ContentInfo.load(env.read_bytes())
    assert info["content_type"].native == "authenticated_enveloped_data"
    auth = info["content"]
    alg = auth["auth_encrypted_content_info"]["content_encryption_algorithm"]
    assert alg["algorithm"].native == "aes256_gcm"
    assert len(alg["parameters"]["aes_nonce"].native) == 12 and alg["parameters"]["aes_icvlen"].native == 16
    assert len(auth["mac"].native) == 16
    ktri = auth["recipient_infos"][0].chosen
    oaep = ktri["key_encryption_algorithm"]
    assert oaep["algorithm"].native == "rsaes_oaep"
    assert oaep["parameters"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert oaep["parameters"]["mask_gen_algorithm"]["parameters"]["algorithm"].native == "sha256"
    decrypt_file(env, out_dir / "p", rsa_pki.key("bidder-enc"))
    assert (out_dir / "p").read_bytes() == bid.read_bytes()


def test_pkcs1v15_and_ski_recipients(rsa_pki, bid, out_dir):
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")], rsa_padding="pkcs1v15", recipient_id="ski")
    recipient = inspect(env).recipients[0]
    assert recipient.key_algorithm == "rsaes-pkcs1v15" and recipient.subject_key_identifier
    decrypt_file(env, out_dir / "p", rsa_pki.key("bidder-enc", with_cert=False))
    assert (out_dir / "p").read_bytes() == bid.read_bytes()


def test_unsigned_cbc_refused_both_ways(rsa_pki, bid, out_dir):
    with pytest.raises(InvalidInput, match="no integrity"):
        encrypt_file(bid, out_dir / "x", [rsa_pki.cert("bidder-enc")], content_cipher="aes-256-cbc")
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")], content_cipher="aes-256-cbc", allow_unsigned=True)
    with pytest.raises(EnvelopeError, match="not signed"):
        decrypt_file(env, out_dir / "p", rsa_pki.key("bidder-enc"))
    assert not (out_dir / "p").exists()
    decrypt_file(env, out_dir / "p", rsa_pki.key("bidder-enc"), allow_unsigned=True)
    assert (out_dir / "p").read_bytes() == bid.read_bytes()


def test_two_recipients_each_decrypt(rsa_pki, bid, out_dir):
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc"), rsa_pki.cert("platform-backup")])
    assert len(inspect(env).recipients) == 2
    for name in ("bidder-enc", "platform-backup"):
        result = decrypt_file(env, out_dir / name, rsa_pki.key(name))
        assert (out_dir / name).read_bytes() == bid.read_bytes()
        assert result.recipient.serial == rsa_pki.cert(name).serial_number


def test_key_without_certificate_tries_each_recipient(rsa_pki, bid, out_dir):
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc"), rsa_pki.cert("platform-backup")])
    key = rsa_pki.key("platform-backup", with_cert=False)
    result = decrypt_file(env, out_dir / "p", key)
    assert result.recipient.serial == rsa_pki.cert("platform-backup").serial_number
    written_order = [r.serial for r in inspect(env).recipients]
    assert key.decrypt_calls == written_order.index(result.recipient.serial) + 1


def test_wrong_key_names_the_recipients(rsa_pki, bid, out_dir):
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc"), rsa_pki.cert("platform-backup")])
    with pytest.raises(NotARecipient) as caught:
        decrypt_file(env, out_dir / "p", rsa_pki.key("other-enc"))
    message = str(caught.value)
    for name in ("bidder-enc", "platform-backup"):
        assert f"serial 0x{rsa_pki.cert(name).serial_number:x}" in message
    assert "sealkit Test RSA Root CA" in message
    assert list(out_dir.iterdir()) == [env]


def test_untrusted_signer_fails_and_releases_nothing(rsa_pki, sm2_pki, bid, out_dir):
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")], signer=rsa_pki.key("bidder-sign"))
    with pytest.raises(VerificationFailed, match="not trusted for envelope signing"):
        decrypt_file(env, out_dir / "p", rsa_pki.key("bidder-enc"), trust=[sm2_pki.root])
    assert list(out_dir.iterdir()) == [env]


def test_sm2_round_trip_gmt0010(sm2_pki, bid, out_dir):
    env = out_dir / "bid.gm"
    made = encrypt_file(
        bid,
        env,
        [sm2_pki.cert("sm2-bidder-enc"), sm2_pki.cert("sm2-platform-backup")],
        signer=sm2_pki.key("sm2-bidder-sign"),
    )
    assert made.format == "gmt0010-enveloped-data" and made.content_cipher == "sm4-cbc"
    info = cms.ContentInfo.load(env.read_bytes())
    assert info["content_type"].dotted == "1.2.156.10197.6.1.4.2.3"
    eci = info["content"]["encrypted_content_info"]
    assert eci["content_type"].dotted == "1.2.156.10197.6.1.4.2.2"
    assert eci["content_encryption_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.104.2"
    ktri = info["content"]["recipient_infos"][0].chosen
    assert ktri["key_encryption_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.301.3"
    assert ktri["encrypted_key"].native[0] == 0x30  # GM/T 0009 DER
    for key in (sm2_pki.key("sm2-bidder-enc"), sm2_pki.key("sm2-platform-backup")):
        result = decrypt_file(env, out_dir / key.label, key, trust=[sm2_pki.root])
        assert (out_dir / key.label).read_bytes() == bid.read_bytes()
        assert result.signer.signature_algorithm == "sm2_sm3" and result.signer.trusted


def test_sm2_recipient_by_ski(sm2_pki, bid, out_dir):
    env = out_dir / "bid.gm"
    encrypt_file(
        bid, env, [sm2_pki.cert("sm2-bidder-enc")], signer=sm2_pki.key("sm2-bidder-sign"), recipient_id="ski"
    )
    assert inspect(env).recipients[0].subject_key_identifier == sm2_pki.cert("sm2-bidder-enc").key_identifier
    decrypt_file(env, out_dir / "p", sm2_pki.key("sm2-bidder-enc"))
    assert (out_dir / "p").read_bytes() == bid.read_bytes()


def test_sm2_key_on_rsa_envelope_is_not_a_recipient(rsa_pki, sm2_pki, bid, out_dir):
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")])
    with pytest.raises(NotARecipient, match="bidder-enc|serial"):
        decrypt_file(env, out_dir / "p", sm2_pki.key("sm2-bidder-enc"))


def test_rsa_and_sm2_mix_refused(rsa_pki, sm2_pki, bid, out_dir):
    with pytest.raises(InvalidInput) as caught:
        encrypt_file(bid, out_dir / "x", [rsa_pki.cert("bidder-enc"), sm2_pki.cert("sm2-bidder-enc")])
    assert str(caught.value) == MIXED_FAMILIES
    assert list(out_dir.iterdir()) == []


def test_sm2_needs_sm4(sm2_pki, bid, out_dir):
    with pytest.raises(UnsupportedAlgorithm, match="SM4-CBC"):
        encrypt_file(bid, out_dir / "x", [sm2_pki.cert("sm2-bidder-enc")], content_cipher="aes-256-gcm")


def test_progress_reports_every_byte(rsa_pki, bid, out_dir):
    seen = []
    env = out_dir / "bid.p7m"
    encrypt_file(
        bid,
        env,
        [rsa_pki.cert("bidder-enc")],
        signer=rsa_pki.key("bidder-sign"),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[-1][0] == seen[-1][1] == 2 * bid.stat().st_size
    seen.clear()
    decrypt_file(env, out_dir / "p", rsa_pki.key("bidder-enc"), progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] == inspect(env).encrypted_size


def test_empty_bid(rsa_pki, tmp_path, out_dir):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    for cipher in ("aes-256-gcm", "aes-256-cbc"):
        env = out_dir / f"e-{cipher}"
        encrypt_file(empty, env, [rsa_pki.cert("bidder-enc")], content_cipher=cipher, allow_unsigned=True)
        decrypt_file(env, out_dir / f"p-{cipher}", rsa_pki.key("bidder-enc"), allow_unsigned=True)
        assert (out_dir / f"p-{cipher}").read_bytes() == b""


def test_never_writes_over_the_input(rsa_pki, bid):
    before = bid.read_bytes()
    with pytest.raises(InvalidInput, match="over the input"):
        encrypt_file(bid, bid, [rsa_pki.cert("bidder-enc")])
    assert bid.read_bytes() == before
