"""The registry's audit trail: a SHA-256 hash chain whose entries also commit to the state they produced.

Each entry is ``{seq, time, actor, action, subject, details, state_digest, prev_hash}`` and
``hash = SHA-256(canonical JSON of the entry)``; ``prev_hash`` is the previous entry's hash (64 zeros for the
first). ``state_digest`` is the digest of the subject's rows *after* the action (:func:`subject_states`), so
:func:`verify_chain` catches edits to the audit rows (changed, deleted, reordered) and edits to the seal,
version, revocation and unit rows behind sealkit's back (a row whose digest is not the chain's last word
on it).

A keyless chain can be recomputed by whoever can write the database, so the registry also keeps the chain's
*head* signed by its registry key (``audit_head``, re-signed in the transaction of every change):
:func:`head_problems` checks that signature against the configured registry certificate, so rows rewritten
and a chain recomputed behind sealkit's back no longer match a head only the key can sign. The chain itself
says that it is signed, and by which certificate: the transaction that first signs the head (or signs it with
another certificate) appends a :data:`SIGNED_ACTION` entry naming the certificate's SHA-256. A reader without
a configured certificate refuses a registry whose chain or head says it is signed (deleting the head row no
longer makes it look unsigned), and one with a certificate refuses a chain that names another. The trust in
the certificate comes from configuration only (``[registry] signing_cert``), never from the database.
Truncating the chain's tail *and* rolling back the rows it describes (and the head) to an earlier signed
state is only caught against a head hash kept elsewhere: ``sealkit seal audit --verify --json`` prints it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import x509 as asn1_x509
from sqlalchemy import Connection, select

from sealkit.seal import schema
from sealkit.seal.crypto import cert_digest, signature_problem

GENESIS = "0" * 64
#: The audit action recording that the chain's head is signed from then on, and by which certificate
#: (details ``{"cert_sha256": …, "certificate": subject}``); its subject is :data:`SIGNED_SUBJECT`.
SIGNED_ACTION = "sign-head"
SIGNED_SUBJECT = "registry:head"
#: The configuration key that pins the registry certificate (named in refusals).
CERT_KEY = "[registry] signing_cert"


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value: Any) -> str:
    return hashlib.sha256(canonical(value).encode("utf-8")).hexdigest()


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The hash of an audit entry (every field but ``hash``)."""
    fields = ("seq", "time", "actor", "action", "subject", "details", "state_digest", "prev_hash")
    return digest({name: entry[name] for name in fields})


def _sha(data: bytes) -> str:
    return hashlib.sha256(bytes(data)).hexdigest()


def subject_states(conn: Connection, subject: str | None = None) -> dict[str, str]:
    """The digest of every subject's current rows, keyed ``seal:…``, ``unit:…``, ``revocation:…``,
    ``grant:…``, ``use:…`` (only ``subject``'s when given)."""
    kind, _, key = (subject or "").partition(":")
    versions: dict[str, list[str]] = {}
    states: dict[str, str] = {}
    if kind in ("", "seal"):
        query = select(schema.seal_versions).order_by(schema.seal_versions.c.version)
        seal_query = select(schema.seals)
        if key:
            query = query.where(schema.seal_versions.c.es_id == key)
            seal_query = seal_query.where(schema.seals.c.es_id == key)
        for row in conn.execute(query):
            versions.setdefault(row.es_id, []).append(f"{row.version}:{row.created_at}:{_sha(row.seal_der)}")
        for row in conn.execute(seal_query):
            mapping = dict(row._mapping)
            mapping["seal_der"] = _sha(mapping["seal_der"])
            mapping["image"] = _sha(mapping["image"])
            mapping["versions"] = versions.pop(row.es_id, [])
            states[f"seal:{row.es_id}"] = digest(mapping)
        for es_id, orphan in versions.items():  # versions of a seal that does not exist: always a mismatch
            states[f"seal:{es_id}"] = digest({"orphan_versions": orphan})
    tables = [
        ("revocation", schema.revocations, schema.revocations.c.es_id),
        ("unit", schema.units, schema.units.c.uscc),
    ]
    if kind in ("", "grant", "use") and schema.current_version(conn) >= 3:  # custody tables (migration 3)
        tables += [
            ("grant", schema.grants, schema.grants.c.grant_id),
            ("use", schema.uses, schema.uses.c.use_id),
        ]
    for name, table, column in tables:
        if kind in ("", name):
            query = select(table) if not key else select(table).where(column == key)
            for row in conn.execute(query):
                states[f"{name}:{row._mapping[column.name]}"] = digest(dict(row._mapping))
    return states


def subject_state(conn: Connection, subject: str) -> str:
    """The digest of one subject's current rows (64 zeros if it has none)."""
    return subject_states(conn, subject).get(subject, GENESIS)


