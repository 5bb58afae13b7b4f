"""Who may have made a bid: --require-signed, --signer and --trust (issue 10, item 14).

An unsigned bid, or one signed by someone other than the expected bidder, is refused before any plaintext
is released; requiring a signature is the default once trust anchors are given, and --allow-unsigned (the
explicit opt-out) is recorded in the result. The signer's chain goes through sealkit.validation: an
intermediate CA carried in the SignedData is used, and an encryption-only certificate cannot sign a bid.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sealkit_cli.main import run

from sealkit import sm2
from sealkit.envelope import decrypt_file, encrypt_file
from sealkit.errors import InvalidInput, VerificationFailed
from sealkit.sm2 import x509 as sm2_x509
from sealkit.ukey import open_key
from tests.envelope.keys import SoftKey


def _refused(env, key, out_dir, match, **kw):
    with pytest.raises(VerificationFailed, match=match) as caught:
        decrypt_file(env, out_dir / "opened.pdf", key, **kw)
    assert sorted(p.name for p in out_dir.iterdir()) == [env.name], "plaintext was released"
    assert "\n" not in str(caught.value)
    return str(caught.value)


@pytest.fixture
def unsigned_gcm(rsa_pki, bid, out_dir):
    """Anyone can make this: AES-GCM to the platform's certificate, no signature."""
    env = out_dir / "unsigned.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")])
    return env


@pytest.fixture
def signed_gcm(rsa_pki, bid, out_dir):
    env = out_dir / "signed.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")], signer=rsa_pki.key("bidder-sign"))
    return env


def test_unsigned_bid_is_refused_when_trust_is_given(rsa_pki, unsigned_gcm, out_dir):
    key = rsa_pki.key("bidder-enc")
    message = _refused(unsigned_gcm, key, out_dir, "not signed", trust=[rsa_pki.root])
    assert "--allow-unsigned" in message
    assert key.decrypt_calls == 0  # refused before the key was used


def test_unsigned_bid_is_refused_with_require_signed(rsa_pki, unsigned_gcm, out_dir):
    _refused(unsigned_gcm, rsa_pki.key("bidder-enc"), out_dir, "--require-signed", require_signed=True)


def test_unsigned_bid_opens_with_allow_unsigned_and_says_so(rsa_pki, unsigned_gcm, bid, out_dir):
    """The honest twin: the opt-out works, and the result records it."""
    result = decrypt_file(
        unsigned_gcm, out_dir / "p", rsa_pki.key("bidder-enc"), trust=[rsa_pki.root], allow_unsigned=True
    )
    assert (out_dir / "p").read_bytes() == bid.read_bytes()
    assert result.signer is None and result.unsigned_allowed and not result.signature_required
    assert any("not signed" in w for w in result.warnings)
    plain = decrypt_file(unsigned_gcm, out_dir / "q", rsa_pki.key("bidder-enc"))  # no trust: as before
    assert not plain.signature_required and not plain.unsigned_allowed


def test_allow_unsigned_contradicts_require_signed(rsa_pki, unsigned_gcm, out_dir):
    for kw in ({"require_signed": True}, {"signers": [rsa_pki.cert("bidder-sign")]}):
        with pytest.raises(InvalidInput, match="contradicts"):
            decrypt_file(unsigned_gcm, out_dir / "p", rsa_pki.key("bidder-enc"), allow_unsigned=True, **kw)


def test_bid_signed_by_someone_else_is_refused(rsa_pki, signed_gcm, out_dir):
    """A bid signed by a valid certificate of the same CA, but not the expected bidder's."""
    message = _refused(
        signed_gcm,
        rsa_pki.key("bidder-enc"),
        out_dir,
        "not by an expected signer",
        trust=[rsa_pki.root],
        signers=[rsa_pki.cert("other-enc"), rsa_pki.cert("platform-backup")],
    )
    assert "bidder-sign" in message and "other-enc" in message


def test_unsigned_bid_is_refused_when_a_signer_is_expected(rsa_pki, unsigned_gcm, out_dir):
    _refused(
        unsigned_gcm, rsa_pki.key("bidder-enc"), out_dir, "--signer", signers=[rsa_pki.cert("bidder-sign")]
    )


