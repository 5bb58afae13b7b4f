"""The custody commands as a user runs them: grant, sign --seal (refused without a live grant, exit 13, no
file), seal uses (--json, --csv, --since), verify --registry showing the register entry and the grant."""

import csv
import io
import json
import subprocess
import sys

from sealkit.errors import GrantRefused
from sealkit.exit_codes import EXIT_CODES

from .custody_helpers import UNTIL, make_world


def sealkit(*args):
    return subprocess.run([sys.executable, "-m", "sealkit_cli.main", *args], capture_output=True, text=True)


def test_grant_sign_uses_verify(tmp_path, pki, form, maker):
    world = make_world(f"sqlite:///{tmp_path / 'registry.sqlite3'}", tmp_path, pki, form, maker)
    holder = pki["holder"]
    reg = ["--registry", world.url]

    def sign(out, *extra):
        return sealkit(
            "sign", str(world.contract), "-o", str(out), "--key", holder.keyref,
            "--cert", str(holder.cert_path), "--seal", world.seal_id, "--page", "1", "--rect", "120,40,40,40",
            "--json", *reg, *extra,
        )  # fmt: skip

    made = sealkit(
        "seal", "grant", world.seal_id, "--to", str(holder.cert_path), "--until", UNTIL.isoformat(),
        "--purpose", "bid", "--max-uses", "1", "--json", *reg,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    grant_id = json.loads(made.stdout)["grant_id"]

    refused = sign(tmp_path / "contract.signed.pdf")  # the grant is for bids
    assert refused.returncode == EXIT_CODES[GrantRefused] == 13
    assert "is for bid, not contract" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "contract.signed.pdf").exists()

    signed = sign(tmp_path / "bid.signed.pdf", "--purpose", "bid", "--actor", "clerk-li")
    assert signed.returncode == 0, signed.stderr
    assert json.loads(signed.stdout)["grant"] == grant_id
    assert sign(tmp_path / "again.pdf", "--purpose", "bid").returncode == 13  # used up

    uses = json.loads(sealkit("seal", "uses", world.seal_id, "--json", *reg).stdout)["uses"]
    assert [(u["status"], u["actor"], u["purpose"], u["document"]) for u in uses] == [
        ("done", "clerk-li", "bid", "bid.signed.pdf")
    ]
    table = sealkit("seal", "uses", world.seal_id, "--csv", *reg).stdout
    rows = list(csv.DictReader(io.StringIO(table.lstrip("\ufeff"))))
    assert rows[0]["sha256"] == uses[0]["sha256"] and rows[0]["grant"] == grant_id
    assert (
        json.loads(sealkit("seal", "uses", world.seal_id, "--since", "2999-01-01", "--json", *reg).stdout)[
            "uses"
        ]
        == []
    )
    listed = sealkit("seal", "grants", world.seal_id, *reg)
    assert grant_id in listed.stdout and "1/1 uses" in listed.stdout

    verified = sealkit(
        "verify", str(tmp_path / "bid.signed.pdf"), "--trust", str(pki["ca"].root.cert_path),
        "--seal-maker-trust", str(pki["maker_ca"].root.cert_path), *reg,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"✓ seal-custody: register entry {uses[0]['use_id']}" in verified.stdout
    assert f"signer held grant {grant_id}" in verified.stdout

    withdrawn = sealkit("seal", "withdraw", grant_id, "--note", "left", *reg)
    assert withdrawn.returncode == 0 and "withdrawn" in withdrawn.stdout
