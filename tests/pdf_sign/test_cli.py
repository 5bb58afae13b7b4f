"""The ``sealkit sign`` and ``sealkit prepare`` commands, run as a user runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.shared import ENCRYPTED_SAMPLE

from .conftest import pdfsig, sha256

SEALKIT = str(Path(sys.executable).parent / "sealkit")


def run(*args, cwd, env=None):
    return subprocess.run(
        [SEALKIT, *args], capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}
    )


def test_sign_with_config_defaults_writes_beside_the_input(contract, rsa_signer, tmp_path, nss_db):
    config = tmp_path / "sealkit.toml"
    config.write_text(
        f'[sign]\nkey = "{rsa_signer.keyref}"\ncert = "{rsa_signer.cert_path}"\n', encoding="utf-8"
    )
    before = sha256(contract)
    done = run(
        "sign", str(contract), "--invisible", "--json", cwd=tmp_path, env={"SEALKIT_CONFIG": str(config)}
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["output"].endswith("contract.signed.pdf")
    assert (
        pdfsig(tmp_path / "contract.signed.pdf", nss_db)[0]["Signature Validation"] == "Signature is Valid."
    )
    assert sha256(contract) == before


def test_prepare_then_sign_in_order_and_clear_errors(contract, rsa_signer, seal_png, tmp_path, nss_db):
    (tmp_path / "seal.png").write_bytes(seal_png)
    done = run(
        "prepare",
        str(contract),
        "-o",
        "p.pdf",
        "--field",
        "供应商@供应商（乙方）（盖章）：",
        "--field",
        "采购人@3:20,60,42,42",
        "--order",
        "供应商,采购人",
        "--unsealed",  # both sign with a seal picture here, no electronic seal
        "供应商",
        "--unsealed",
        "采购人",
        "--json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert [f["page"] for f in json.loads(done.stdout)["fields"]] == [3, 3]
    key = ["--key", rsa_signer.keyref, "--cert", str(rsa_signer.cert_path), "--seal-image", "seal.png"]
    out_of_turn = run("sign", "p.pdf", "-o", "x.pdf", "--field", "采购人", *key, cwd=tmp_path)
    assert out_of_turn.returncode == 9 and "signs after '供应商'" in out_of_turn.stderr
    assert "Traceback" not in out_of_turn.stderr and not (tmp_path / "x.pdf").exists()
    assert run("sign", "p.pdf", "-o", "s1.pdf", "--field", "供应商", *key, cwd=tmp_path).returncode == 0
    assert run("sign", "s1.pdf", "-o", "s2.pdf", "--field", "采购人", *key, cwd=tmp_path).returncode == 0
    verdicts = pdfsig(tmp_path / "s2.pdf", nss_db)
    assert [v["Signature Validation"] for v in verdicts] == ["Signature is Valid."] * 2
    missing = run("sign", str(contract), "-o", "m.pdf", "--at-text", "没有这段文字", *key, cwd=tmp_path)
    assert missing.returncode == 9 and "没有这段文字" in missing.stderr and not (tmp_path / "m.pdf").exists()


def test_encrypted_pdf_password_from_env_never_argv(rsa_signer, tmp_path):
    source = str(ENCRYPTED_SAMPLE)
    key = ["--key", rsa_signer.keyref, "--cert", str(rsa_signer.cert_path), "--invisible"]
    refused = run("sign", source, "-o", "e.pdf", *key, cwd=tmp_path, env={"CI": "1"})
    assert refused.returncode != 0 and "password" in refused.stderr.lower()
    assert not (tmp_path / "e.pdf").exists()
    done = run(
        "sign", source, "-o", "e.pdf", *key, cwd=tmp_path, env={"SEALKIT_PDF_PASSWORD": "openpassword"}
    )
    assert done.returncode == 0, done.stderr
    assert "openpassword" not in done.stdout + done.stderr
