"""A batch of contracts killed half-way (SIGKILL to the whole process group: the CLI, the fork server and the
workers) and run again: the rerun does only the rest — the documents the journal had are skipped, not
signed again — no half-written output is ever visible, and every output verifies.

The suite runs it with 24 contracts; the issue's demonstration is 200:
``SEALKIT_BATCH_KILL_N=200 pytest tests/batch/test_kill_and_rerun.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

from pyhanko.pdf_utils.reader import PdfFileReader

from sealkit.dev.pki import make_test_pki
from sealkit.dev.sample_contract import write_sample_contract

COUNT = int(os.environ.get("SEALKIT_BATCH_KILL_N", "24"))


def sealkit(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sealkit_cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def journal_lines(path) -> list[dict]:
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # a line torn by the kill
            entries.append(json.loads(line))
    return entries


def test_a_batch_killed_half_way_finishes_only_the_rest_and_every_output_verifies(tmp_path):
    pki = make_test_pki(tmp_path / "pki", "sm2")
    signer = pki.issue("signer")
    template = write_sample_contract(tmp_path / "template.pdf", pages=1).read_bytes()
    config = tmp_path / "sealkit.toml"
    config.write_text(
        f'home = "{tmp_path / "home"}"\n[trust]\nanchors = ["{pki.root.cert_path}"]\n'
        f'[sign]\nkey = "file:{signer.key_path}?cert={signer.cert_path}"\n',
        encoding="utf-8",
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    rows = ["input,output,invisible,reason"]
    for i in range(COUNT):
        (tmp_path / "in" / f"c{i:03}.pdf").write_bytes(template)
        rows.append(f"in/c{i:03}.pdf,out/c{i:03}.pdf,true,合同{i}")
    manifest = tmp_path / "sign.csv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    journal = tmp_path / "sign.csv.journal.jsonl"
    command = ("--config", str(config), "batch", "sign", str(manifest), "--jobs", "2", "--json")

    # 1. start, and kill everything with SIGKILL once half of the contracts are in the journal
    first = sealkit(*command, start_new_session=True)
    deadline = time.monotonic() + 600
    while len(journal_lines(journal)) < COUNT // 2:
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the batch made no progress"
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate()
    time.sleep(0.5)  # let the killed workers go
    assert first.returncode == -signal.SIGKILL

    recorded = {entry["output"]: entry["sha256"] for entry in journal_lines(journal)}
    assert COUNT // 2 <= len(recorded) < COUNT, "killed before the end"
    # no output is half-written: every file under an output's name is a whole PDF (temporary files are
    # .NAME.*.part, never the output's name)
    outputs = sorted((tmp_path / "out").glob("c*.pdf"))
    for path in outputs:
        with path.open("rb") as handle:
            reader = PdfFileReader(handle, strict=True)
            assert reader.root["/Pages"]["/Count"] == 1
            assert len(reader.embedded_signatures) == 1
        assert path.read_bytes().rstrip().endswith(b"%%EOF")
    kept = {str(p.resolve()): (p.stat().st_ino, p.stat().st_mtime_ns) for p in outputs}

    # 2. run again: the journal's documents are skipped, the rest done
    second = sealkit(*command)
    out, err = second.communicate(timeout=900)
    assert second.returncode == 0, err
    summary = json.loads(out)
    assert (summary["skipped"], summary["done"], summary["failed"]) == (
        len(recorded),
        COUNT - len(recorded),
        0,
    )
    print(
        f"killed with {len(recorded)} of {COUNT} in the journal; "
        f"the rerun skipped {summary['skipped']}, did {summary['done']}"
    )
    skipped = {os.path.basename(item["output"]) for item in summary["items"] if item["status"] == "skipped"}
    assert skipped == {os.path.basename(output) for output in recorded}
    for output in recorded:  # not signed again: the same file, untouched
        path = os.path.realpath(output)
        assert (os.stat(path).st_ino, os.stat(path).st_mtime_ns) == kept[path]
    assert not list((tmp_path / "out").glob(".*.part")), "a killed run's temporary files were left"

    # 3. every one of the contracts verifies
    verify = tmp_path / "verify.jsonl"
    verify.write_text(
        "".join(
            json.dumps({"input": f"out/c{i:03}.pdf", "output": f"out/c{i:03}.json"}) + "\n"
            for i in range(COUNT)
        ),
        encoding="utf-8",
    )
    check = sealkit("--config", str(config), "batch", "verify", str(verify), "--jobs", "2", "--json")
    out, err = check.communicate(timeout=900)
    assert check.returncode == 0, err
    indications = [item["detail"] for item in json.loads(out)["items"]]
    assert indications == ["TOTAL-PASSED"] * COUNT