def test_expected_signer_opens(rsa_pki, signed_gcm, bid, out_dir):
    result = decrypt_file(
        signed_gcm,
        out_dir / "p",
        rsa_pki.key("bidder-enc"),
        trust=[rsa_pki.root],
        signers=[rsa_pki.cert("other-enc"), rsa_pki.cert("bidder-sign")],
    )
    assert (out_dir / "p").read_bytes() == bid.read_bytes()
    assert result.signer.pinned and result.signer.trusted and result.signature_required
    assert "chains to" in result.signer.trust_message
    pinned_only = decrypt_file(
        signed_gcm, out_dir / "q", rsa_pki.key("bidder-enc"), signers=[rsa_pki.cert("bidder-sign")]
    )
    assert pinned_only.signer.pinned and not pinned_only.signer.trusted


def test_encryption_certificate_cannot_sign_a_bid(rsa_pki, bid, out_dir):
    """keyUsage keyEncipherment only: the path is fine, the purpose (envelope signing) is not."""
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")], signer=rsa_pki.key("other-enc"))
    message = _refused(env, rsa_pki.key("bidder-enc"), out_dir, "not trusted", trust=[rsa_pki.root])
    assert "CHAIN_CONSTRAINTS_FAILURE" in message


class _ChainKey(SoftKey):
    def __init__(self, key, cert, chain):
        super().__init__(key, cert, "chained signer")
        self._chain = chain

    def chain(self):
        return list(self._chain)


