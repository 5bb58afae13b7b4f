"""`sealkit bid encrypt / decrypt / info` end to end (real keys through sealkit.ukey.open_key)."""

from __future__ import annotations

import json

from sealkit_cli.main import run


def _run(capsys, *args):
    code = run(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def test_encrypt_info_decrypt_json(rsa_pki, bid, out_dir, capsys):
    ids = rsa_pki.ids
    env = out_dir / "bid.p7m"
    code, out, err = _run(
        capsys,
        "bid",
        "encrypt",
        bid,
        "-o",
        env,
        "--to",
        ids["bidder-enc"].cert_path,
        "--to",
        ids["platform-backup"].cert_path,
        "--sign",
        ids["bidder-sign"].keyref,
        "--sign-cert",
        ids["bidder-sign"].cert_path,
        "--cipher",
        "sm4-cbc",
        "--json",
    )
    assert code == 0, err
    made = json.loads(out)
    assert made["content_cipher"] == "sm4-cbc" and made["signed"] and len(made["recipients"]) == 2

    code, out, _ = _run(capsys, "bid", "info", env, "--json")
    assert code == 0 and json.loads(out)["recipients"] == made["recipients"]

    plain = out_dir / "opened.pdf"
    keyref = f"{ids['platform-backup'].keyref}?cert={ids['platform-backup'].cert_path}"
    code, out, err = _run(
        capsys,
        "bid",
        "decrypt",
        env,
        "-o",
        plain,
        "--key",
        keyref,
        "--trust",
        rsa_pki.pki.root.cert_path,
        "--json",
        "--quiet",
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["signer"]["trusted"] and plain.read_bytes() == bid.read_bytes()
    assert result["recipient"]["serial"] == f"0x{rsa_pki.cert('platform-backup').serial_number:x}"


def test_cli_errors_are_one_line_with_exit_codes(rsa_pki, bid, out_dir, capsys):
    ids = rsa_pki.ids
    env = out_dir / "bid.p7m"
    assert _run(capsys, "bid", "encrypt", bid, "-o", env, "--to", ids["bidder-enc"].cert_path)[0] == 0

    code, out, err = _run(
        capsys, "bid", "decrypt", env, "-o", out_dir / "p", "--key", ids["other-enc"].keyref
    )
    assert code == 8 and err.startswith("sealkit: ") and err.count("\n") == 1 and "not a recipient" in err

    code, out, err = _run(
        capsys,
        "bid",
        "decrypt",
        env,
        "-o",
        out_dir / "p",
        "--key",
        ids["bidder-enc"].keyref,
        "--not-before",
        "2999-01-01T09:30+08:00",
        "--json",
    )
    assert code == 8 and json.loads(out)["error"]["type"] == "NotYetOpen"

    code, out, err = _run(
        capsys,
        "bid",
        "decrypt",
        env,
        "-o",
        out_dir / "p",
        "--key",
        ids["bidder-enc"].keyref,
        "--not-before",
        "2999-01-01T09:30+08:00",
        "--force",
    )
    assert code == 0 and (out_dir / "p").read_bytes() == bid.read_bytes()

    code, _, err = _run(capsys, "bid", "info", bid)
    assert code == 8 and "not a CMS file" in err

    code, _, err = _run(capsys, "bid", "encrypt", bid, "-o", out_dir / "x", "--to", bid)
    assert code == 2 and "is not an X.509 certificate" in err

    code, _, err = _run(
        capsys,
        "bid",
        "decrypt",
        env,
        "-o",
        out_dir / "q",
        "--key",
        ids["bidder-enc"].keyref,
        "--not-before",
        "tomorrow",
    )
    assert code == 2 and "ISO 8601" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["bid.p7m", "p"]
