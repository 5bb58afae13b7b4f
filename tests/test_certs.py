"""One certificate loader for all of sealkit: every form accepted, every damaged input one clear error."""

import pytest
from cryptography import x509 as crypto_x509

from sealkit.certs import load_certificate, load_certificates, parse_certificates
from sealkit.dev.pki import make_test_pki
from sealkit.errors import DecodingError, InvalidInput


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki = make_test_pki(tmp_path_factory.mktemp("certs"), "sm2")
    return pki, pki.issue("leaf")


def test_every_form_gives_the_same_certificate(pki):
    root, leaf = pki[0].root, pki[1]
    pem = leaf.cert_path.read_bytes()
    der = leaf.certificate.dump()
    crypto_cert = crypto_x509.load_der_x509_certificate(root.certificate.dump())
    for source in (leaf.cert_path, str(leaf.cert_path), pem, der, leaf.certificate):
        assert load_certificate(source).dump() == der
    assert load_certificate(crypto_cert).dump() == root.certificate.dump()


def test_a_pem_chain_gives_every_certificate_in_order(pki, tmp_path):
    root, leaf = pki[0].root, pki[1]
    chain = tmp_path / "chain.pem"
    chain.write_bytes(leaf.cert_path.read_bytes() + b"\n" + root.cert_path.read_bytes())
    certs = load_certificates(chain)
    assert [c.dump() for c in certs] == [leaf.certificate.dump(), root.certificate.dump()]
    assert len(load_certificates([chain, root.cert_path])) == 3


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a certificate",
        b"0\x82\x01\x00",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ],
)
def test_damaged_data_is_a_one_line_decoding_error(data):
    with pytest.raises(DecodingError) as info:
        parse_certificates(data, "the anchor")
    assert "\n" not in str(info.value) and "the anchor" in str(info.value)


def test_truncated_or_trailing_der_is_refused(pki):
    der = pki[1].certificate.dump()
    with pytest.raises(DecodingError):
        parse_certificates(der[:-1])
    with pytest.raises(DecodingError):
        parse_certificates(der + b"\x00")


def test_pem_without_a_certificate_block(pki):
    key_pem = pki[1].key_path.read_bytes()
    with pytest.raises(DecodingError, match="holds no certificate"):
        parse_certificates(key_pem)


def test_missing_file_names_what_it_is(tmp_path):
    with pytest.raises(InvalidInput, match="cannot read the trust anchor"):
        load_certificates(tmp_path / "missing.pem", what="trust anchor")


def test_a_file_is_read_anew_each_time_though_its_parse_is_remembered(pki, tmp_path):
    """Parsing is remembered by the exact bytes, never by the path: a replaced or damaged file counts."""
    root, leaf = pki[0].root, pki[1]
    anchor = tmp_path / "anchor.pem"
    anchor.write_bytes(leaf.cert_path.read_bytes())
    first = load_certificates(anchor)
    again = load_certificates(anchor)
    assert [c.dump() for c in again] == [c.dump() for c in first] == [leaf.certificate.dump()]
    again.clear()  # a caller's list is its own
    assert len(load_certificates(anchor)) == 1
    anchor.write_bytes(root.cert_path.read_bytes())
    assert load_certificate(anchor).dump() == root.certificate.dump()
    anchor.write_bytes(leaf.certificate.dump()[:-1])
    with pytest.raises(DecodingError):
        load_certificates(anchor)