def _sub_ca_signer(sm2_pki):
    """root → sub CA → signer, the way Chinese CAs issue (the intermediate is not a trust anchor)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=30)
    sub_key, signer_key = sm2.generate_private_key(), sm2.generate_private_key()
    with open_key(sm2_pki.pki.root.keyref) as root_key:
        sub_ca = sm2_x509.build_certificate(
            {"common_name": "sealkit Test SM2 Sub CA"},
            sub_key.public_key(),
            sm2_pki.root,
            root_key,
            1001,
            start,
            end,
            is_ca=True,
            key_usage={"key_cert_sign", "crl_sign"},
        )
    signer_cert = sm2_x509.build_certificate(
        {"common_name": "chained bidder", "organization_name": "测试投标人"},
        signer_key.public_key(),
        sub_ca,
        sub_key,
        1002,
        start,
        end,
        key_usage={"digital_signature", "non_repudiation"},
    )
    return _ChainKey(signer_key, signer_cert, [sub_ca]), signer_cert


def test_signer_chains_through_an_intermediate_in_the_signed_data(sm2_pki, bid, out_dir):
    signer, signer_cert = _sub_ca_signer(sm2_pki)
    env = out_dir / "bid.gm"
    encrypt_file(bid, env, [sm2_pki.cert("sm2-bidder-enc")], signer=signer)
    result = decrypt_file(
        env, out_dir / "p", sm2_pki.key("sm2-bidder-enc"), trust=[sm2_pki.root], signers=[signer_cert]
    )
    assert result.signer.trusted and "Sub CA" not in result.signer.subject
    assert (out_dir / "p").read_bytes() == bid.read_bytes()


def test_intermediate_alone_is_no_anchor_for_another_root(sm2_pki, rsa_pki, bid, out_dir):
    signer, _ = _sub_ca_signer(sm2_pki)
    env = out_dir / "bid.gm"
    encrypt_file(bid, env, [sm2_pki.cert("sm2-bidder-enc")], signer=signer)
    message = _refused(env, sm2_pki.key("sm2-bidder-enc"), out_dir, "not trusted", trust=[rsa_pki.root])
    assert "NO_CERTIFICATE_CHAIN_FOUND" in message


# --- CLI ------------------------------------------------------------------------------------------------


def _run(capsys, *args):
    code = run(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_require_signed_signer_and_allow_unsigned(rsa_pki, bid, out_dir, capsys):
    ids = rsa_pki.ids
    unsigned, signed = out_dir / "u.p7m", out_dir / "s.p7m"
    assert _run(capsys, "bid", "encrypt", bid, "-o", unsigned, "--to", ids["bidder-enc"].cert_path)[0] == 0
    sign = ("--sign", ids["bidder-sign"].keyref, "--sign-cert", ids["bidder-sign"].cert_path)
    assert (
        _run(capsys, "bid", "encrypt", bid, "-o", signed, "--to", ids["bidder-enc"].cert_path, *sign)[0] == 0
    )
    opening = ("-o", out_dir / "p", "--key", ids["bidder-enc"].keyref, "--quiet")
    root = rsa_pki.pki.root.cert_path

    code, _, err = _run(capsys, "bid", "decrypt", unsigned, *opening, "--trust", root)
    assert code == 3 and err.count("\n") == 1 and "not signed" in err
    code, _, err = _run(capsys, "bid", "decrypt", unsigned, *opening, "--require-signed")
    assert code == 3 and "--require-signed" in err
    code, _, err = _run(
        capsys, "bid", "decrypt", signed, *opening, "--signer", ids["other-enc"].cert_path, "--trust", root
    )
    assert code == 3 and "not by an expected signer" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["s.p7m", "u.p7m"]

    code, out, err = _run(
        capsys, "bid", "decrypt", unsigned, *opening, "--trust", root, "--allow-unsigned", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["unsigned_allowed"] is True and result["signature_required"] is False
    assert result["signer"] is None and result["warnings"]
    code, out, err = _run(capsys, "bid", "decrypt", unsigned, *opening, "--trust", root, "--allow-unsigned")
    assert code == 0 and "NOT SIGNED (--allow-unsigned)" in out

    code, out, err = _run(
        capsys,
        "bid",
        "decrypt",
        signed,
        *opening,
        "--trust",
        root,
        "--signer",
        ids["other-enc"].cert_path,
        "--signer",
        ids["bidder-sign"].cert_path,
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["signature_required"] is True and result["unsigned_allowed"] is False
    assert result["signer"]["pinned"] and result["signer"]["trusted"]

    code, _, err = _run(capsys, "bid", "decrypt", unsigned, *opening, "--require-signed", "--allow-unsigned")
    assert code == 2 and "contradicts" in err


def test_repeated_message_digest_is_refused(rsa_pki, out_dir):
    """A SignedData whose signed attributes carry two messageDigest values (one matching, one for other
    content) is refused although the signature over them is valid; the honest twin opens."""
    import hashlib
    import os

    from asn1crypto import cms

    from tests.envelope.test_hostile_input import _signed_data_envelope

    content = os.urandom(200)
    signer = rsa_pki.key("bidder-sign")
    cert = signer.certificate()

    def signed_data(digests):
        attrs = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
                cms.CMSAttribute({"type": "message_digest", "values": digests}),
            ]
        )
        info = {
            "version": "v1",
            "sid": {"issuer_and_serial_number": {"issuer": cert.issuer, "serial_number": cert.serial_number}},
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attrs,
            "signature_algorithm": {"algorithm": "rsassa_pkcs1v15"},
            "signature": signer.sign(attrs.dump()),
        }
        return cms.ContentInfo(
            {
                "content_type": "signed_data",
                "content": {
                    "version": "v1",
                    "digest_algorithms": [{"algorithm": "sha256"}],
                    "encap_content_info": {"content_type": "data", "content": content},
                    "certificates": [cert],
                    "signer_infos": [info],
                },
            }
        ).dump()

    good = hashlib.sha256(content).digest()
    env = _signed_data_envelope(rsa_pki, out_dir, signed_data([good]))
    result = decrypt_file(env, out_dir / "p", rsa_pki.key("bidder-enc"), trust=[rsa_pki.root])
    assert result.signer.trusted and (out_dir / "p").read_bytes() == content
    (out_dir / "p").unlink()
    env = _signed_data_envelope(rsa_pki, out_dir, signed_data([good, hashlib.sha256(b"other").digest()]))
    _refused(env, rsa_pki.key("bidder-enc"), out_dir, "repeats a signed attribute", trust=[rsa_pki.root])
