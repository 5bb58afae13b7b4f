"""Certificate requests (PKCS#10) for keys wherever they live, and the subject Chinese CAs expect.

:func:`certificate_request` signs a request with any :class:`~sealkit.ukey.base.PrivateKeyHandle` (a file or
key-store key, or a key on a UKey): SM2-with-SM3 with the default SM2 ID, SHA-256 with RSA, or ECDSA. The
request is built by :func:`sealkit.sm2.x509.build_csr` and its self-signature is checked before it is
returned, so a token that signs wrongly is caught here, not by the CA.

:func:`request_subject` builds the subject from flags or a unit form (附件3): the common and organization
names, C=CN, the province and city, and the unified social credit code (统一社会信用代码, USCC) in the
attribute the CA asks for — ``organization_identifier`` (2.5.4.97, ETSI EN 319 412-1), ``serial_number``
(2.5.4.5) or ``organizational_unit_name`` (some provincial CAs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from sealkit.errors import InvalidInput

if TYPE_CHECKING:
    from sealkit.seal.form import UnitForm
    from sealkit.ukey.base import PrivateKeyHandle

UsccAttribute = Literal["organization_identifier", "serial_number", "organizational_unit_name"]
USCC_ATTRIBUTES: tuple[str, ...] = ("organization_identifier", "serial_number", "organizational_unit_name")
KeyPurpose = Literal["signing", "encryption", "any"]


def request_subject(
    *,
    common_name: str | None = None,
    organization: str | None = None,
    organizational_unit: str | None = None,
    uscc: str | None = None,
    uscc_attribute: UsccAttribute = "organization_identifier",
    province: str | None = None,
    locality: str | None = None,
    country: str = "CN",
    form: UnitForm | None = None,
) -> dict[str, str]:
    """The subject of a request, as asn1crypto name attributes; explicit values win over ``form``'s."""
    if uscc_attribute not in USCC_ATTRIBUTES:
        raise InvalidInput(
            f"unknown USCC attribute {uscc_attribute!r}: use one of {', '.join(USCC_ATTRIBUTES)}"
        )
    if form is not None:
        common_name = common_name or form.name
        organization = organization or form.full_name
        uscc = uscc or form.uscc
        province = province or form.province
    if not common_name:
        raise InvalidInput("the request needs a subject: give --cn (and --org, --uscc) or --form unit.toml")
    subject: dict[str, str] = {"country_name": country}
    if province:
        subject["state_or_province_name"] = province
    if locality:
        subject["locality_name"] = locality
    if organization:
        subject["organization_name"] = organization
    if organizational_unit:
        subject["organizational_unit_name"] = organizational_unit
    if uscc:
        if uscc_attribute == "organizational_unit_name" and organizational_unit:
            raise InvalidInput("--ou and --uscc-in ou both fill the OU: give only one")
        subject[uscc_attribute] = uscc
    subject["common_name"] = common_name
    return subject


def certificate_request(
    key: PrivateKeyHandle, subject: Mapping[str, str], *, purpose: KeyPurpose = "signing"
) -> bytes:
    """A PEM ``CERTIFICATE REQUEST`` for ``key`` with ``subject``, self-signature checked.

    ``purpose`` asks for keyUsage digitalSignature+nonRepudiation (signing), keyEncipherment or
    keyAgreement (encryption), or nothing (any) in an extensionRequest; the CA decides in the end.
    """
    from sealkit.errors import InvalidSignature, SelfTestFailed
    from sealkit.sm2 import x509 as sm2_x509
    from sealkit.ukey.base import KeyKind

    usages = {
        "signing": {"digital_signature", "non_repudiation"},
        "encryption": {"key_agreement"} if key.kind == KeyKind.P256 else {"key_encipherment"},
        "any": set(),
    }[purpose]
    if key.kind == KeyKind.SM2 and purpose == "encryption":
        usages = {"key_encipherment", "data_encipherment"}
    extensions = [{"extn_id": "key_usage", "critical": True, "extn_value": usages}] if usages else []
    request = sm2_x509.build_csr(subject, key, public_key=key.public_key_info(), extensions=extensions)
    try:
        sm2_x509.verify_csr_signature(request)
    except InvalidSignature:
        raise SelfTestFailed(
            f"key {key.label!r} signed a request that does not verify: check its SM2 profile with "
            "'sealkit token selftest'"
        ) from None
    return sm2_x509.to_pem(request)
