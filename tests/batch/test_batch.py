"""``sealkit batch``: a manifest of contracts signed over processes, verified, and resumed after a stop by the
outputs' hashes (an output changed since is done again); one bad row fails alone."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sealkit.batch import read_manifest, run_batch
from sealkit.config import load_config
from sealkit.dev.pki import make_test_pki
from sealkit.dev.sample_contract import write_sample_contract
from sealkit.errors import InvalidInput

COUNT = 6


def sealkit(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sealkit_cli.main", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("batch")
    pki = make_test_pki(base / "pki", "sm2")
    signer = pki.issue("signer")
    contract = write_sample_contract(base / "template.pdf", pages=1)
    config = base / "sealkit.toml"
    config.write_text(
        f'home = "{base / "home"}"\n[trust]\nanchors = ["{pki.root.cert_path}"]\n'
        f'[sign]\nkey = "file:{signer.key_path}?cert={signer.cert_path}"\n',
        encoding="utf-8",
    )
    return {"base": base, "contract": contract, "config": config}


def make_batch(setup, name: str):
    folder = setup["base"] / name
    (folder / "in").mkdir(parents=True)
    (folder / "out").mkdir()
    lines = ["input,output,invisible,reason"]
    for i in range(COUNT):
        (folder / "in" / f"c{i}.pdf").write_bytes(setup["contract"].read_bytes())
        lines.append(f"in/c{i}.pdf,out/c{i}.pdf,true,合同{i}")
    manifest = folder / "sign.csv"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder, manifest


def test_batch_sign_then_verify_and_a_rerun_skips_everything(setup):
    folder, manifest = make_batch(setup, "all")
    config = str(setup["config"])
    result = sealkit("--config", config, "batch", "sign", str(manifest), "--jobs", "2", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["done"], summary["skipped"], summary["failed"]) == (COUNT, 0, 0)
    verify = folder / "verify.jsonl"
    verify.write_text(
        "".join(
            json.dumps({"input": f"out/c{i}.pdf", "output": f"out/c{i}.json"}) + "\n" for i in range(COUNT)
        ),
        encoding="utf-8",
    )
    result = sealkit("--config", config, "batch", "verify", str(verify), "--jobs", "2", "--json")
    assert result.returncode == 0, result.stderr
    assert [item["detail"] for item in json.loads(result.stdout)["items"]] == ["TOTAL-PASSED"] * COUNT
    report = json.loads((folder / "out" / "c0.json").read_text(encoding="utf-8"))
    assert report["indication"] == "TOTAL-PASSED"

    before = {p.name: p.stat().st_mtime_ns for p in (folder / "out").glob("*.pdf")}
    again = json.loads(sealkit("--config", config, "batch", "sign", str(manifest), "--json").stdout)
    assert (again["done"], again["skipped"]) == (0, COUNT)
    assert {p.name: p.stat().st_mtime_ns for p in (folder / "out").glob("*.pdf")} == before


def test_a_stopped_batch_finishes_the_rest_only_and_redoes_a_changed_output(setup):
    folder, manifest = make_batch(setup, "resume")
    config = load_config(setup["config"])
    items = read_manifest(manifest, "sign")
    journal = folder / "journal.jsonl"
    outcomes = run_batch("sign", items, config=config, journal=journal)
    first = [next(outcomes) for _ in range(3)]
    outcomes.close()  # stopped half-way, as a killed run would be
    assert [o.status for o in first] == ["done"] * 3
    assert len(journal.read_text().splitlines()) == 3

    # an output changed since it was done is not trusted: it is done again
    tampered = items[0].output
    tampered.write_bytes(tampered.read_bytes() + b"\n% changed\n")
    rest = list(run_batch("sign", items, config=config, jobs=2, journal=journal))
    status = {o.item.line: o.status for o in rest}
    assert sorted(status.values()) == ["done"] * 4 + ["skipped"] * 2
    assert status[items[0].line] == "done"
    assert all(o.item.output.is_file() for o in rest)


def test_a_bad_row_fails_alone(setup):
    folder, manifest = make_batch(setup, "bad")
    (folder / "in" / "c2.pdf").unlink()
    result = sealkit("--config", str(setup["config"]), "batch", "sign", str(manifest), "--json")
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert (summary["done"], summary["failed"]) == (COUNT - 1, 1)
    (failed,) = [item for item in summary["items"] if item["status"] == "failed"]
    assert failed["exit_code"] == 2 and "c2.pdf" in failed["detail"]
    assert not (folder / "out" / "c2.pdf").exists()


def test_a_manifest_with_an_unknown_column_is_refused(setup, tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("input,output,kye\na.pdf,b.pdf,x\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="unknown column kye"):
        read_manifest(manifest, "sign")
    result = sealkit("batch", "sign", str(manifest))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_batch_encrypt_signs_and_envelopes_every_bid_and_a_rerun_skips_them(setup, tmp_path):
    from sealkit.certs import load_certificate
    from sealkit.envelope import decrypt_file
    from sealkit.ukey import open_key

    pki = make_test_pki(setup["base"] / "pki", "sm2")  # the same TEST root as the signer's
    bidder, centre, platform = (
        pki.issue("bidder"),
        pki.issue("centre", "encrypt"),
        pki.issue("platform", "encrypt"),
    )
    (tmp_path / "bids").mkdir()
    rows = []
    for i in range(COUNT):
        (tmp_path / "bids" / f"b{i}.tar").write_bytes(f"bid {i} ".encode() * (1000 + i))
        row = {"input": f"bids/b{i}.tar", "to": [str(centre.cert_path)], "sign_cert": str(bidder.cert_path)}
        rows.append(json.dumps(row) + "\n")
    rows.append(json.dumps({"input": "bids/missing.tar", "to": str(centre.cert_path)}) + "\n")
    manifest = tmp_path / "encrypt.jsonl"
    manifest.write_text("".join(rows), encoding="utf-8")
    args = ["--config", str(setup["config"]), "batch", "encrypt", str(manifest), "--json", "--jobs", "2"]
    args += ["--key", bidder.keyref, "--to", str(platform.cert_path)]
    result = sealkit(*args)
    assert result.returncode == 1, result.stderr  # the missing bid fails alone
    summary = json.loads(result.stdout)
    assert (summary["done"], summary["failed"]) == (COUNT, 1)
    anchors = [load_certificate(pki.root.cert_path)]
    for recipient in (centre, platform):  # every envelope opens for the row's 'to' and for --to
        with open_key(recipient.keyref) as key:
            for i in range(COUNT):
                opened = tmp_path / f"opened-{recipient.name}-{i}.tar"
                decrypted = decrypt_file(tmp_path / "bids" / f"b{i}.tar.p7m", opened, key, trust=anchors)
                assert opened.read_bytes() == (tmp_path / "bids" / f"b{i}.tar").read_bytes()
                assert decrypted.signer is not None and decrypted.signer.trusted
    again = json.loads(sealkit(*args).stdout)
    assert (again["done"], again["skipped"], again["failed"]) == (0, COUNT, 1)
