"""Seals bound to signing and verification, through the CLI as a user runs it.

`sealkit sign --seal ID` takes the imprint and the SESeal from the registry and refuses a revoked, disabled,
expired or foreign seal; `sealkit verify` checks the seal a signature carries at the signing time, with
revocations from the registry or from a signed revocation list (offline).
"""

import datetime as dt
import json
import subprocess
import sys

import pytest

from sealkit.demo import PURCHASER_FORM
from sealkit.pdf import write_sample_contract
from sealkit.pdf.sample_contract import PURCHASER_BLOCK
from sealkit.pki import Role, make_test_pki
from sealkit.seal import Revocation, SealRegistry, form_from_dict, write_revocation_list
from sealkit.ukey import open_key

FORM = PURCHASER_FORM  # the demo's fictional Shandong school


def sealkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sealkit_cli.main", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("seal-contracts")
    pki = make_test_pki(base / "pki", "sm2")
    holder = pki.issue("purchaser", organization=FORM["unit"]["name"])  # a holder belongs to the unit
    stranger = pki.issue("stranger")
    # The seal authority has its own CA: its root is a seal-maker anchor, never a signer anchor.
    makers = make_test_pki(base / "seal-authority", "sm2", name="sealkit Test Seal Authority CA")
    authority = makers.issue("authority", Role.SEAL_MAKER)
    url = f"sqlite:///{base / 'registry.sqlite3'}"
    today = dt.date.today()
    with SealRegistry(url, actor="test") as registry, open_key(authority.keyref) as maker:
        form = form_from_dict(FORM)

        def issue(**kwargs):
            until = kwargs.pop("valid_until", today + dt.timedelta(days=30))
            record = registry.issue(
                form, "contract", [holder.certificate], maker, authority.certificate, until, **kwargs
            )
            return record.es_id

        seals = {
            "good": issue(),
            "revoked": issue(),
            "disabled": issue(),
            "expired": issue(
                valid_from=today - dt.timedelta(days=30), valid_until=today - dt.timedelta(days=1)
            ),
        }
        registry.revoke(seals["revoked"], "imprint-void", note="印模作废")
        registry.set_enabled(seals["disabled"], False)
    contract = write_sample_contract(base / "contract.pdf", pages=2)
    return {
        "base": base,
        "pki": pki,
        "makers": makers,
        "holder": holder,
        "stranger": stranger,
        "authority": authority,
        "url": url,
        "seals": seals,
        "contract": contract,
    }


def sign(world, seal_key: str, out, who="holder"):
    identity = world[who]
    return sealkit(
        "sign",
        str(world["contract"]),
        "-o",
        str(out),
        "--key",
        identity.keyref,
        "--cert",
        str(identity.cert_path),
        "--seal",
        world["seals"][seal_key],
        "--registry",
        world["url"],
        "--at-text",
        PURCHASER_BLOCK,
        "--json",
    )


def verify(world, pdf, *extra):
    result = sealkit(
        "verify",
        str(pdf),
        "--trust",
        str(world["pki"].root.cert_path),
        "--seal-maker-trust",
        str(world["makers"].root.cert_path),
        "--json",
        *extra,
    )
    return result.returncode, json.loads(result.stdout)


def test_registry_seal_travels_in_the_signature_and_verifies(world, tmp_path):
    out = tmp_path / "sealed.pdf"
    result = sign(world, "good", out)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["seal"] == world["seals"]["good"]
    code, report = verify(world, out, "--registry", world["url"])
    assert code == 0, report
    seal = report["signatures"][0]["seal"]
    assert seal["ok"] is True
    assert seal["seal"]["es_id"] == world["seals"]["good"]
    # No timestamp: "none" once the verifier passes only proven times to the seal checker.
    assert seal["time_source"] in ("none", "timestamp")
    assert seal["revocation_sources"] == ["registry"]
    assert (seal["unit"], seal["unit_code"], seal["signer_matches_unit"]) == (
        FORM["unit"]["name"],
        FORM["unit"]["uscc"],
        True,
    )


def test_the_signer_anchor_does_not_vouch_for_seal_makers(world, tmp_path):
    """Only the signers' CA given: the seal's maker is not trusted (issue 10, item 9)."""
    out = tmp_path / "sealed.pdf"
    assert sign(world, "good", out).returncode == 0
    result = sealkit("verify", str(out), "--trust", str(world["pki"].root.cert_path), "--json")
    seal = json.loads(result.stdout)["signatures"][0]["seal"]
    assert result.returncode != 0
    assert seal["ok"] is False and seal["reason"] == "seal.maker-untrusted"


def test_verification_with_a_read_only_registry(world, tmp_path):
    out = tmp_path / "sealed.pdf"
    assert sign(world, "good", out).returncode == 0
    path = world["url"].removeprefix("sqlite:///")
    code, report = verify(world, out, "--registry", f"sqlite:///{path}?mode=ro")
    assert code == 0, report
    assert report["signatures"][0]["seal"]["revocation_sources"] == ["registry"]


