"""The Name equality fast path answers as asn1crypto's RFC 5280 comparison does."""

from asn1crypto import x509

from sealkit import _asn1_names


def _name(value: str, kind: str = "utf8_string") -> x509.Name:
    return x509.Name.build({"common_name": value, "country_name": "CN"}, use_printable=kind == "printable")


def test_installed_by_import_sealkit():
    assert _asn1_names.installed()


def test_identical_bytes_equal_and_other_names_compared_by_rfc5280():
    a = _name("Buyer Ltd")
    assert a == x509.Name.load(a.dump())  # same bytes: the fast path
    # another encoding of the same name (PrintableString, other case and spaces): RFC 5280 says equal
    other = _name("buyer  ltd", "printable")
    assert other.dump() != a.dump() and a == other
    assert a != _name("Mallory Ltd")
    assert a != "Buyer Ltd"


def test_a_directory_name_equals_the_same_name_untagged():
    """A GeneralName's directoryName carries an explicit [4] tag in its own bytes; it is still the name."""
    a = _name("Buyer Ltd")
    general = x509.GeneralName.load(x509.GeneralName(name="directory_name", value=a).dump())
    tagged = general.chosen
    assert tagged.dump() != a.dump()
    assert tagged == a and a == tagged
    assert x509.GeneralName(name="directory_name", value=_name("Mallory Ltd")).chosen != a


def test_hashable_is_asn1cryptos_and_follows_the_bytes():
    """The remembered hashable is asn1crypto's own, and each name keeps its own (by its bytes)."""
    a, other, mallory = _name("Buyer Ltd"), _name("buyer  ltd", "printable"), _name("Mallory Ltd")
    for name in (a, other, mallory, a):
        assert name.hashable == _asn1_names._ORIGINAL_HASHABLE.fget(name)
    assert a.hashable == other.hashable != mallory.hashable
