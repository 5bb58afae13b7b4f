"""The seal lifecycle over the registry: issue, extend, disable, enable, revoke, merge, import revocations.
(:func:`sealkit.seal.opening.open_registry` opens a registry as the configuration says.)

Each operation is one transaction of :class:`~sealkit.seal.registry.RegistryStore` with its audit entries.
Issuing and extending check the maker's certificate against the seal-maker anchors (purpose seal making);
every holder certificate must belong to the unit (:mod:`sealkit.seal.units`) unless the registrar overrides
it with a reason, which the audit trail and the seal itself record. Every unit code (successor, merged
units) passes the GB 32100 check.
Dates given as :class:`datetime.date` (and naive datetimes) are read in the display zone of
:mod:`sealkit.timefmt` (Beijing time, UTC+8, unless ``[time] zone`` says otherwise): a seal is valid from
00:00:00 of its first day to 23:59:59 of its last.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509
from sqlalchemy import Connection, select, update

from sealkit import timefmt
from sealkit.errors import CertificateError, InvalidInput, SealError, SealNotFound, SealRevoked
from sealkit.seal import images, schema
from sealkit.seal.asn1 import SEAL_TYPE_PERSONAL, SEAL_TYPE_UNIT
from sealkit.seal.codes import require_uscc
from sealkit.seal.crypto import cert_digest, check_path
from sealkit.seal.form import UnitForm
from sealkit.seal.make import SealSpec, make_seal
from sealkit.seal.parse import parse_seal
from sealkit.seal.registry import Transaction, parse_utc, utc_text
from sealkit.seal.revocation import Revocation, RevocationUnknown
from sealkit.seal.units import SealUnit, membership_problem, unit_extension
from sealkit.seal.uses import UseRegister
from sealkit.ukey.base import PrivateKeyHandle
from sealkit.validation import Purpose, TrustAnchor

CST = timefmt.BEIJING  # kept for importers; the display zone decides (timefmt.display_zone())
KIND_CODES = {"official": "01", "contract": "02", "legal-rep": "03", "finance": "05"}
PURPOSES = {"official": "", "contract": "合同专用章", "legal-rep": "", "finance": "财务专用章"}
STATUSES = ("enabled", "disabled", "revoked")
REASONS = ("dissolved", "merged", "imprint-void", "other")


@dataclass
class SealRecord:
    """A seal as the registry holds it."""

    es_id: str
    unit_uscc: str
    kind: str
    name: str
    status: str
    valid_start: dt.datetime
    valid_end: dt.datetime
    version: int
    seal_der: bytes
    image: bytes
    width_mm: int
    height_mm: int
    holder_digests: list[str]
    created_at: dt.datetime
    revocation: Revocation | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "es_id": self.es_id,
            "unit": self.unit_uscc,
            "kind": self.kind,
            "name": self.name,
            "status": self.status,
            "valid_start": timefmt.format_time(self.valid_start),
            "valid_end": timefmt.format_time(self.valid_end),
            "version": self.version,
            "size_mm": [self.width_mm, self.height_mm],
            "holder_cert_sha256": self.holder_digests,
            "created_at": timefmt.format_time(self.created_at),
            "revocation": self.revocation.to_dict() if self.revocation else None,
        }


def day_start(day: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(day, dt.datetime):
        return timefmt.aware(day)
    return dt.datetime.combine(day, dt.time(0, 0, 0), timefmt.display_zone())


def day_end(day: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(day, dt.datetime):
        return timefmt.aware(day)
    return dt.datetime.combine(day, dt.time(23, 59, 59), timefmt.display_zone())


class SealRegistry(UseRegister):
    """The lifecycle registry of electronic seals (SQLite or PostgreSQL URL), with the grants of their use
    (:mod:`sealkit.seal.grants`) and the use register (:mod:`sealkit.seal.uses`)."""

    # --- reading ---

    def get(self, es_id: str) -> SealRecord:
        with self.reading() as conn:
            return self._get(conn, es_id)

    def _get(self, conn: Connection, es_id: str) -> SealRecord:
        row = conn.execute(select(schema.seals).where(schema.seals.c.es_id == es_id)).first()
        if row is None:
            raise SealNotFound(f"no seal {es_id!r} in the registry")
        return _record(row._mapping, self._revocation(conn, es_id))

    def _checked_get(self, conn: Connection, es_id: str) -> SealRecord:
        """:meth:`_get` for a change: refused if the seal's rows are not what the audit chain recorded, so
        that a change never records (and so launders) an edit made behind sealkit's back."""
        record = self._get(conn, es_id)
        self.check_subjects(conn, [f"seal:{es_id}", f"revocation:{es_id}"])
        return record

    def _revocation(self, conn: Connection, es_id: str) -> Revocation | None:
        row = conn.execute(select(schema.revocations).where(schema.revocations.c.es_id == es_id)).first()
        return _revocation(row._mapping) if row else None

    def revocation(self, es_id: str) -> Revocation | None:
        """The revocation of ``es_id`` (a local seal or one from an imported list), or None."""
        with self.reading() as conn:
            return self._revocation(conn, es_id)

    def check_seal(self, es_id: str) -> None:
        """Raise :class:`~sealkit.errors.AuditChainBroken` unless ``es_id``'s seal and revocation rows are
        what the (intact, head-signed) audit chain last recorded about them."""
        with self.snapshot() as conn:
            self.check_subjects(conn, [f"seal:{es_id}", f"revocation:{es_id}"])

    def checked_revocation(self, es_id: str) -> Revocation | None:
        """:meth:`revocation` after :meth:`check_seal`, in one consistent read. A seal the registry knows
        nothing about (neither issued here nor in an imported list) raises :class:`RevocationUnknown`: an
        old copy of the registry, or another one signed by the same key, must not vouch for it."""
        with self.snapshot() as conn:
            self.check_subjects(conn, [f"seal:{es_id}", f"revocation:{es_id}"])
            revocation = self._revocation(conn, es_id)
            known = conn.execute(select(schema.seals.c.es_id).where(schema.seals.c.es_id == es_id)).first()
            if revocation is None and known is None:
                as_of = _state_time(conn)
                state = f"state of {timefmt.format_time(as_of)}" if as_of else "empty"
                raise RevocationUnknown(
                    f"the registry {self.safe_url} ({state}) does not know seal {es_id}: its revocation "
                    "status is unknown (use the registry that issued it, or its revocation list)"
                )
            return revocation

    def state_time(self) -> dt.datetime | None:
        """When the registry last changed: the time of its newest audit entry (under the signed head), so
        a reader can see how fresh the revocation state it gives is. None for an empty registry."""
        with self.reading() as conn:
            return _state_time(conn)

    def revocations(self, *, source: str | None = None) -> list[Revocation]:
        query = select(schema.revocations).order_by(
            schema.revocations.c.revoked_at, schema.revocations.c.es_id
        )
        if source:
            query = query.where(schema.revocations.c.source == source)
        with self.reading() as conn:
            return [_revocation(r._mapping) for r in conn.execute(query)]

    def list_seals(
        self,
        *,
        unit: str | None = None,
        status: str | None = None,
        expiring_within: dt.timedelta | None = None,
    ) -> list[SealRecord]:
        """Seals, filtered by unit (USCC), status, or validity ending within ``expiring_within`` from now
        (then only enabled seals: revoked and disabled seals do not expire, they are already out; a seal
        past its end and still enabled is listed, it is overdue)."""
        query = select(schema.seals).order_by(schema.seals.c.es_id)
        if unit:
            query = query.where(schema.seals.c.unit_uscc == unit)
        if status:
            if status not in STATUSES:
                raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
            query = query.where(schema.seals.c.status == status)
        if expiring_within is not None:
            limit = utc_text(dt.datetime.now(dt.UTC) + expiring_within)
            query = query.where(schema.seals.c.valid_end <= limit, schema.seals.c.status == "enabled")
        with self.reading() as conn:
            return [_record(r._mapping, self._revocation(conn, r.es_id)) for r in conn.execute(query)]

    def versions(self, es_id: str) -> list[tuple[int, dt.datetime, bytes]]:
        """Every SESeal version of ``es_id``: (version, created, DER)."""
        query = select(schema.seal_versions).where(schema.seal_versions.c.es_id == es_id)
        with self.reading() as conn:
            rows = conn.execute(query.order_by(schema.seal_versions.c.version)).all()
        return [(r.version, parse_utc(r.created_at), bytes(r.seal_der)) for r in rows]

    def unit_form(self, uscc: str) -> dict[str, Any] | None:
        with self.reading() as conn:
            row = conn.execute(select(schema.units).where(schema.units.c.uscc == uscc)).first()
        return json.loads(row.form_json) if row else None

    # --- lifecycle ---

    def issue(
        self,
        form: UnitForm,
        kind: str,
        holder_certs: Sequence[asn1_x509.Certificate],
        maker: PrivateKeyHandle,
        maker_cert: asn1_x509.Certificate,
        valid_until: dt.date | dt.datetime,
        *,
        valid_from: dt.date | dt.datetime | None = None,
        image: bytes | None = None,
        font: str | None = None,
        maker_trust: Sequence[TrustAnchor] | None = None,
        allow_foreign_holder: str | None = None,
    ) -> SealRecord:
        """Make, sign and register a new seal for the unit of ``form``; returns its record.

        ``maker_trust`` are the seal-maker anchors the maker's certificate must chain to (purpose seal
        making); every holder must belong to the unit (its USCC in the subject, or O = the unit's name)
        unless ``allow_foreign_holder`` gives the reason to accept one that does not — recorded in the audit
        trail, and the maker signs the exception into the seal."""
        if kind not in KIND_CODES:
            raise InvalidInput(f"unknown seal kind {kind!r}: use one of {', '.join(KIND_CODES)}")
        uscc = require_uscc(form.uscc, "unit.uscc")
        start = day_start(valid_from or dt.datetime.now(timefmt.display_zone()).date())
        end = day_end(valid_until)
        if end <= start:
            raise InvalidInput("--valid-until must be after --valid-from")
        _check_maker(maker_cert, maker_trust)
        foreign = _foreign_holders(holder_certs, SealUnit(uscc, form.name, "seal"), allow_foreign_holder)
        picture = _picture(form, kind, image, font)
        name = (form.legal_representative or "") if kind == "legal-rep" else form.name + PURPOSES[kind]
        allowed = [bytes.fromhex(cert_digest(c.dump())) for c in foreign]
        with self.transaction() as tx:
            es_id = self._next_id(tx.conn, form.region_code, kind)
            spec = SealSpec(
                es_id=es_id,
                name=name,
                holder_certs=[c.dump() for c in holder_certs],
                valid_start=start,
                valid_end=end,
                picture=picture.png,
                width_mm=round(picture.width_mm),
                height_mm=round(picture.height_mm),
                seal_type=SEAL_TYPE_PERSONAL if kind == "legal-rep" else SEAL_TYPE_UNIT,
                create_date=parse_utc(tx.now),
                extensions=[unit_extension(uscc, form.name, allowed)],
            )
            der = make_seal(spec, maker, maker_cert)
            self._save_unit(tx, form)
            tx.conn.execute(
                schema.seals.insert().values(
                    es_id=es_id,
                    unit_uscc=uscc,
                    kind=kind,
                    name=name,
                    status="enabled",
                    valid_start=utc_text(start),
                    valid_end=utc_text(end),
                    version=1,
                    seal_der=der,
                    image=picture.png,
                    width_mm=spec.width_mm,
                    height_mm=spec.height_mm,
                    holder_digests=json.dumps([cert_digest(c.dump()) for c in holder_certs]),
                    created_at=tx.now,
                )
            )
            tx.conn.execute(
                schema.seal_versions.insert().values(es_id=es_id, version=1, created_at=tx.now, seal_der=der)
            )
            details: dict[str, Any] = {"unit": uscc, "kind": kind, "valid_end": utc_text(end)}
            if foreign:
                details["foreign_holders"] = {
                    "reason": allow_foreign_holder,
                    "certificates": [
                        {"subject": str(c.subject.human_friendly), "sha256": cert_digest(c.dump())}
                        for c in foreign
                    ],
                }
            tx.record("issue", f"seal:{es_id}", details)
            return self._get(tx.conn, es_id)

    def extend(
        self,
        es_id: str,
        until: dt.date | dt.datetime,
        maker: PrivateKeyHandle,
        maker_cert: asn1_x509.Certificate,
        *,
        maker_trust: Sequence[TrustAnchor] | None = None,
    ) -> SealRecord:
        """A new SESeal version valid until ``until``, re-signed by the maker (checked against
        ``maker_trust`` like :meth:`issue`); refused once revoked. The holders and the unit stay."""
        end = day_end(until)
        _check_maker(maker_cert, maker_trust)
        with self.transaction() as tx:
            record = self._checked_get(tx.conn, es_id)
            if record.status == "revoked":
                raise SealRevoked(f"seal {es_id} is revoked and cannot be extended")
            if end <= record.valid_start:
                raise InvalidInput("the new end of validity is before the seal's start")
            current = parse_seal(record.seal_der)
            spec = SealSpec(
                es_id=es_id,
                name=current.name,
                holder_certs=current.certs,
                valid_start=current.valid_start,
                valid_end=end,
                picture=current.picture,
                picture_type=current.picture_type,
                width_mm=current.width_mm,
                height_mm=current.height_mm,
                seal_type=current.seal_type,
                create_date=parse_utc(tx.now),
                extensions=current.extensions,
            )
            der = make_seal(spec, maker, maker_cert)
            version = record.version + 1
            tx.conn.execute(
                update(schema.seals)
                .where(schema.seals.c.es_id == es_id)
                .values(version=version, seal_der=der, valid_end=utc_text(end))
            )
            tx.conn.execute(
                schema.seal_versions.insert().values(
                    es_id=es_id, version=version, created_at=tx.now, seal_der=der
                )
            )
            tx.record("extend", f"seal:{es_id}", {"version": version, "valid_end": utc_text(end)})
            return self._get(tx.conn, es_id)

    def set_enabled(self, es_id: str, enabled: bool) -> SealRecord:
        """Disable or re-enable a seal; a revoked seal stays revoked."""
        status = "enabled" if enabled else "disabled"
        with self.transaction() as tx:
            record = self._checked_get(tx.conn, es_id)
            if record.status == "revoked":
                raise SealRevoked(f"seal {es_id} is revoked and cannot be {status}")
            if record.status != status:
                tx.conn.execute(
                    update(schema.seals).where(schema.seals.c.es_id == es_id).values(status=status)
                )
                tx.record("enable" if enabled else "disable", f"seal:{es_id}", {"status": status})
            return self._get(tx.conn, es_id)

    def revoke(
        self, es_id: str, reason: str, *, successor: str | None = None, note: str | None = None
    ) -> SealRecord:
        """Revoke a seal (dissolved, merged, imprint-void, other), naming the successor unit if any."""
        with self.transaction() as tx:
            self._revoke(tx, es_id, reason, successor, note)
            return self._get(tx.conn, es_id)

    def _revoke(
        self, tx: Transaction, es_id: str, reason: str, successor: str | None, note: str | None
    ) -> None:
        if reason not in REASONS:
            raise InvalidInput(f"unknown revocation reason {reason!r}: use one of {', '.join(REASONS)}")
        if successor is not None:
            successor = require_uscc(successor, "the successor unit")
        record = self._checked_get(tx.conn, es_id)
        if record.status == "revoked":
            raise SealRevoked(f"seal {es_id} is already revoked")
        tx.conn.execute(update(schema.seals).where(schema.seals.c.es_id == es_id).values(status="revoked"))
        tx.conn.execute(
            schema.revocations.insert().values(
                es_id=es_id, revoked_at=tx.now, reason=reason, successor=successor, note=note, source="local"
            )
        )
        details = {"reason": reason, "successor": successor, "note": note}
        tx.record("revoke", f"revocation:{es_id}", details)
        tx.record("revoke", f"seal:{es_id}", details)

    def merge(self, units: Sequence[str], into: str, *, note: str | None = None) -> list[str]:
        """Revoke every unrevoked seal of ``units`` with reason merged and successor ``into``, atomically."""
        units = [require_uscc(unit, "the merged unit") for unit in units]
        into = require_uscc(into, "the unit merged into")
        if into in units:
            raise InvalidInput("a unit cannot be merged into itself")
        with self.transaction() as tx:
            query = select(schema.seals.c.es_id).where(schema.seals.c.unit_uscc.in_(list(units)))
            ids = [r.es_id for r in tx.conn.execute(query.where(schema.seals.c.status != "revoked"))]
            if not ids:
                raise SealError(f"no unrevoked seal belongs to {', '.join(units)}")
            for es_id in sorted(ids):
                self._revoke(tx, es_id, "merged", into, note)
            return sorted(ids)

    def import_revocations(self, entries: Sequence[Revocation], source: str) -> int:
        """Store revocations from a verified list; returns how many were new."""
        added = 0
        with self.transaction() as tx:
            for entry in entries:
                if entry.successor is not None:
                    require_uscc(entry.successor, f"the successor of seal {entry.es_id}")
                if self._revocation(tx.conn, entry.es_id) is not None:
                    continue
                tx.conn.execute(
                    schema.revocations.insert().values(
                        es_id=entry.es_id,
                        revoked_at=utc_text(entry.revoked_at),
                        reason=entry.reason,
                        successor=entry.successor,
                        note=entry.note,
                        source=source,
                    )
                )
                tx.record("import-revocation", f"revocation:{entry.es_id}", {"source": source})
                added += 1
        return added

    # --- helpers ---

    def _next_id(self, conn: Connection, region: str, kind: str) -> str:
        prefix = region + KIND_CODES[kind]
        query = select(schema.seals.c.es_id).where(schema.seals.c.es_id.like(prefix + "%"))
        numbers = [
            int(r.es_id[len(prefix) :]) for r in conn.execute(query) if r.es_id[len(prefix) :].isdigit()
        ]
        return f"{prefix}{max(numbers, default=0) + 1:06d}"

    def _save_unit(self, tx: Transaction, form: UnitForm) -> None:
        data = {
            k: (str(v) if v is not None and not isinstance(v, (bool, str)) else v)
            for k, v in _form_dict(form).items()
        }
        values = {
            "name": form.name,
            "region_code": form.region_code,
            "form_json": json.dumps(data, ensure_ascii=False, sort_keys=True),
        }
        existing = tx.conn.execute(select(schema.units).where(schema.units.c.uscc == form.uscc)).first()
        if existing is None:
            tx.conn.execute(schema.units.insert().values(uscc=form.uscc, **values))
        elif dict(existing._mapping) == {"uscc": form.uscc, **values}:
            return
        else:
            tx.conn.execute(update(schema.units).where(schema.units.c.uscc == form.uscc).values(**values))
        tx.record("unit", f"unit:{form.uscc}", {"name": form.name})