@pytest.mark.parametrize(
    ("seal_key", "words"), [("revoked", "revoked"), ("disabled", "disabled"), ("expired", "expired")]
)
def test_unusable_seals_are_refused_and_nothing_is_written(world, tmp_path, seal_key, words):
    out = tmp_path / "refused.pdf"
    result = sign(world, seal_key, out)
    assert result.returncode == 7
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_signer_who_does_not_hold_the_seal_is_refused(world, tmp_path):
    result = sign(world, "good", tmp_path / "x.pdf", who="stranger")
    assert result.returncode == 7
    assert "not a holder" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_revocation_after_signing_keeps_the_contract_valid_offline(world, tmp_path):
    """A contract signed before the seal is revoked stays valid, and the report says when and why."""
    out = tmp_path / "sealed.pdf"
    assert sign(world, "good", out).returncode == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    rev_list = tmp_path / "revocations.der"
    with open_key(world["authority"].keyref) as key:
        write_revocation_list(
            rev_list,
            [Revocation(world["seals"]["good"], later, "merged", "12370102MB0000042B")],
            key,
            world["authority"].certificate,
        )
    code, report = verify(world, out, "--revocations", str(rev_list))
    assert code == 0
    seal = report["signatures"][0]["seal"]
    assert seal["ok"] is True and seal["revoked_after_signing"] is True
    assert seal["revocation"]["reason"] == "merged"


def test_a_signature_made_after_the_revocation_fails(world, tmp_path):
    out = tmp_path / "sealed.pdf"
    assert sign(world, "good", out).returncode == 0
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    rev_list = tmp_path / "revocations.der"
    with open_key(world["authority"].keyref) as key:
        write_revocation_list(
            rev_list,
            [Revocation(world["seals"]["good"], earlier, "dissolved")],
            key,
            world["authority"].certificate,
        )
    code, report = verify(world, out, "--revocations", str(rev_list))
    assert code in (3, 4)  # 4 (INDETERMINATE) once only proven times reach the seal checker
    signature = report["signatures"][0]
    assert signature["seal"]["ok"] is False
    assert signature["seal"]["failed_step"] == "revocation"
    assert signature["seal"]["reason"] in ("seal.revoked", "seal.revoked-no-poe")
    assert signature["indication"] != "TOTAL-PASSED"


def test_a_forged_revocation_list_is_refused(world, tmp_path):
    out = tmp_path / "sealed.pdf"
    assert sign(world, "good", out).returncode == 0
    rev_list = tmp_path / "revocations.der"
    with open_key(world["stranger"].keyref) as key:  # not a seal authority the verifier trusts
        write_revocation_list(
            rev_list,
            [Revocation(world["seals"]["good"], dt.datetime.now(dt.UTC), "other")],
            key,
            world["stranger"].certificate,
        )
    data = bytearray(rev_list.read_bytes())
    data[-5] ^= 0x01
    rev_list.write_bytes(bytes(data))
    result = sealkit(
        "verify", str(out), "--trust", str(world["pki"].root.cert_path), "--revocations", str(rev_list)
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


def test_an_untrusted_seal_authority_fails_the_seal(world, tmp_path):
    out = tmp_path / "sealed.pdf"
    assert sign(world, "good", out).returncode == 0
    other = make_test_pki(tmp_path / "other", "sm2")
    result = sealkit(
        "verify",
        str(out),
        "--trust",
        str(other.root.cert_path),
        "--trust",
        str(world["pki"].root.cert_path.parent.parent / "purchaser" / "cert.pem"),
        "--json",
    )
    report = json.loads(result.stdout)
    assert result.returncode != 0
    assert report["indication"] != "TOTAL-PASSED"


def test_human_report_marks_informative_checks_as_warnings(world, tmp_path):
    """A passing B-B signature has no timestamp and unknown revocation: shown as '!', never as '✗'."""
    out = tmp_path / "sealed.pdf"
    assert sign(world, "good", out).returncode == 0
    makers = str(world["makers"].root.cert_path)
    result = sealkit(
        "verify", str(out), "--trust", str(world["pki"].root.cert_path), "--seal-maker-trust", makers
    )
    assert result.returncode == 0
    assert "✗" not in result.stdout
    assert "! timestamp:" in result.stdout
    code, report = verify(world, out)
    levels = {c["name"]: c["level"] for c in report["signatures"][0]["checks"]}
    assert levels["timestamp"] == "warning" and levels["integrity"] == "pass"


def test_sign_with_only_the_file_name_uses_the_configured_key_seal_and_next_field(world, tmp_path):
    """`sealkit sign contract.pdf` alone: key, certificate, seal and registry from the config file, the
    prepared field whose turn it is, output beside the input."""
    from sealkit.pdf import FieldSpec, Placement, prepare_fields

    prepared = tmp_path / "contract.pdf"
    prepare_fields(world["contract"], prepared, [FieldSpec("采购人", Placement.at_text(PURCHASER_BLOCK))])
    holder = world["holder"]
    config = tmp_path / "sealkit.toml"
    config.write_text(
        f'[sign]\nkey = "{holder.keyref}"\ncert = "{holder.cert_path}"\nseal = "{world["seals"]["good"]}"\n'
        f'[registry]\nurl = "{world["url"]}"\n[trust]\nanchors = ["{world["pki"].root.cert_path}"]\n'
        f'seal_makers = ["{world["makers"].root.cert_path}"]\n',
        encoding="utf-8",
    )
    result = sealkit("--config", str(config), "sign", str(prepared), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["field"] == "采购人" and data["seal"] == world["seals"]["good"]
    signed = tmp_path / "contract.signed.pdf"
    assert data["output"] == str(signed) and signed.is_file()
    result = sealkit("--config", str(config), "verify", str(signed), "--json")
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["signatures"][0]["seal"]["ok"] is True
