"""Each failure a new user met in their first hour (issue 12), now a one-line message that says what to do,
with its exit code, and nothing left behind."""

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from sealkit_cli.main import run

from sealkit import timefmt
from sealkit.dev.hierarchy import write_dev_pki
from sealkit.dev.sample_contract import SUPPLIER_BLOCK, blank_pdf, write_sample_contract
from sealkit.errors import NotYetOpen

UNIT_FORM = Path(__file__).resolve().parents[2] / "docs" / "examples" / "unit.toml"


@pytest.fixture(scope="module")
def devpki(tmp_path_factory):
    return write_dev_pki(tmp_path_factory.mktemp("msgpki") / "testpki")


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEALKIT_HOME", str(tmp_path / "home"))
    for name in ("SEALKIT_CONFIG", "SEALKIT_PDF_PASSWORD", "SEALKIT_PIN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def one_line(capsys, code, expected, *needles):
    err = capsys.readouterr().err.strip().splitlines()
    assert code == expected, err
    assert len(err) == 1 and err[0].startswith("sealkit: "), err
    for needle in needles:
        assert needle in err[0], err
    assert "Traceback" not in err[0] and "<_io." not in err[0]
    return err[0]


def files(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def signed(devpki, path: Path) -> Path:
    path.with_suffix(".in.pdf").write_bytes(blank_pdf())
    key = f"file:{devpki.bundle('supplier')}"
    assert run(["sign", str(path.with_suffix(".in.pdf")), "-o", str(path), "--key", key, "--invisible"]) == 0
    return path


# --- 4: file -o filings/, the report header ---


def test_file_creates_the_output_directory_and_names_the_file(work, devpki, capsys):
    pdf = signed(devpki, work / "signed.pdf")
    capsys.readouterr()
    anchors = ["--trust", str(devpki.trust_anchors), "--allow-unsealed"]  # signed invisibly, without a seal
    assert run(["file", str(pdf), "-o", "filings/2026", *anchors, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (work / "filings" / "2026" / "signed.filing.json").is_file()
    assert out["file"]["name"] == "signed.pdf" if "file" in out else out["filing_record"].endswith(".json")


def test_file_report_header_shows_the_file_name_not_bytes(work, devpki, capsys):
    pdf = work / "unsigned.pdf"
    pdf.write_bytes(blank_pdf())
    code = run(["file", str(pdf), "-o", "filings", "--trust", str(devpki.trust_anchors)])
    out = capsys.readouterr().out
    assert code == 4 and out.startswith("unsigned.pdf") and "<bytes>" not in out
    assert not (work / "filings").exists()


def test_file_into_a_file_is_one_line(work, devpki, capsys):
    pdf = signed(devpki, work / "signed.pdf")
    (work / "filings").write_text("not a directory")
    capsys.readouterr()
    code = run(["file", str(pdf), "-o", "filings", "--trust", str(devpki.trust_anchors), "--allow-unsealed"])
    one_line(capsys, code, 2, "filings", "directory")


# --- 5: passwords and permissions ---


def _encrypted(source: Path, dest: Path, *, user: bytes, form_filling: bool) -> Path:
    from pyhanko.pdf_utils.crypt.permissions import StandardPermissions as P
    from pyhanko.pdf_utils.crypt.standard import StandardSecurityHandler
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(source.read_bytes())))
    perms = P.ALLOW_PRINTING | P.ALLOW_CONTENT_EXTRACTION
    if form_filling:
        perms |= P.ALLOW_FORM_FILLING
    writer._assign_security_handler(StandardSecurityHandler.build_from_pw(b"owner-secret", user, perms=perms))
    out = io.BytesIO()
    writer.write(out)
    dest.write_bytes(out.getvalue())
    return dest


def test_a_password_protected_pdf_names_the_right_variable(work, devpki, capsys):
    (work / "c.pdf").write_bytes(blank_pdf())
    pdf = _encrypted(work / "c.pdf", work / "locked.pdf", user=b"user-pw", form_filling=True)
    before = files(work)
    code = run(
        ["sign", str(pdf), "-o", "out.pdf", "--key", f"file:{devpki.bundle('supplier')}", "--invisible"]
    )
    line = one_line(capsys, code, 9, "SEALKIT_PDF_PASSWORD")
    assert "SEALKIT_PIN" not in line
    assert files(work) == before


def test_an_empty_user_password_pdf_that_allows_form_filling_is_signed(work, devpki, capsys, monkeypatch):
    (work / "c.pdf").write_bytes(blank_pdf())
    pdf = _encrypted(work / "c.pdf", work / "gov.pdf", user=b"", form_filling=True)
    key = f"file:{devpki.bundle('supplier')}"
    assert run(["sign", str(pdf), "-o", "signed.pdf", "--key", key, "--invisible"]) == 0
    assert run(["verify", "signed.pdf", "--trust", str(devpki.trust_anchors)]) == 0


def test_an_empty_user_password_pdf_that_forbids_form_filling_is_refused_with_the_reason(
    work, devpki, capsys
):
    (work / "c.pdf").write_bytes(blank_pdf())
    pdf = _encrypted(work / "c.pdf", work / "gov.pdf", user=b"", form_filling=False)
    before = files(work)
    code = run(
        ["sign", str(pdf), "-o", "signed.pdf", "--key", f"file:{devpki.bundle('supplier')}", "--invisible"]
    )
    one_line(capsys, code, 9, "permissions forbid filling in forms", "owner password")
    assert files(work) == before


# --- 6: things given in the wrong place ---


def test_a_pdf_given_as_seal_image(work, devpki, capsys):
    (work / "contract.pdf").write_bytes(blank_pdf())
    key = f"file:{devpki.bundle('supplier')}"
    image = ["--seal-image", "contract.pdf", "--page", "1", "--rect", "10,10,40,40"]
    code = run(["sign", "contract.pdf", "-o", "o.pdf", "--key", key, *image])
    one_line(capsys, code, 2, "contract.pdf is not a PNG or JPEG image", "--seal-image")
    assert not (work / "o.pdf").exists()


def test_a_png_given_as_certificate(work, devpki, capsys):
    from PIL import Image

    Image.new("RGB", (8, 8), "red").save(work / "seal.png")
    (work / "c.pdf").write_bytes(blank_pdf())
    key = f"file:{devpki.identities['supplier'].key_path}"
    code = run(["sign", "c.pdf", "-o", "o.pdf", "--key", key, "--cert", "seal.png", "--invisible"])
    one_line(capsys, code, 2, "seal.png is not an X.509 certificate", "give the certificate file")
    assert not (work / "o.pdf").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "{dir}"],
        ["verify", "missing.pdf"],
        ["bid", "encrypt", "{dir}", "-o", "b.p7m", "--to", "{cert}"],
        ["bid", "encrypt", "missing.zip", "-o", "b.p7m", "--to", "{cert}"],
        ["bid", "encrypt", "{file}", "-o", "b.p7m", "--to", "{dir}"],
    ],
)
def test_a_directory_or_missing_file_is_one_line_with_exit_2(work, devpki, capsys, args):
    (work / "d").mkdir()
    (work / "bid.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    values = {"dir": str(work / "d"), "cert": str(devpki.certificate("bidder-enc")), "file": "bid.zip"}
    before = files(work)
    code = run([a.format(**values) for a in args])
    line = one_line(capsys, code, 2)
    assert "directory" in line or "does not exist" in line or "cannot read" in line
    assert "Usage:" not in line
    assert files(work) == before


def test_click_usage_errors_are_one_line(work, capsys):
    one_line(capsys, run(["sign"]), 2, "Missing argument", "sealkit sign --help")
    one_line(capsys, run(["verify", "x.pdf", "--no-such-option"]), 2, "--no-such-option")


def test_verify_of_an_unsigned_pdf_says_so_in_words(work, capsys):
    (work / "plain.pdf").write_bytes(blank_pdf())
    code = run(["verify", "plain.pdf"])
    captured = capsys.readouterr()
    assert code == 4
    assert "the PDF has no signatures" in captured.out
    assert captured.err.strip() == "sealkit: plain.pdf has no signatures: nothing to verify (sign it first)"


# --- 7: configuration, placement ---


def test_a_misspelt_config_key_names_the_closest_valid_key(work, capsys):
    (work / "sealkit.toml").write_text('[sign]\nkye = "keystore:x"\n', encoding="utf-8")
    (work / "c.pdf").write_bytes(blank_pdf())
    code = run(["sign", "c.pdf", "-o", "o.pdf"])
    one_line(capsys, code, 11, "unknown key 'kye' in [sign]", "did you mean 'key'?", "sealkit.toml")
    (work / "sealkit.toml").write_text('[tsaa]\nurl = "http://x/"\n', encoding="utf-8")
    one_line(capsys, run(["sign", "c.pdf", "-o", "o.pdf"]), 11, "'tsaa'", "did you mean 'tsa'?")
    assert not (work / "o.pdf").exists()


def test_a_rect_off_the_page_is_refused(work, devpki, capsys):
    from sealkit.seal import render_seal

    render_seal("contract", "某某信息技术有限公司", serial="3701020000001").save(work / "seal.png")
    write_sample_contract(work / "contract.pdf", pages=1)
    key = f"file:{devpki.bundle('supplier')}"
    image = ["--seal-image", "seal.png", "--page", "1", "--rect", "190,10,40,40"]
    code = run(["sign", "contract.pdf", "-o", "o.pdf", "--key", key, *image])
    one_line(capsys, code, 2, "190,10,40,40", "does not fit on page 1", "x+w <= 210")
    assert not (work / "o.pdf").exists()


def test_a_seal_over_an_existing_seal_is_a_warning(work, devpki, capsys):
    from sealkit.seal import render_seal

    render_seal("contract", "某某信息技术有限公司", serial="3701020000001").save(work / "seal.png")
    write_sample_contract(work / "contract.pdf", pages=1)
    place = ["--seal-image", "seal.png", "--at-text", SUPPLIER_BLOCK]
    assert (
        run(["sign", "contract.pdf", "-o", "one.pdf", "--key", f"file:{devpki.bundle('supplier')}", *place])
        == 0
    )
    capsys.readouterr()
    assert (
        run(["sign", "one.pdf", "-o", "two.pdf", "--key", f"file:{devpki.bundle('purchaser')}", *place]) == 0
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        "sealkit: warning: the seal on page 1 overlaps the seal of field"
    )


# --- 8: times are Beijing time ---


def test_a_time_without_zone_is_beijing_time():
    moment = timefmt.parse_time("2026-12-01T09:30", what="--not-before")
    assert moment.astimezone(dt.UTC) == dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)
    assert timefmt.format_time(moment) == "2026-12-01T09:30:00+08:00"
    assert timefmt.parse_time("2026-12-01T09:30Z").hour == 9  # an explicit zone is kept
    with pytest.raises(Exception, match="2026-12-01T09:30"):
        timefmt.parse_time("1 Dec 2026")


