"""GM/T 0010 envelopes as other implementations write them: GmSSL's .301.2 OID, CFCA's bare SM4 OID,
raw C1C3C2 / C1C2C3 SM2 ciphertexts (with and without the 04 prefix)."""

from __future__ import annotations

import pytest
from asn1crypto import cms, core

from sealkit import sm2
from sealkit.envelope import decrypt_file, encrypt_file
from sealkit.errors import DamagedEnvelope, NotARecipient


def _rewrite(env, change):
    info = cms.ContentInfo.load(env.read_bytes())
    change(info["content"])
    env.write_bytes(info.dump(force=True))


def _set_ciphertext_form(fmt):
    def change(enveloped):
        for recipient in enveloped["recipient_infos"]:
            ktri = recipient.chosen
            der = ktri["encrypted_key"].native
            raw = sm2.SM2Ciphertext.decode(der).encode(fmt)
            ktri["encrypted_key"] = raw

    return change


def _set_oid(path, oid):
    def change(enveloped):
        target = enveloped
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = oid

    return change


@pytest.mark.parametrize(
    "change",
    [
        _set_ciphertext_form(sm2.CiphertextFormat.C1C3C2),
        _set_ciphertext_form(sm2.CiphertextFormat.C1C2C3),
        _set_ciphertext_form(sm2.CiphertextFormat.C1C3C2_NO_PREFIX),
        _set_ciphertext_form(sm2.CiphertextFormat.C1C2C3_NO_PREFIX),
    ],
    ids=["c1c3c2", "c1c2c3", "c1c3c2-raw", "c1c2c3-raw"],
)
def test_raw_sm2_ciphertexts_are_read(sm2_pki, bid, out_dir, change):
    env = out_dir / "bid.gm"
    encrypt_file(bid, env, [sm2_pki.cert("sm2-bidder-enc")], signer=sm2_pki.key("sm2-bidder-sign"))
    _rewrite(env, change)
    decrypt_file(env, out_dir / "p", sm2_pki.key("sm2-bidder-enc"), trust=[sm2_pki.root])
    assert (out_dir / "p").read_bytes() == bid.read_bytes()


def _gmssl_key_oid(env):
    """GmSSL's 1.2.156.10197.1.301.2 (an alias asn1crypto would re-encode as .301.3: patch the bytes)."""
    canonical = core.ObjectIdentifier("1.2.156.10197.1.301.3").dump()
    gmssl = core.ObjectIdentifier("1.2.156.10197.1.301.2").dump()
    data = env.read_bytes()
    assert data.count(canonical) == 1
    env.write_bytes(data.replace(canonical, gmssl))


def _bare_sm4_oid(env):
    """CFCA's bare SM4 OID 1.2.156.10197.1.104 for SM4-CBC."""

    def change(enveloped):
        alg = enveloped["encrypted_content_info"]["content_encryption_algorithm"]
        alg["algorithm"] = "sm4"

    _rewrite(env, change)


@pytest.mark.parametrize("change", [_gmssl_key_oid, _bare_sm4_oid], ids=["sm2-301.2", "sm4-bare-104"])
def test_variant_oids_are_read(sm2_pki, bid, out_dir, change):
    env = out_dir / "bid.gm"
    encrypt_file(bid, env, [sm2_pki.cert("sm2-bidder-enc")], signer=sm2_pki.key("sm2-bidder-sign"))
    change(env)
    info = cms.ContentInfo.load(env.read_bytes())
    oids = (
        info["content"]["recipient_infos"][0].chosen["key_encryption_algorithm"]["algorithm"].dotted,
        info["content"]["encrypted_content_info"]["content_encryption_algorithm"]["algorithm"].dotted,
    )
    assert "1.2.156.10197.1.301.2" in oids or "1.2.156.10197.1.104" in oids
    decrypt_file(env, out_dir / "p", sm2_pki.key("sm2-bidder-enc"))
    assert (out_dir / "p").read_bytes() == bid.read_bytes()


def test_damaged_sm2_encrypted_key(sm2_pki, bid, out_dir):
    env = out_dir / "bid.gm"
    encrypt_file(bid, env, [sm2_pki.cert("sm2-bidder-enc")], signer=sm2_pki.key("sm2-bidder-sign"))

    def damage(enveloped):
        ktri = enveloped["recipient_infos"][0].chosen
        ct = sm2.SM2Ciphertext.decode(ktri["encrypted_key"].native)
        ktri["encrypted_key"] = sm2.SM2Ciphertext(ct.c1, ct.c3, bytes([ct.c2[0] ^ 1]) + ct.c2[1:]).encode()

    _rewrite(env, damage)
    with pytest.raises(DamagedEnvelope, match="encrypted key"):
        decrypt_file(env, out_dir / "p", sm2_pki.key("sm2-bidder-enc"))
    # Without a certificate to match, the key tries the recipient and finds it cannot open it.
    with pytest.raises(NotARecipient):
        decrypt_file(env, out_dir / "p", sm2_pki.key("sm2-bidder-enc", with_cert=False))
    assert sorted(p.name for p in out_dir.iterdir()) == ["bid.gm"]
