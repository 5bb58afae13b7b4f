"""The use register (用印登记): every use of a registry seal, reserved before the signature is made.

A use goes through two transactions. :meth:`UseRegister.reserve_use` runs *before* anything is written: it
checks (under the registry's write lock) that a live grant covers the signer, the purpose and the remaining
count (:mod:`sealkit.seal.grants`; a seal without grants is refused when the registry requires grants), and
records the use as ``reserved`` — which counts against the grant's maximum at once, so two processes racing
for the last use cannot both win. The count is the audit chain's (:func:`sealkit.seal.grants.chain_uses`),
and every use of the seal is checked against the chain first: a use row deleted or marked ``failed`` behind
sealkit does not give a use back, it stops the seal. :meth:`UseRegister.complete_use` then records the
signed document (its SM3 and SHA-256, the SHA-256 of the signed revision, name, field, page and rectangle)
and marks the use ``done``; a signing that fails is marked ``failed`` (:meth:`UseRegister.fail_use`), which
gives the count back. A use never looks like a signed document unless it is ``done``; a process killed between
the two leaves a ``reserved`` use without a document, which keeps counting (the cautious side). Each step is
an audit entry about ``use:<ID>``, naming the actor.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509
from sqlalchemy import select, update

from sealkit import timefmt
from sealkit.errors import GrantRefused, SealDisabled, SealError, SealRevoked
from sealkit.seal import schema
from sealkit.seal.crypto import cert_digest
from sealkit.seal.grants import PURPOSES, Grant, GrantRegistry, next_id
from sealkit.seal.registry import parse_utc

USE_STATUSES = ("reserved", "done", "failed")
CSV_FIELDS = (
    "use_id",
    "seal",
    "status",
    "time",
    "purpose",
    "grant",
    "signer",
    "actor",
    "document",
    "field",
    "page",
    "rect_mm",
    "sm3",
    "sha256",
    "revision_sha256",
    "note",
)


@dataclass(frozen=True)
class SignedDocument:
    """What a use produced: the signed document's name and digests, and where the seal went."""

    name: str
    sm3: str
    sha256: str
    revision_sha256: str | None = None
    field: str | None = None
    page: int | None = None
    rect: tuple[float, float, float, float] | None = None


@dataclass
class Use:
    """One entry of the use register."""

    use_id: str
    es_id: str
    grant_id: str | None
    status: str
    purpose: str
    signer_sha256: str
    signer_subject: str
    actor: str
    reserved_at: dt.datetime
    done_at: dt.datetime | None
    document: SignedDocument | None
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        doc = self.document
        return {
            "use_id": self.use_id,
            "seal": self.es_id,
            "status": self.status,
            "time": timefmt.format_time(self.done_at or self.reserved_at),
            "reserved_at": timefmt.format_time(self.reserved_at),
            "purpose": self.purpose,
            "grant": self.grant_id,
            "signer": self.signer_subject,
            "signer_cert_sha256": self.signer_sha256,
            "actor": self.actor,
            "document": doc.name if doc else None,
            "field": doc.field if doc else None,
            "page": doc.page if doc else None,
            "rect_mm": list(doc.rect) if doc and doc.rect else None,
            "sm3": doc.sm3 if doc else None,
            "sha256": doc.sha256 if doc else None,
            "revision_sha256": doc.revision_sha256 if doc else None,
            "note": self.note,
        }

    def csv_row(self) -> list[str]:
        data = self.to_dict()
        data["rect_mm"] = " ".join(f"{v:g}" for v in data["rect_mm"]) if data["rect_mm"] else None
        return ["" if data[name] is None else str(data[name]) for name in CSV_FIELDS]


