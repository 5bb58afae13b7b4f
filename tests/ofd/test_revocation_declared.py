"""OFD signers: revocation is checked where it is declared. A signer certificate that names an OCSP responder
and has no status (offline, or online with the responder down) is INDETERMINATE / TRY_LATER; with the
responder up and ``online=True`` the same contract passes."""

import socket

import pytest

from sealkit.dev.issuing import issue_with_revocation
from sealkit.dev.services import PkiServices
from tests.ofd.helpers import sign, verify


def _dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/ocsp"


@pytest.fixture(scope="module")
def services(pki):
    with PkiServices.start(pki["signing"]) as running:
        yield running


@pytest.mark.parametrize("responder", ["down", "up"])
def test_declared_signer_needs_a_status(
    pki, make_holder_seal, services, contract, tmp_path, anchors, responder
):
    url = services.ocsp_url if responder == "up" else _dead_url()
    who = f"declared-{responder}"
    pki[who] = issue_with_revocation(pki["signing"], who, ocsp_url=url, crl_url=None)
    seal = make_holder_seal(who, "37010200000042" if responder == "up" else "37010200000043")
    signed = sign(pki, {}, contract, tmp_path / "signed.ofd", who=who, seal=seal)
    for online in (False, True):
        report = verify(signed, anchors, online=online)
        if responder == "up" and online:
            assert report.passed, report.to_dict()
            continue
        [verdict] = report.signatures
        assert (verdict.indication, verdict.sub_indication) == ("INDETERMINATE", "TRY_LATER"), verdict.reasons
        assert "try-later.certificate" in verdict.reasons