def _check_maker(maker_cert: asn1_x509.Certificate, trust: Sequence[TrustAnchor] | None) -> None:
    """The maker's certificate must chain to the seal-maker anchors for seal making (when they are given)."""
    if trust is None:
        return
    if not trust:
        raise CertificateError(
            "no seal-maker trust anchors: give --seal-maker-trust or set [trust] seal_makers"
        )
    path = check_path(maker_cert, trust, Purpose.SEAL_MAKING)
    if not path.ok:
        raise CertificateError(f"the maker may not make seals: {path.message} [seal.maker-untrusted]")


def _foreign_holders(
    holders: Sequence[asn1_x509.Certificate], unit: SealUnit, allow: str | None
) -> list[asn1_x509.Certificate]:
    """The holders that do not belong to ``unit``; refused unless ``allow`` gives a reason."""
    foreign, problems = [], []
    for cert in holders:
        problem = membership_problem(cert, unit)
        if problem:
            foreign.append(cert)
            problems.append(problem)
    if problems and not (allow and allow.strip()):
        raise SealError(
            f"holder certificate refused: {problems[0]} (give --allow-foreign-holder REASON to issue anyway; "
            "the reason is recorded in the audit trail)"
        )
    return foreign


def _form_dict(form: UnitForm) -> dict[str, Any]:
    data = dataclasses.asdict(form)
    data["contacts"] = {role: dataclasses.asdict(c) for role, c in form.contacts.items()}
    return data


