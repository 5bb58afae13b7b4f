"""Issue end-entity certificates that point at the test services (OCSP in AIA, a CRL distribution point).

:func:`issue_with_revocation` builds the TBSCertificate with asn1crypto and signs it with the test PKI's
root key through a sealkit key handle, so it works the same for RSA, P-256 and SM2 roots. The key pair is
made by :meth:`sealkit.dev.pki.TestPki.issue` (which also writes ``key.pem``); only the certificate is
replaced.
"""

from __future__ import annotations

import datetime as dt
import os

from asn1crypto import pem, x509

from sealkit.dev.pki import Identity, TestPki
from sealkit.dev.responses import KeyedIdentity


def issue_with_revocation(
    pki: TestPki,
    name: str,
    role: str = "sign",
    *,
    ocsp_url: str | None,
    crl_url: str | None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Identity:
    """Issue ``name`` for ``role`` with an AIA OCSP URL and/or a CRL distribution point."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    not_before = not_before or now - dt.timedelta(days=1)
    not_after = not_after or now + dt.timedelta(days=365)
    identity = pki.issue(name, role, not_before=not_before, not_after=not_after)
    template = identity.certificate
    ca = KeyedIdentity.load(pki.root)
    extensions = [ext for ext in template["tbs_certificate"]["extensions"]]
    if ocsp_url:
        extensions.append(
            {
                "extn_id": "authority_information_access",
                "critical": False,
                "extn_value": [
                    {
                        "access_method": "ocsp",
                        "access_location": x509.GeneralName(
                            name="uniform_resource_identifier", value=ocsp_url
                        ),
                    }
                ],
            }
        )
    if crl_url:
        extensions.append(
            {
                "extn_id": "crl_distribution_points",
                "critical": False,
                "extn_value": [
                    {
                        "distribution_point": {
                            "full_name": [x509.GeneralName(name="uniform_resource_identifier", value=crl_url)]
                        }
                    }
                ],
            }
        )
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": int.from_bytes(os.urandom(15), "big"),
            "signature": ca.x509_algorithm(),
            "issuer": ca.cert.subject,
            "validity": {
                "not_before": x509.Time(name="utc_time", value=not_before),
                "not_after": x509.Time(name="utc_time", value=not_after),
            },
            "subject": template.subject,
            "subject_public_key_info": template.public_key,
            "extensions": extensions,
        }
    )
    cert = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": ca.x509_algorithm(),
            "signature_value": ca.sign(tbs.dump()),
        }
    )
    identity.cert_path.write_bytes(pem.armor("CERTIFICATE", cert.dump()))
    return identity