@dataclass
class AuditReport:
    """What :func:`verify_chain` found."""

    entries: int
    head: str
    problems: list[str] = field(default_factory=list)
    #: True: the head's signature verified with the registry certificate; False: the head is not signed;
    #: None: signed, but no registry certificate was given to check it (then a problem: :attr:`unchecked`).
    signed: bool | None = False
    #: The SHA-256 of the certificate the chain says signs its head (its last :data:`SIGNED_ACTION` entry).
    signed_by: str | None = None
    #: Set (and among the problems) when the registry is signed but no certificate was given to check it.
    unchecked: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "signed": self.signed,
            "signed_by": self.signed_by,
            "problems": self.problems,
        }


def head_message(seq: int, head: str) -> bytes:
    """What the registry key signs: the chain's last entry number and hash."""
    return canonical({"purpose": "sealkit registry audit head", "seq": seq, "hash": head}).encode("utf-8")


def head_problems(
    head_row: Mapping[str, Any] | None,
    seq: int,
    head: str,
    cert: asn1_x509.Certificate | None,
    signed_by: str | None = None,
) -> tuple[list[str], bool | None]:
    """Check the signed head ``head_row`` against the chain's end (``seq``, ``head``), the certificate the
    chain says signs it (``signed_by``, :attr:`AuditReport.signed_by`) and the configured registry
    certificate ``cert``; returns (problems, signed). A registry that is signed (by its chain's word or its
    head row) but read without ``cert`` is a problem too, the first one, with ``signed`` None."""
    claimed = signed_by or (str(head_row["cert_sha256"]) if head_row is not None else None)
    if cert is None and claimed is None:
        return [], False
    problems = [] if cert is not None else [unchecked_message(str(claimed))]
    if head_row is not None and (head_row["seq"] != seq or head_row["hash"] != head):
        problems.append(
            f"the signed audit head is entry {head_row['seq']} ({head_row['hash'][:16]}…), but the chain "
            f"ends at entry {seq} ({head[:16]}…): entries were added, removed or rewritten behind sealkit"
        )
    if cert is None:
        return problems, None
    configured = cert_digest(cert.dump())
    if signed_by is not None and signed_by != configured:
        problems.append(
            f"the audit chain says its head is signed by certificate {signed_by[:16]}…, not by the "
            f"configured registry certificate ({CERT_KEY}, {configured[:16]}…)"
        )
    if head_row is None:
        if seq > 0:
            problems.append(
                "the audit chain head is not signed, but a registry signing certificate is configured"
                + (" and the chain says it was signed: the signed head was removed" if signed_by else "")
            )
        return problems, False
    if head_row["cert_sha256"] != configured:
        problems.append("the audit head was signed by another certificate than the registry's")
        return problems, False
    bad = signature_problem(
        cert, head_row["algorithm"], head_message(head_row["seq"], head_row["hash"]), head_row["signature"]
    )
    if bad:
        problems.append(f"the audit head's signature {bad}")
        return problems, False
    return problems, True


def unchecked_message(cert_sha256: str) -> str:
    """The refusal of a signed registry read without its certificate: which key to set."""
    return (
        f"the registry's audit chain is signed (certificate SHA-256 {cert_sha256[:16]}…) but no registry "
        f"certificate is configured to check it: set {CERT_KEY} to the registry's certificate"
    )


def verify_chain(
    rows: Iterable[Mapping[str, Any]], states: Mapping[str, str], subjects: Iterable[str] | None = None
) -> AuditReport:
    """Check the chain ``rows`` (in seq order) and that ``states`` are what the chain last recorded (for
    ``subjects`` only, when given: then ``states`` need only hold theirs)."""
    problems: list[str] = []
    prev, expected_seq, count = GENESIS, 1, 0
    last: dict[str, str] = {}
    signed_by: str | None = None
    for row in rows:
        count += 1
        if row["seq"] != expected_seq:
            problems.append(
                f"audit entry {row['seq']} found where {expected_seq} was expected (deleted or moved)"
            )
        if row["prev_hash"] != prev:
            problems.append(f"audit entry {row['seq']} does not link to the entry before it")
        if entry_hash(row) != row["hash"]:
            problems.append(f"audit entry {row['seq']} was altered (its hash does not match)")
        prev, expected_seq = row["hash"], row["seq"] + 1
        last[row["subject"]] = row["state_digest"]
        if row["action"] == SIGNED_ACTION:
            signed_by = named_certificate(row["details"])
            if signed_by is None:
                problems.append(f"audit entry {row['seq']} ({SIGNED_ACTION}) names no certificate")
    compared = set(subjects) if subjects is not None else set(last) | set(states)
    for subject in sorted(compared):
        recorded, actual = last.get(subject), states.get(subject, GENESIS)
        if recorded is None and subject not in states:
            continue
        if recorded is None:
            problems.append(f"{subject} exists but the audit trail never recorded it")
        elif recorded != actual:
            what = (
                "was deleted"
                if actual == GENESIS
                else "does not match the audit trail (edited behind sealkit)"
            )
            problems.append(f"{subject} {what}")
    return AuditReport(entries=count, head=prev, problems=problems, signed_by=signed_by)


def named_certificate(details: str) -> str | None:
    """The certificate SHA-256 a :data:`SIGNED_ACTION` entry's ``details`` name (None if malformed)."""
    try:
        value = json.loads(details).get("cert_sha256")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and len(value) == 64 else None