def _picture(form: UnitForm, kind: str, image: bytes | None, font: str | None) -> images.SealImage:
    size = images.SIZES_MM[kind]
    if image is None:
        scan = form.legal_rep_imprint if kind == "legal-rep" else form.unit_imprint
        image = scan.read_bytes() if scan else None
    if image is not None:
        return images.imprint_from_scan(image, size[0], size[1])
    if kind == "legal-rep":
        if not form.legal_representative:
            raise InvalidInput(
                "unit.legal_representative is needed to render the legal representative's seal"
            )
        return images.render_seal(kind, form.legal_representative, font=font)
    return images.render_seal(kind, form.name, font=font)


def _record(row: Any, revocation: Revocation | None) -> SealRecord:
    return SealRecord(
        es_id=row["es_id"],
        unit_uscc=row["unit_uscc"],
        kind=row["kind"],
        name=row["name"],
        status=row["status"],
        valid_start=parse_utc(row["valid_start"]),
        valid_end=parse_utc(row["valid_end"]),
        version=row["version"],
        seal_der=bytes(row["seal_der"]),
        image=bytes(row["image"]),
        width_mm=row["width_mm"],
        height_mm=row["height_mm"],
        holder_digests=json.loads(row["holder_digests"]),
        created_at=parse_utc(row["created_at"]),
        revocation=revocation,
    )


def _revocation(row: Any) -> Revocation:
    return Revocation(
        es_id=row["es_id"],
        revoked_at=parse_utc(row["revoked_at"]),
        reason=row["reason"],
        successor=row["successor"],
        note=row["note"],
        source=row["source"],
    )


def _state_time(conn: Connection) -> dt.datetime | None:
    row = conn.execute(select(schema.audit.c.time).order_by(schema.audit.c.seq.desc()).limit(1)).first()
    return parse_utc(row.time) if row else None
