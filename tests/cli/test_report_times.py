"""Every time a verification report prints carries its offset: Beijing time (+08:00) unless ``[time] zone``
says otherwise (issue 12). Checked on the demo's contract (a registry seal), its OFD and its bid envelope,
in the human text and in the JSON, for ``verify`` (PDF and OFD), ``file`` and ``bid decrypt``."""

import json
import re

import pytest
from sealkit_cli.main import run

from sealkit import timefmt
from sealkit.dev.demo import run_demo

#: An ISO 8601 time as sealkit prints it, with the offset it carries (or a bare/Z time, which must not occur).
TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("times") / "demo")


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    timefmt.use_zone(None)  # the CLI sets the display zone from the configuration it loads


def offsets(name: str, as_json: bool, text: str) -> set[str]:
    found = {m.group(1) or "none" for m in TIME.finditer(text)}
    assert found or (name, as_json) == ("file", False), text[:2000]  # `file` prints one line, no time
    return found


def reports(demo, capsys, *config: str):
    files, out = demo.files, {}
    anchors = ["--trust", str(files["sm2_root"]), "--trust", str(files["rsa_root"])]
    seals = [
        "--seal-maker-trust",
        str(files["seal_authority_root"]),
        "--registry",
        f"sqlite:///{files['registry']}",
    ]
    commands = {
        "pdf": ["verify", str(files["signed"]), *anchors, *seals],
        "ofd": ["verify", str(files["ofd_signed"]), *anchors, *seals],
        # the demo's supplier signs with a seal picture, not an electronic seal: filed with --allow-unsealed
        "file": ["file", str(files["signed"]), "-o", "filings", *anchors, *seals, "--allow-unsealed"],
    }
    for name, args in commands.items():
        for as_json in (False, True):
            capsys.readouterr()
            assert run([*config, *args, *(["--json"] if as_json else [])]) == 0, capsys.readouterr().err
            out[name, as_json] = capsys.readouterr().out
    key = f"file:{files['sm2_root'].parents[1] / 'bidder-encryption' / 'key.pem'}"
    for as_json, target in ((False, "opened.txt"), (True, "opened2.txt")):
        args = ["bid", "decrypt", str(files["bid_envelope"]), "-o", target, "--key", key, *anchors[:2]]
        assert run([*config, *args, *(["--json"] if as_json else [])]) == 0, capsys.readouterr().err
        out["bid", as_json] = capsys.readouterr().out
    return out


def test_verification_reports_print_beijing_time_with_its_offset(demo, work, capsys):
    out = reports(demo, capsys, "--config", str(demo.files["config"]))  # pins the registry certificate
    for (name, as_json), text in out.items():
        assert offsets(name, as_json, text) <= {"+08:00"}, (name, as_json, text[:3000])
    pdf = json.loads(out["pdf", True])
    purchaser = next(s for s in pdf["signatures"] if s["seal"])
    assert purchaser["claimed_time"].endswith("+08:00")
    assert purchaser["seal"]["signing_time"].endswith("+08:00")
    assert purchaser["seal"]["seal"]["valid_end"].endswith("T23:59:59+08:00")  # the seal's last Beijing day
    assert "signing time: " in out["pdf", False] and "+08:00 (claimed by the signer" in out["pdf", False]
    record = json.loads((work / "filings" / "contract.signed.filing.json").read_text(encoding="utf-8"))
    assert record["filed_at"].endswith("+08:00")
    assert record["signatures"][0]["signing_time"].endswith("+08:00")
    assert json.loads(out["bid", True])["signer"]["signing_time"].endswith("+08:00")


def test_the_time_zone_setting_changes_what_reports_print(demo, work, capsys):
    registry_cert = json.dumps(str(demo.files["registry_cert"]))
    (work / "sealkit.toml").write_text(
        f'[time]\nzone = "UTC"\n[registry]\nsigning_cert = {registry_cert}\n', encoding="utf-8"
    )
    out = reports(demo, capsys, "--config", "sealkit.toml")
    for (name, as_json), text in out.items():
        assert offsets(name, as_json, text) <= {"+00:00"}, (name, as_json, text[:3000])
    pdf = json.loads(out["pdf", True])
    beijing_day_end = next(s for s in pdf["signatures"] if s["seal"])["seal"]["seal"]["valid_end"]
    assert beijing_day_end.endswith("T15:59:59+00:00")  # the same moment, printed in UTC
