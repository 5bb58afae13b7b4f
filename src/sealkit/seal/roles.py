"""Roles in the registry: who may change a seal's lifecycle and its grants (the unit's internal control).

Every registry change names its actor (``--actor``, default the OS user). With administrators configured
(``[registry] admin_certs``), the administrator's actions — :data:`ADMIN_ACTIONS`: issuing, extending,
disabling, enabling, revoking seals and granting, suspending, resuming, withdrawing their use — need a request
signed by an administrator's key: the registry builds the request (action, subject, details, time, actor),
has it signed with the key handed in (:class:`AdminKey`, the CLI's ``--admin-key REF``), verifies the
signature with the certificate (:func:`sealkit.validation.verify_with_certificate`), requires that
certificate to be one of the administrators' and valid now, and records the certificate's SHA-256 and the
signature in the audit entry, so that the approval can be checked again later (:func:`check_approval`).
Uses of a seal (``use-*`` entries) are the holders' business and need no administrator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509

from sealkit.errors import InvalidSignature, NotAuthorised
from sealkit.seal import audit
from sealkit.seal.crypto import cert_digest, sign_with
from sealkit.ukey.base import PrivateKeyHandle
from sealkit.validation import validity_at, verify_with_certificate

ADMIN_ACTIONS = frozenset(
    {
        "issue",
        "extend",
        "disable",
        "enable",
        "revoke",
        "grant",
        "suspend-grant",
        "resume-grant",
        "withdraw-grant",
    }
)
_APPROVAL_FIELDS = ("admin_cert_sha256", "admin_algorithm", "admin_signature")


@dataclass
class AdminKey:
    """An administrator's key and certificate, handed to the registry to sign the requests it makes."""

    key: PrivateKeyHandle
    cert: asn1_x509.Certificate


def request_message(action: str, subject: str, details: dict[str, Any], time: str, actor: str) -> bytes:
    """What an administrator signs: the change, exactly as the audit entry records it."""
    request = {
        "purpose": "sealkit registry request",
        "action": action,
        "subject": subject,
        "details": {k: v for k, v in details.items() if k not in _APPROVAL_FIELDS},
        "time": time,
        "actor": actor,
    }
    return audit.canonical(request).encode("utf-8")


class Roles:
    """The administrators (their certificates) and, for this process, the administrator key in hand."""

    def __init__(self, admin_certs: Sequence[asn1_x509.Certificate], admin: AdminKey | None = None) -> None:
        self.admins = {cert_digest(c.dump()): c for c in admin_certs}
        self.admin = admin

    def approve(
        self, action: str, subject: str, details: dict[str, Any], time: str, actor: str
    ) -> dict[str, Any]:
        """``details`` with the administrator's approval for an administrator's action; raises
        :class:`NotAuthorised` when it cannot be given. Other actions pass unchanged."""
        if action not in ADMIN_ACTIONS or not self.admins:
            return details
        if self.admin is None:
            raise NotAuthorised(
                f"{action} of {subject} needs a seal administrator: give --admin-key REF (the key of a "
                "certificate in [registry] admin_certs)"
            )
        digest = cert_digest(self.admin.cert.dump())
        cert = self.admins.get(digest)
        if cert is None:
            raise NotAuthorised(
                f"{self.admin.cert.subject.human_friendly} is not a seal administrator of this registry "
                "([registry] admin_certs)"
            )
        moment = dt.datetime.strptime(time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        state = validity_at(cert, moment)
        if state != "valid":
            raise NotAuthorised(f"the administrator certificate is {state.replace('-', ' ')}")
        message = request_message(action, subject, details, time, actor)
        algorithm, signature = sign_with(self.admin.key, message)
        try:
            verify_with_certificate(cert, algorithm, message, signature)
        except InvalidSignature:
            raise NotAuthorised(
                "the administrator's signature does not verify: the key is not the certificate's"
            ) from None
        return {
            **details,
            "admin_cert_sha256": digest,
            "admin_algorithm": algorithm,
            "admin_signature": signature.hex(),
        }


def check_approval(entry: dict[str, Any], admin_certs: Sequence[asn1_x509.Certificate]) -> str | None:
    """None if the audit ``entry`` (a row, ``details`` as canonical JSON) carries a valid approval by one of
    ``admin_certs``, else why not."""
    import json

    details = json.loads(entry["details"])
    by_digest = {cert_digest(c.dump()): c for c in admin_certs}
    cert = by_digest.get(details.get("admin_cert_sha256", ""))
    if cert is None:
        return "not approved by an administrator"
    message = request_message(entry["action"], entry["subject"], details, entry["time"], entry["actor"])
    try:
        verify_with_certificate(
            cert, details["admin_algorithm"], message, bytes.fromhex(details["admin_signature"])
        )
    except (InvalidSignature, ValueError, KeyError):
        return "the administrator's signature does not verify"
    return None
