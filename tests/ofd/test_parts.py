"""Signature parts as other producers write them: relative locations, unprefixed elements, the SM3 OID as
CheckMethod, numeric signature IDs — read by local name and resolved against the part that names them."""

import base64

import pytest

from sealkit.errors import OfdError
from sealkit.ofd.package import resolve
from sealkit.ofd.signatures import list_signatures, parse_signature_xml
from sealkit.ofd.xmlparse import parse_xml

NS = b'xmlns:ofd="http://www.ofdspec.org/2016"'
VARIANT = (
    b'<?xml version="1.0" encoding="UTF-8"?><ofd:Signature ' + NS + b"><ofd:SignedInfo>"
    b'<ofd:Provider ProviderName="VGVzdA==" Version="1" Company="RzRC" />'
    b"<ofd:SignatureMethod>1.2.156.10197.1.501</ofd:SignatureMethod>"
    b"<ofd:SignatureDateTime>20200928165140Z</ofd:SignatureDateTime>"
    b'<ofd:References CheckMethod="1.2.156.10197.1.401"> <Reference FileRef="/Doc_0/Document.xml">'
    b"<CheckValue>8leHbNmudyFqM7JqYVNn5NLkdY2ZMe5jjr9X+TKewbA=</CheckValue></Reference>"
    b'<Reference FileRef="../../PublicRes.xml"><CheckValue>AAAA</CheckValue></Reference></ofd:References>'
    b'<ofd:StampAnnot ID="2" PageRef="1" Boundary="160 40 20 20"/>'
    b"<ofd:Seal><ofd:BaseLoc>Seal.esl</ofd:BaseLoc></ofd:Seal>"
    b"</ofd:SignedInfo><ofd:SignedValue>SignedValue.dat</ofd:SignedValue></ofd:Signature>"
)


def test_foreign_variant_is_read_by_local_name():
    sig = parse_signature_xml(VARIANT, "/Doc_0/Signs/Sign_0/Signature.xml")
    assert sig.check_method == "1.2.156.10197.1.401"
    assert list(sig.references) == ["/Doc_0/Document.xml", "/Doc_0/PublicRes.xml"]
    assert sig.references["/Doc_0/Document.xml"] == base64.b64decode(
        "8leHbNmudyFqM7JqYVNn5NLkdY2ZMe5jjr9X+TKewbA="
    )
    assert sig.signed_value_path == "/Doc_0/Signs/Sign_0/SignedValue.dat"
    assert sig.seal_path == "/Doc_0/Signs/Sign_0/Seal.esl"
    assert sig.stamps[0].boundary == (160, 40, 20, 20)


def test_signature_list_with_relative_locations():
    root = parse_xml(
        b'<ofd:Signatures xmlns:ofd="http://www.ofdspec.org/2016"><ofd:MaxSignId>1</ofd:MaxSignId>'
        b'<ofd:Signature ID="1" Type="Seal" BaseLoc="Sign_0/Signature.xml"/></ofd:Signatures>',
        "Signatures.xml",
    )
    (record,) = list_signatures(root, "/Doc_0/Signs/Signatures.xml")
    assert record.base_loc == "/Doc_0/Signs/Sign_0/Signature.xml"


@pytest.mark.parametrize("location", ["../../../etc/passwd", "/../x", ""])
def test_locations_never_leave_the_package(location):
    with pytest.raises(OfdError):
        resolve("/Doc_0/Signs/Signatures.xml", location)


def test_duplicate_reference_and_bad_checkvalue_are_format_errors():
    twice = VARIANT.replace(b"../../PublicRes.xml", b"/Doc_0/Document.xml")
    with pytest.raises(OfdError, match="referenced twice"):
        parse_signature_xml(twice, "/Doc_0/Signs/Sign_0/Signature.xml")
    with pytest.raises(OfdError, match="not base64"):
        parse_signature_xml(VARIANT.replace(b"AAAA", b"A*A"), "/Doc_0/Signs/Sign_0/Signature.xml")