def test_bid_opening_time_without_zone_is_beijing_time_and_printed_with_offset():
    from sealkit.envelope.reader import check_opening_time

    tomorrow = (dt.datetime.now(timefmt.BEIJING) + dt.timedelta(days=1)).replace(tzinfo=None, microsecond=0)
    with pytest.raises(NotYetOpen) as caught:
        check_opening_time(tomorrow, force=False)
    assert f"bids open at {tomorrow.isoformat()}+08:00" in caught.value.message


def test_the_time_zone_is_configurable(work, capsys):
    from sealkit import load_config

    (work / "sealkit.toml").write_text('[time]\nzone = "UTC"\n', encoding="utf-8")
    zone = load_config("sealkit.toml").time_zone
    try:
        timefmt.use_zone(zone)
        assert timefmt.parse_time("2026-12-01T09:30").utcoffset() == dt.timedelta(0)
        assert timefmt.format_time(dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC)).endswith("01:30:00+00:00")
    finally:
        timefmt.use_zone(None)
    (work / "sealkit.toml").write_text('[time]\nzone = "Mars/Olympus"\n', encoding="utf-8")
    (work / "b.p7m").write_bytes(b"x")
    args = [
        "bid",
        "decrypt",
        "b.p7m",
        "-o",
        "b.zip",
        "--key",
        "file:none.pem",
        "--not-before",
        "2026-12-01T09:30",
    ]
    one_line(capsys, run(args), 11, "Mars/Olympus", "+08:00")
    assert not (work / "b.zip").exists()


