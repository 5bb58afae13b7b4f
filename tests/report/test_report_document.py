"""`sealkit verify --report`: a signed report PDF a clerk can file, and an HTML page to read.

The report PDF's own signature must verify in sealkit and in poppler's pdfsig; its text must say the verdict
in both languages, who signed and the file's SHA-256, with times in Beijing time; a forged contract's report
must say it failed and why; hostile names from certificates must stay text in the HTML.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess

from sealkit.report import make_report, render_pdf
from sealkit.report.model import build_document

from .conftest import pdf_text, pdfsig, sealkit

SUPPLIER = "山东齐鲁示范科技有限公司"
PURCHASER = "济南市示范中学"


def test_signed_report_for_a_two_party_contract(world, tmp_path):
    out = tmp_path / "report.pdf"
    run = sealkit(world, "verify", str(world.contract), "--report", str(out), "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["indication"] == "TOTAL-PASSED"
    written = data["report"]
    assert written["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert written["signed"] is True and written["level"] == "B-T"  # the configured TSA stamped it
    assert "verifier" in written["signer"]

    # The report's own signature: sealkit (the verifier's RSA root is a configured anchor) and pdfsig (NSS).
    again = sealkit(world, "verify", str(out), "--json")
    assert again.returncode == 0, again.stdout + again.stderr
    (signature,) = json.loads(again.stdout)["signatures"]
    assert signature["coverage"] == "entire-file" and signature["proven_time"]
    (verdict,) = pdfsig(out, world.nss_db)
    assert verdict["Signature Validation"] == "Signature is Valid."
    assert verdict["Certificate Validation"] == "Certificate is Trusted."
    assert (
        "Total document signed" in subprocess.run(["pdfsig", str(out)], capture_output=True, text=True).stdout
    )

    text = pdf_text(out)
    flat = re.sub(r"\s+", "", text)
    assert "验证通过" in text and "Verification passed" in text
    assert SUPPLIER in text and PURCHASER in text
    assert "济南市示范中学合同专用章" in text  # the seal carried in the purchaser's signature
    assert "12370102MB0000042B" in flat  # the unit's USCC, from the seal
    assert hashlib.sha256(world.contract.read_bytes()).hexdigest() in flat
    assert "仅为签名者声称的时间" in text and "claimed time only, not proven" in text  # the demo has no TSA
    assert "sealkitDemoSM2RootCA" in flat  # the chain up to the root
    assert "第3页/page3" in flat  # the sealed page


def test_times_are_beijing_time(world, tmp_path):
    data = world.contract.read_bytes()
    report = _verify(world, data)
    document = build_document(report, data, thumbnails=False)
    assert document.verified_at.endswith("+08:00")
    assert all(s.signing_time.endswith("+08:00") for s in document.signatures)
    assert all(c.not_before.endswith("+08:00") for s in document.signatures for c in s.certificates)
    details = [detail for s in document.signatures for _, _, detail in s.checks]
    assert any("+08:00" in d for d in details)  # the verifier's UTC times in its check details, localised
    assert not [d for d in details if re.search(r"\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)", d)]
    text = pdf_text(_write(tmp_path / "r.pdf", render_pdf(document)))
    flat = re.sub(r"\s+", "", text)  # times may wrap at the end of a line
    stamps = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(.{6})", flat)
    assert len(stamps) > 5 and set(stamps) == {"+08:00"}, stamps


def test_timestamp_is_the_proof_of_time(world, tmp_path):
    out = tmp_path / "stamped.html"
    run = sealkit(world, "verify", str(world.stamped), "--report", str(out))
    assert run.returncode in (0, 4), run.stderr  # no revocation data for the test TSA: not the point here
    html = out.read_text(encoding="utf-8")
    assert "由时间戳证明" in html and "proven by a timestamp" in html
    assert "claimed time only" not in html
    assert "时间戳机构 / TSA" in html


def test_forged_contract_report_says_failed_and_why(world, tmp_path):
    data = bytearray(world.contract.read_bytes())
    where = data.index(b"/Producer")  # a byte inside the signed range of every signature
    data[where + 1 : where + 2] = b"Q"
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(bytes(data))
    out = tmp_path / "forged-report.pdf"
    run = sealkit(world, "verify", str(forged), "--report", str(out), "--json")
    assert run.returncode == 3, run.stderr  # TOTAL-FAILED, and the report is written all the same
    assert json.loads(run.stdout)["indication"] == "TOTAL-FAILED"
    text = pdf_text(out)
    assert "验证失败" in text and "Verification failed" in text
    assert "HASH_FAILURE" in text
    assert "文件在签名后被修改" in text  # the sub-indication in words
    assert "未通过的检查" in text  # the failed checks, next to the verdict
    assert "integrity: messageDigest does not match" in re.sub(r"\s+", " ", text)


def test_no_verifier_key_refuses_a_pdf_report_unless_asked_unsigned(world, tmp_path):
    config = tmp_path / "no-key.toml"
    text = world.config.read_text(encoding="utf-8")
    config.write_text(text.split("[report]")[0], encoding="utf-8")
    out = tmp_path / "r.pdf"
    run = sealkit(world, "verify", str(world.contract), "--report", str(out), SEALKIT_CONFIG=str(config))
    assert run.returncode != 0 and not out.exists()
    (line,) = run.stderr.strip().splitlines()
    assert "[report] key" in line and "--unsigned-report" in line
    assert "Traceback" not in run.stderr

    run = sealkit(
        world,
        "verify",
        str(world.contract),
        "--report",
        str(out),
        "--unsigned-report",
        "--json",
        SEALKIT_CONFIG=str(config),
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["report"]["signed"] is False
    assert "未签名" in pdf_text(out)
    assert "/ByteRange" not in out.read_bytes().decode("latin-1")


def test_report_never_overwrites_the_contract_and_needs_a_known_suffix(world, tmp_path):
    before = world.contract.read_bytes()
    run = sealkit(world, "verify", str(world.contract), "--report", str(world.contract))
    assert run.returncode != 0 and "refusing to write over the input" in run.stderr
    assert world.contract.read_bytes() == before
    run = sealkit(world, "verify", str(world.contract), "--report", str(tmp_path / "r.docx"))
    assert run.returncode != 0 and ".pdf or .html" in run.stderr
    assert not (tmp_path / "r.docx").exists()


def test_html_escapes_hostile_signer_names(world, tmp_path):
    from sealkit.dev.pki import make_test_pki
    from sealkit.flows import sign_contract

    pki = make_test_pki(tmp_path / "pki", "rsa")
    hostile = pki.issue(
        "<script>alert(1)</script>\u202egpj.exe", organization='"><img src=x onerror=alert(2)>'
    )
    signed = tmp_path / "hostile.pdf"
    from sealkit.dev.sample_contract import write_sample_contract

    sign_contract(
        write_sample_contract(tmp_path / "c.pdf", pages=1),
        signed,
        key=hostile.keyref,
        cert=hostile.cert_path,
        invisible=True,
    )
    data = signed.read_bytes()
    made = make_report(_verify(world, data), data, "html")
    html = made.data.decode("utf-8")
    assert "<script" not in html.lower() and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "onerror=alert(2)&gt;" in html
    assert "default-src 'none'" in html  # and no script could run anyway
    assert "\u202e" not in html and "\\u202egpj.exe" in html  # a bidi override is shown, not obeyed
    pdf = make_report(_verify(world, data), data, "pdf", unsigned=True).data
    text = pdf_text(_write(tmp_path / "hostile-report.pdf", pdf))
    assert "\u202e" not in text and "\\u202egpj.exe" in re.sub(r"\s+", "", text)


def _verify(world, data: bytes):
    from sealkit.config import load_config
    from sealkit.flows import verify_contract

    return verify_contract(data, config=load_config(world.config), name="contract.pdf")


def _write(path, data: bytes):
    path.write_bytes(data)
    return path