class UseRegister(GrantRegistry):
    """The use register over the grants; :class:`sealkit.seal.lifecycle.SealRegistry` inherits it."""

    def reserve_use(
        self,
        es_id: str,
        signer: asn1_x509.Certificate,
        purpose: str = "contract",
        *,
        grants_required: bool | None = None,
    ) -> Use:
        """Reserve one use of ``es_id`` by ``signer`` for ``purpose``, or raise :class:`GrantRefused`
        (nothing recorded) saying why not. ``grants_required`` defaults to the registry's setting."""
        if purpose not in PURPOSES:
            raise SealError(f"unknown purpose {purpose!r}: use {', '.join(PURPOSES)}")
        required = self.grants_required if grants_required is None else grants_required
        holder = cert_digest(signer.dump())
        with self.transaction() as tx:
            seal = self._seal_row(tx.conn, es_id, check=False)
            grants = self._seal_grants(tx.conn, es_id, also=[f"seal:{es_id}", f"revocation:{es_id}"])
            if seal.status == "revoked":
                raise SealRevoked(f"seal {es_id} is revoked")
            if seal.status == "disabled":
                raise SealDisabled(f"seal {es_id} is disabled")
            grant = _live_grant(es_id, grants, holder, purpose, parse_utc(tx.now), required)
            use_id = next_id(tx.conn, schema.uses.c.use_id, "U", 8)
            tx.conn.execute(
                schema.uses.insert().values(
                    use_id=use_id,
                    es_id=es_id,
                    grant_id=grant.grant_id if grant else None,
                    status="reserved",
                    purpose=purpose,
                    signer_sha256=holder,
                    signer_subject=str(signer.subject.human_friendly),
                    actor=tx.actor,
                    reserved_at=tx.now,
                )
            )
            details = {"seal": es_id, "grant": grant.grant_id if grant else None, "purpose": purpose}
            tx.record("use-reserve", f"use:{use_id}", {**details, "signer": holder})
            return self._use(tx.conn, use_id)

    def complete_use(self, use_id: str, document: SignedDocument) -> Use:
        """Record the signed document of a reserved use; the use is then ``done``."""
        values = {
            "status": "done",
            "document": document.name,
            "field": document.field,
            "page": document.page,
            "rect": json.dumps(list(document.rect)) if document.rect else None,
            "sm3": document.sm3,
            "sha256": document.sha256,
            "revision_sha256": document.revision_sha256,
        }
        return self._finish(use_id, "use", values)

    def fail_use(self, use_id: str, why: str) -> Use:
        """Mark a reserved use ``failed`` (no document was made); it no longer counts."""
        return self._finish(use_id, "use-failed", {"status": "failed", "note": why[:500]})

    def _finish(self, use_id: str, action: str, values: dict[str, Any]) -> Use:
        with self.transaction() as tx:
            self.check_subjects(tx.conn, [f"use:{use_id}"])
            current = self._use(tx.conn, use_id)
            if current.status != "reserved":
                raise SealError(f"use {use_id} is {current.status}, not reserved")
            table = schema.uses
            tx.conn.execute(update(table).where(table.c.use_id == use_id).values(done_at=tx.now, **values))
            details = {k: v for k, v in values.items() if v is not None}
            tx.record(action, f"use:{use_id}", {"seal": current.es_id, **details})
            return self._use(tx.conn, use_id)

    def uses(self, es_id: str | None = None, *, since: dt.datetime | None = None) -> list[Use]:
        """The register of ``es_id`` (every seal's when None), oldest first; from ``since`` when given."""
        table = schema.uses
        query = select(table).order_by(table.c.use_id)
        if es_id is not None:
            query = query.where(table.c.es_id == es_id)
        if since is not None:
            from sealkit.seal.registry import utc_text

            query = query.where(table.c.reserved_at >= utc_text(timefmt.aware(since)))
        with self.reading() as conn:
            return [_use(r._mapping) for r in conn.execute(query)]

    def use_for_revision(self, revision_sha256: str) -> Use | None:
        """The ``done`` use whose signed revision has this SHA-256, checked against the audit chain."""
        table = schema.uses
        query = select(table).where(table.c.revision_sha256 == revision_sha256, table.c.status == "done")
        with self.snapshot() as conn:
            row = conn.execute(query.order_by(table.c.use_id)).first()
            if row is None:
                return None
            self.check_subjects(conn, [f"use:{row.use_id}"])
            return _use(row._mapping)

    def _use(self, conn: Any, use_id: str) -> Use:
        row = conn.execute(select(schema.uses).where(schema.uses.c.use_id == use_id)).first()
        if row is None:
            raise SealError(f"no use {use_id!r} in the register")
        return _use(row._mapping)


def _live_grant(
    es_id: str, grants: list[Grant], holder: str, purpose: str, now: dt.datetime, required: bool
) -> Grant | None:
    """The grant that lets ``holder`` use the seal now for ``purpose``; None for a seal without grants
    (unless ``required``); :class:`GrantRefused` with the nearest reason otherwise."""
    if not grants:
        if required:
            raise GrantRefused(
                f"seal {es_id} has no grant and this registry requires one ([registry] grants_required): "
                "ask the seal's administrator for `sealkit seal grant`"
            )
        return None
    own = [g for g in grants if g.holder_sha256 == holder]
    if not own:
        raise GrantRefused(f"no grant of seal {es_id} to this signer: ask the seal's administrator for one")
    problems = []
    for grant in own:
        problem = grant.live_problem(now, purpose)
        if problem is None:
            return grant
        problems.append(problem)
    raise GrantRefused(f"seal {es_id} may not be used by this signer now: {problems[-1]}")


def _use(row: Any) -> Use:
    document = None
    if row["status"] == "done":
        rect = json.loads(row["rect"]) if row["rect"] else None
        document = SignedDocument(
            name=row["document"] or "",
            sm3=row["sm3"] or "",
            sha256=row["sha256"] or "",
            revision_sha256=row["revision_sha256"],
            field=row["field"],
            page=row["page"],
            rect=tuple(rect) if rect else None,
        )
    return Use(
        use_id=row["use_id"],
        es_id=row["es_id"],
        grant_id=row["grant_id"],
        status=row["status"],
        purpose=row["purpose"],
        signer_sha256=row["signer_sha256"],
        signer_subject=row["signer_subject"],
        actor=row["actor"],
        reserved_at=parse_utc(row["reserved_at"]),
        done_at=parse_utc(row["done_at"]) if row["done_at"] else None,
        document=document,
        note=row["note"],
    )
