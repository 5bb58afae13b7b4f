"""Grants of a seal's use (用印授权): who may use a registry seal, until when, for what, how many times.

A seal's administrator grants its use to one of the seal's holder certificates for a period and, optionally,
for purposes (:data:`PURPOSES`) and a maximum number of uses; grants are listed, suspended, resumed and
withdrawn. Every change is one registry transaction with its audit entry (subject ``grant:<ID>``), which
names the actor and, when administrators are configured, carries an administrator's signature
(:mod:`sealkit.seal.roles`). Grants belong to the seal, not to a version of it: extending a seal keeps them.

:meth:`Grant.problem_at` says whether a grant covered a moment (for verification at a proven time: a grant
withdrawn or suspended later still covered the uses before); :meth:`Grant.live_problem` adds the grant's
state now and its remaining count (for signing). :mod:`sealkit.seal.uses` builds the use register on this;
the count that gates a use is the audit chain's (:func:`chain_uses`), after every use of the seal was
checked against the chain, so a use row edited or deleted behind sealkit gives no use back. (Listings —
:meth:`GrantRegistry.grants` — count the rows, for display.)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import x509 as asn1_x509
from sqlalchemy import Connection, func, select, update

from sealkit import timefmt
from sealkit.errors import InvalidInput, SealError, SealNotFound, SealRevoked
from sealkit.seal import schema
from sealkit.seal.crypto import cert_digest
from sealkit.seal.registry import RegistryStore, parse_utc, utc_text

PURPOSES = ("contract", "bid", "filing")
GRANT_STATUSES = ("active", "suspended", "withdrawn")
#: Uses that count against a grant's maximum: made, or reserved and not (yet) failed.
COUNTED = ("reserved", "done")


@dataclass
class Grant:
    """A grant as the registry holds it; ``used`` is how many of its uses are made or reserved."""

    grant_id: str
    es_id: str
    holder_sha256: str
    holder_subject: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    purposes: list[str]
    max_uses: int | None
    status: str
    suspensions: list[tuple[dt.datetime, dt.datetime | None]]
    withdrawn_at: dt.datetime | None
    created_at: dt.datetime
    granted_by: str
    used: int = 0

    def problem_at(
        self, moment: dt.datetime, purpose: str | None = None, *, history: bool = True
    ) -> str | None:
        """None if this grant covered ``moment`` (and ``purpose``, when given), else why not. The registry
        keeps whole seconds: a withdrawal or suspension counts from the second after it was recorded.
        ``history=False`` leaves withdrawals and suspensions out (the grant's status says them for now)."""
        moment = moment.replace(microsecond=0)
        if moment < self.valid_from:
            return f"grant {self.grant_id} starts {timefmt.format_time(self.valid_from)}"
        if moment > self.valid_until:
            return f"grant {self.grant_id} expired {timefmt.format_time(self.valid_until)}"
        if history and self.withdrawn_at is not None and moment > self.withdrawn_at:
            return f"grant {self.grant_id} was withdrawn {timefmt.format_time(self.withdrawn_at)}"
        for start, end in self.suspensions if history else []:
            if start < moment and (end is None or moment <= end):
                return f"grant {self.grant_id} is suspended since {timefmt.format_time(start)}"
        if purpose is not None and self.purposes and purpose not in self.purposes:
            return f"grant {self.grant_id} is for {', '.join(self.purposes)}, not {purpose}"
        return None

    def live_problem(self, now: dt.datetime, purpose: str) -> str | None:
        """None if this grant lets its holder use the seal ``now`` for ``purpose`` once more."""
        if self.status != "active":
            return f"grant {self.grant_id} is {self.status}"
        problem = self.problem_at(now, purpose, history=False)
        if problem is None and self.max_uses is not None and self.used >= self.max_uses:
            problem = f"grant {self.grant_id} is used up ({self.used} of {self.max_uses} uses)"
        return problem

    def to_dict(self) -> dict[str, Any]:
        return {
            "grant_id": self.grant_id,
            "seal": self.es_id,
            "holder_cert_sha256": self.holder_sha256,
            "holder": self.holder_subject,
            "valid_from": timefmt.format_time(self.valid_from),
            "valid_until": timefmt.format_time(self.valid_until),
            "purposes": self.purposes or ["any"],
            "max_uses": self.max_uses,
            "used": self.used,
            "status": self.status,
            "suspensions": [
                [timefmt.format_time(a), timefmt.format_time(b) if b else None] for a, b in self.suspensions
            ],
            "withdrawn_at": timefmt.format_time(self.withdrawn_at) if self.withdrawn_at else None,
            "created_at": timefmt.format_time(self.created_at),
            "granted_by": self.granted_by,
        }


@dataclass
class GrantRequest:
    """What :meth:`GrantRegistry.grant` is asked: ``until`` a date (its last second, display zone) or time."""

    holder: asn1_x509.Certificate
    until: dt.date | dt.datetime
    valid_from: dt.date | dt.datetime | None = None
    purposes: Sequence[str] = field(default_factory=tuple)
    max_uses: int | None = None


def next_id(conn: Connection, column: Any, prefix: str, digits: int) -> str:
    """The next ID of a table whose IDs are ``prefix`` and ``digits`` zero-padded digits (G000001, …)."""
    last = conn.execute(select(func.max(column))).scalar()
    return f"{prefix}{int(last[len(prefix) :]) + 1 if last else 1:0{digits}d}"


def _moment(value: dt.date | dt.datetime, end: bool) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return timefmt.aware(value)
    clock = dt.time(23, 59, 59) if end else dt.time(0, 0, 0)
    return dt.datetime.combine(value, clock, timefmt.display_zone())


class GrantRegistry(RegistryStore):
    """The registry's grants; :class:`sealkit.seal.lifecycle.SealRegistry` inherits them."""

    #: ``[registry] grants_required``: a seal without any grant cannot be used (set by ``open_registry``).
    grants_required: bool = False

    def grant(self, es_id: str, request: GrantRequest) -> Grant:
        """Grant the use of seal ``es_id`` to ``request.holder`` (one of the seal's holders)."""
        purposes = sorted(set(request.purposes))
        unknown = [p for p in purposes if p not in PURPOSES]
        if unknown:
            raise InvalidInput(f"unknown purpose {unknown[0]!r}: use {', '.join(PURPOSES)}")
        if request.max_uses is not None and request.max_uses < 1:
            raise InvalidInput("--max-uses must be at least 1")
        until = _moment(request.until, end=True)
        holder = cert_digest(request.holder.dump())
        with self.transaction() as tx:
            start = _moment(request.valid_from, end=False) if request.valid_from else parse_utc(tx.now)
            if until <= start:
                raise InvalidInput("--until must be after the grant's start")
            seal = self._seal_row(tx.conn, es_id)
            if seal.status == "revoked":
                raise SealRevoked(f"seal {es_id} is revoked: its use cannot be granted")
            if holder not in json.loads(seal.holder_digests):
                raise SealError(
                    f"{request.holder.subject.human_friendly} is not a holder of seal {es_id}: a grant goes "
                    "to one of the seal's holder certificates"
                )
            grant_id = next_id(tx.conn, schema.grants.c.grant_id, "G", 6)
            tx.conn.execute(
                schema.grants.insert().values(
                    grant_id=grant_id,
                    es_id=es_id,
                    holder_sha256=holder,
                    holder_subject=str(request.holder.subject.human_friendly),
                    valid_from=utc_text(start),
                    valid_until=utc_text(until),
                    purposes=json.dumps(purposes),
                    max_uses=request.max_uses,
                    status="active",
                    suspensions="[]",
                    withdrawn_at=None,
                    created_at=tx.now,
                    granted_by=tx.actor,
                )
            )
            details = {
                "seal": es_id,
                "holder": holder,
                "valid_from": utc_text(start),
                "valid_until": utc_text(until),
                "purposes": purposes,
                "max_uses": request.max_uses,
            }
            tx.record("grant", f"grant:{grant_id}", details)
            return self._grant(tx.conn, grant_id)

    def suspend_grant(self, grant_id: str, note: str | None = None) -> Grant:
        """Suspend a grant (it can be resumed); uses are refused meanwhile."""
        return self._change(grant_id, "suspend-grant", note)

    def resume_grant(self, grant_id: str, note: str | None = None) -> Grant:
        """Resume a suspended grant."""
        return self._change(grant_id, "resume-grant", note)

    def withdraw_grant(self, grant_id: str, note: str | None = None) -> Grant:
        """Withdraw a grant for good."""
        return self._change(grant_id, "withdraw-grant", note)

    def _change(self, grant_id: str, action: str, note: str | None) -> Grant:
        with self.transaction() as tx:
            self.check_subjects(tx.conn, [f"grant:{grant_id}"])
            current = self._grant(tx.conn, grant_id)
            if current.status == "withdrawn":
                raise SealError(f"grant {grant_id} is withdrawn")
            suspensions = [[utc_text(a), utc_text(b) if b else None] for a, b in current.suspensions]
            values: dict[str, Any]
            if action == "suspend-grant":
                if current.status == "suspended":
                    raise SealError(f"grant {grant_id} is already suspended")
                values = {"status": "suspended", "suspensions": json.dumps([*suspensions, [tx.now, None]])}
            elif action == "resume-grant":
                if current.status != "suspended":
                    raise SealError(f"grant {grant_id} is not suspended")
                suspensions[-1][1] = tx.now
                values = {"status": "active", "suspensions": json.dumps(suspensions)}
            else:
                if current.status == "suspended":
                    suspensions[-1][1] = tx.now
                values = {
                    "status": "withdrawn",
                    "withdrawn_at": tx.now,
                    "suspensions": json.dumps(suspensions),
                }
            table = schema.grants
            tx.conn.execute(update(table).where(table.c.grant_id == grant_id).values(**values))
            tx.record(action, f"grant:{grant_id}", {"seal": current.es_id, "note": note})
            return self._grant(tx.conn, grant_id)

    def grants(self, es_id: str | None = None) -> list[Grant]:
        """The grants of ``es_id`` (every seal's when None), oldest first."""
        query = select(schema.grants).order_by(schema.grants.c.grant_id)
        if es_id is not None:
            query = query.where(schema.grants.c.es_id == es_id)
        with self.reading() as conn:
            return [_grant(r._mapping, self._used(conn, r.grant_id)) for r in conn.execute(query)]

    def get_grant(self, grant_id: str) -> Grant:
        with self.reading() as conn:
            return self._grant(conn, grant_id)

    # --- helpers ---

    def _grant(self, conn: Connection, grant_id: str) -> Grant:
        row = conn.execute(select(schema.grants).where(schema.grants.c.grant_id == grant_id)).first()
        if row is None:
            raise SealError(f"no grant {grant_id!r} in the registry")
        return _grant(row._mapping, self._used(conn, grant_id))

    def _used(self, conn: Connection, grant_id: str) -> int:
        uses = schema.uses
        query = select(func.count()).where(uses.c.grant_id == grant_id, uses.c.status.in_(COUNTED))
        return int(conn.execute(query).scalar_one())

    def _seal_row(self, conn: Connection, es_id: str, *, check: bool = True) -> Any:
        """The seal's row for a change, after checking it against the audit chain (unless ``check`` is
        False: then the caller checks it with the rest, :meth:`_seal_grants`)."""
        row = conn.execute(select(schema.seals).where(schema.seals.c.es_id == es_id)).first()
        if row is None:
            raise SealNotFound(f"no seal {es_id!r} in the registry")
        if check:
            self.check_subjects(conn, [f"seal:{es_id}", f"revocation:{es_id}"])
        return row

    def _seal_grants(self, conn: Connection, es_id: str, also: Sequence[str] = ()) -> list[Grant]:
        """The seal's grants with their counts *as the audit chain has them*, for a use: the grants and every
        use of the seal — those in the register and those the chain recorded, so a use row deleted or
        marked failed behind sealkit is caught — are checked against the chain (with ``also``, in the same
        check), and each grant's count comes from the chain's own use entries, never from the rows alone."""
        query = select(schema.grants).where(schema.grants.c.es_id == es_id).order_by(schema.grants.c.grant_id)
        rows = list(conn.execute(query))
        recorded = chain_uses(conn, es_id)
        uses = schema.uses
        in_register = conn.execute(select(uses.c.use_id).where(uses.c.es_id == es_id)).scalars()
        use_ids = sorted(set(recorded) | set(in_register))
        subjects = [*also, *(f"grant:{r.grant_id}" for r in rows), *(f"use:{u}" for u in use_ids)]
        self.check_subjects(conn, subjects)
        counts: dict[str | None, int] = {}
        for grant_id, status in recorded.values():
            if status in COUNTED:
                counts[grant_id] = counts.get(grant_id, 0) + 1
        return [_grant(r._mapping, counts.get(r.grant_id, 0)) for r in rows]


#: The audit actions of a use and the status each leaves it in (:mod:`sealkit.seal.uses`).
USE_ACTIONS = {"use-reserve": "reserved", "use": "done", "use-failed": "failed"}


def chain_uses(conn: Connection, es_id: str) -> dict[str, tuple[str | None, str]]:
    """The uses of seal ``es_id`` as the audit chain recorded them: use ID -> (grant ID, status). Read in
    the transaction that checks the chain, this is the count a signature may rely on."""
    audit = schema.audit
    query = (
        select(audit.c.subject, audit.c.action, audit.c.details)
        .where(audit.c.action.in_(tuple(USE_ACTIONS)))
        .order_by(audit.c.seq)
    )
    found: dict[str, tuple[str | None, str]] = {}
    for subject, action, details in conn.execute(query):
        use_id = subject.partition(":")[2]
        if action == "use-reserve":
            recorded = json.loads(details)
            if recorded.get("seal") == es_id:
                found[use_id] = (recorded.get("grant"), USE_ACTIONS[action])
        elif use_id in found:
            found[use_id] = (found[use_id][0], USE_ACTIONS[action])
    return found


def _grant(row: Any, used: int) -> Grant:
    return Grant(
        grant_id=row["grant_id"],
        es_id=row["es_id"],
        holder_sha256=row["holder_sha256"],
        holder_subject=row["holder_subject"],
        valid_from=parse_utc(row["valid_from"]),
        valid_until=parse_utc(row["valid_until"]),
        purposes=json.loads(row["purposes"]),
        max_uses=row["max_uses"],
        status=row["status"],
        suspensions=[(parse_utc(a), parse_utc(b) if b else None) for a, b in json.loads(row["suspensions"])],
        withdrawn_at=parse_utc(row["withdrawn_at"]) if row["withdrawn_at"] else None,
        created_at=parse_utc(row["created_at"]),
        granted_by=row["granted_by"],
        used=used,
    )