# --- seals: audit verifies by default; --expiring leaves revoked seals out ---


def test_seal_audit_verifies_by_default_and_expiring_excludes_revoked(work, devpki, capsys, monkeypatch):
    monkeypatch.setenv("SEALKIT_REGISTRY", f"sqlite:///{work / 'reg.sqlite3'}")
    issue = ["seal", "issue", "--form", str(UNIT_FORM), "--kind", "contract", "--holder-cert",
             str(devpki.certificate("purchaser")), "--maker", f"file:{devpki.bundle('seal-authority')}",
             "--maker-cert", str(devpki.certificate("seal-authority")), "--valid-until",
             (dt.date.today() + dt.timedelta(days=10)).isoformat(), "--json",
             "--seal-maker-trust", str(devpki.certificate("sm2-root")),
             "--allow-foreign-holder", "test: the dev PKI's purchaser is not of the form's unit"]  # fmt: skip
    assert run(issue) == 0
    first = json.loads(capsys.readouterr().out)["es_id"]
    assert run(issue[:5] + ["official"] + issue[6:]) == 0
    second = json.loads(capsys.readouterr().out)["es_id"]
    assert run(["seal", "revoke", first, "--reason", "other"]) == 0
    capsys.readouterr()
    assert run(["seal", "list", "--expiring", "30d", "--json"]) == 0
    listed = [s["es_id"] for s in json.loads(capsys.readouterr().out)["seals"]]
    assert listed == [second]
    assert run(["seal", "audit"]) == 0
    assert "audit chain OK" in capsys.readouterr().out
    assert run(["seal", "audit", "--verify"]) == 0
