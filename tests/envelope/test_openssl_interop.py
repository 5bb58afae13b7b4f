"""Interoperability with `openssl cms`, both ways (OpenSSL 3.0 CLI)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from sealkit.envelope import decrypt_file, encrypt_file, inspect

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


def openssl(*args):
    run = subprocess.run(["openssl", *map(str, args)], capture_output=True)
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    return run


@pytest.mark.parametrize("cipher", ["aes-256-cbc", "aes-256-gcm", "sm4-cbc"])
def test_openssl_decrypts_sealkit(rsa_pki, bid, out_dir, cipher):
    env = out_dir / "bid.p7m"
    encrypt_file(bid, env, [rsa_pki.cert("bidder-enc")], content_cipher=cipher, allow_unsigned=True)
    ident = rsa_pki.ids["bidder-enc"]
    openssl(
        "cms",
        "-decrypt",
        "-inform",
        "DER",
        "-in",
        env,
        "-recip",
        ident.cert_path,
        "-inkey",
        ident.key_path,
        "-out",
        out_dir / "plain",
    )
    assert (out_dir / "plain").read_bytes() == bid.read_bytes()


def test_openssl_decrypts_and_verifies_a_signed_sealkit_bid(rsa_pki, bid, out_dir):
    env = out_dir / "bid.p7m"
    encrypt_file(
        bid,
        env,
        [rsa_pki.cert("bidder-enc")],
        signer=rsa_pki.key("bidder-sign"),
        content_cipher="aes-256-cbc",
    )
    ident = rsa_pki.ids["bidder-enc"]
    openssl(
        "cms",
        "-decrypt",
        "-inform",
        "DER",
        "-in",
        env,
        "-recip",
        ident.cert_path,
        "-inkey",
        ident.key_path,
        "-out",
        out_dir / "signed.der",
    )
    openssl(
        "cms",
        "-verify",
        "-inform",
        "DER",
        "-in",
        out_dir / "signed.der",
        "-binary",
        "-CAfile",
        rsa_pki.pki.root.cert_path,
        "-purpose",
        "any",
        "-out",
        out_dir / "plain",
    )
    assert (out_dir / "plain").read_bytes() == bid.read_bytes()


OAEP = ["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256"]


@pytest.mark.parametrize(
    ("options", "keyopts"),
    [
        (["-aes256"], OAEP),
        (["-aes-256-gcm"], OAEP),
        (["-aes256"], []),  # PKCS#1 v1.5 key transport
        (["-aes256", "-stream"], OAEP),  # BER: indefinite lengths, constructed OCTET STRING
        (["-aes-128-gcm", "-stream"], []),
        (["-aes256", "-keyid"], []),  # recipient by subjectKeyIdentifier
    ],
    ids=["cbc-oaep", "gcm-oaep", "cbc-pkcs1", "cbc-ber-stream", "gcm128-ber-stream", "cbc-ski"],
)
def test_sealkit_decrypts_openssl(rsa_pki, bid, out_dir, options, keyopts):
    env = out_dir / "bid.p7m"
    recips = []
    for name in ("bidder-enc", "platform-backup"):
        recips += ["-recip", rsa_pki.ids[name].cert_path, *keyopts]
    openssl("cms", "-encrypt", "-binary", "-outform", "DER", *options, "-in", bid, "-out", env, *recips)
    recipients = inspect(env).recipients
    assert len(recipients) == 2
    expected = "rsaes-oaep(sha256)" if keyopts else "rsaes-pkcs1v15"
    assert {r.key_algorithm for r in recipients} == {expected}
    for name in ("bidder-enc", "platform-backup"):
        decrypt_file(env, out_dir / name, rsa_pki.key(name), allow_unsigned=True)
        assert (out_dir / name).read_bytes() == bid.read_bytes()


def test_sealkit_verifies_an_openssl_signed_then_encrypted_bid(rsa_pki, bid, out_dir):
    """openssl cms -sign | openssl cms -encrypt, with the inner type set to signedData as sealkit writes."""
    signer = rsa_pki.ids["bidder-sign"]
    openssl(
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-outform",
        "DER",
        "-in",
        bid,
        "-out",
        out_dir / "s.der",
        "-signer",
        signer.cert_path,
        "-inkey",
        signer.key_path,
        "-md",
        "sha256",
    )
    env = out_dir / "bid.p7m"
    encrypt_file(out_dir / "s.der", out_dir / "plain-data.p7m", [rsa_pki.cert("bidder-enc")])
    # Re-label the inner content type as signedData (what sealkit writes for a signed bid).
    from asn1crypto import cms

    info = cms.ContentInfo.load((out_dir / "plain-data.p7m").read_bytes())
    info["content"]["auth_encrypted_content_info"]["content_type"] = "signed_data"
    env.write_bytes(info.dump(force=True))
    # The GCM tag does not cover the content type, so the file still opens, and verifies.
    result = decrypt_file(env, out_dir / "plain", rsa_pki.key("bidder-enc"), trust=[rsa_pki.root])
    assert (out_dir / "plain").read_bytes() == bid.read_bytes()
    assert result.signer.trusted and "bidder-sign" in result.signer.subject


@pytest.mark.parametrize(
    ("keyopts", "label"),
    [
        ([], "rsaes-oaep(sha1)"),  # what `-keyopt rsa_padding_mode:oaep` alone writes: RFC 8017 defaults
        (["rsa_oaep_md:sha384", "rsa_mgf1_md:sha384"], "rsaes-oaep(sha384)"),
        (["rsa_oaep_md:sha512", "rsa_mgf1_md:sha512"], "rsaes-oaep(sha512)"),
        (["rsa_oaep_md:sha256", "rsa_mgf1_md:sha1"], "rsaes-oaep(sha256, mgf1-sha1)"),  # Java's default
    ],
    ids=["sha1-default", "sha384", "sha512", "sha256-mgf1-sha1"],
)
def test_openssl_oaep_variants_open_with_a_file_key(rsa_pki, bid, out_dir, capsys, keyopts, label):
    """Issue 12, item 10: OpenSSL's default OAEP (SHA-1) said "digest 'sha1' is not supported here" with a
    file key. Opened through the CLI, so the key is the real file key of sealkit.ukey."""
    from sealkit_cli.main import run

    ident = rsa_pki.ids["bidder-enc"]
    env = out_dir / "bid.p7m"
    options = ["-keyopt", "rsa_padding_mode:oaep"] + [a for o in keyopts for a in ("-keyopt", o)]
    openssl(
        "cms", "-encrypt", "-binary", "-outform", "DER", "-aes-256-gcm", "-in", bid, "-out", env,
        "-recip", ident.cert_path, *options,
    )  # fmt: skip
    assert [r.key_algorithm for r in inspect(env).recipients] == [label]
    code = run(["bid", "decrypt", str(env), "-o", str(out_dir / "p"), "--key", ident.keyref, "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert (out_dir / "p").read_bytes() == bid.read_bytes()


def test_pkcs1v15_key_transport_from_the_cli(rsa_pki, bid, out_dir, capsys):
    """--rsa-padding pkcs1v15 for UKeys without OAEP; OpenSSL opens it."""
    from sealkit_cli.main import run

    ident = rsa_pki.ids["bidder-enc"]
    env = out_dir / "bid.p7m"
    code = run(
        [
            "bid",
            "encrypt",
            str(bid),
            "-o",
            str(env),
            "--to",
            str(ident.cert_path),
            "--rsa-padding",
            "pkcs1v15",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert [r.key_algorithm for r in inspect(env).recipients] == ["rsaes-pkcs1v15"]
    openssl(
        "cms", "-decrypt", "-inform", "DER", "-in", env, "-recip", ident.cert_path, "-inkey", ident.key_path,
        "-out", out_dir / "plain",
    )  # fmt: skip
    assert (out_dir / "plain").read_bytes() == bid.read_bytes()
