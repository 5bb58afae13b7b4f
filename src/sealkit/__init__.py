"""sealkit: sign, seal and encrypt the documents of Chinese government procurement.

The public API lives in this package and its documented subpackages:

- :mod:`sealkit.sm2` — SM2 keys (sign/verify/encrypt/decrypt), SM3, SM4, X.509 with SM2;
- :mod:`sealkit.ukey` — keys on PKCS#11 UKeys and in files, behind one interface;
- :mod:`sealkit.pdf` — PAdES signing with visible seals, verification reports;
- :mod:`sealkit.seal` — GB/T 38540 electronic seals and their lifecycle registry;
- :mod:`sealkit.envelope` — CMS digital envelopes for bid files;
- :mod:`sealkit.validation` — the one place for trust: certificates, paths, proof of time, the SM2 validator;
- :mod:`sealkit.trust` — RFC 3161 timestamps, OCSP/CRL evidence, long-term validation (PAdES B-T/LT/LTA).

Subpackages are imported lazily so that ``import sealkit`` stays cheap; the SM2/SM3/SM4 and GM/T 0010 OIDs are
registered with asn1crypto here, once, so that every entry point (including deep imports such as
``sealkit.pdf.verify``) parses national-algorithm structures. So is the workaround for an asn1crypto length
check that made CMS packaging re-encode whole timestamp tokens (:mod:`sealkit._asn1fix`), and a fast path
for comparing identical X.509 names (:mod:`sealkit._asn1_names`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sealkit import _asn1_names, _asn1fix, errors
from sealkit.certs import load_certificate, load_certificates
from sealkit.config import Config, load_config
from sealkit.errors import SealkitError
from sealkit.sm2 import oids as _sm_oids

__version__ = "0.1.0"

_sm_oids.register()
_asn1fix.install()
_asn1_names.install()  # identical names compare equal without LDAP string preparation

__all__ = [
    "Config",
    "SealkitError",
    "__version__",
    "defer_signing_imports",
    "errors",
    "load_certificate",
    "load_certificates",
    "load_config",
]

_SUBPACKAGES = {"sm2", "ukey", "pdf", "seal", "envelope", "trust", "validation"}

if TYPE_CHECKING:  # pragma: no cover
    from sealkit import envelope, pdf, seal, sm2, trust, ukey, validation  # noqa: F401


def defer_signing_imports() -> bool:
    """Import pyHanko's signing stack (and aiohttp) on first use rather than with its validation code, for
    a process that may only verify; the ``sealkit`` command calls it first. Changes when modules load, never
    what they do (:mod:`sealkit._pyhanko_lazy`). False if pyHanko's signing package is already imported."""
    from sealkit import _pyhanko_lazy

    return _pyhanko_lazy.install()


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"sealkit.{name}")
    raise AttributeError(f"module 'sealkit' has no attribute {name!r}")
