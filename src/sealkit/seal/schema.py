"""The registry's tables (SQLAlchemy Core, one schema for SQLite and PostgreSQL) and numbered migrations.

``schema_version`` records each applied migration; :func:`migrate` applies the missing ones in order, inside
the caller's (locked) transaction, so two processes opening a fresh registry do not both create it.
Times are stored as ISO 8601 UTC text (``2025-01-31T08:00:00Z``) so that both databases hash them alike.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    inspect,
    select,
)

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", String(32), nullable=False),
)

units = Table(
    "units",
    metadata,
    Column("uscc", String(18), primary_key=True),
    Column("name", Text, nullable=False),
    Column("region_code", String(6), nullable=False),
    Column("form_json", Text, nullable=False),
)

seals = Table(
    "seals",
    metadata,
    Column("es_id", String(64), primary_key=True),
    Column("unit_uscc", String(18), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("status", String(16), nullable=False),  # enabled | disabled | revoked
    Column("valid_start", String(32), nullable=False),
    Column("valid_end", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("seal_der", LargeBinary, nullable=False),
    Column("image", LargeBinary, nullable=False),
    Column("width_mm", Integer, nullable=False),
    Column("height_mm", Integer, nullable=False),
    Column("holder_digests", Text, nullable=False),  # JSON list of SHA-256 hex
    Column("created_at", String(32), nullable=False),
)

seal_versions = Table(
    "seal_versions",
    metadata,
    Column("es_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("seal_der", LargeBinary, nullable=False),
    PrimaryKeyConstraint("es_id", "version"),
)

revocations = Table(
    "revocations",
    metadata,
    Column("es_id", String(64), primary_key=True),
    Column("revoked_at", String(32), nullable=False),
    Column("reason", String(16), nullable=False),  # dissolved | merged | imprint-void | other
    Column("successor", String(18)),
    Column("note", Text),
    Column("source", String(80), nullable=False),  # "local" or "import:<authority certificate SHA-256>"
)

audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("time", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject", String(96), nullable=False),  # "seal:<esID>", "unit:<USCC>", "revocation:<esID>",
    # "grant:<ID>", "use:<ID>"
    Column("details", Text, nullable=False),  # canonical JSON
    Column("state_digest", String(64), nullable=False),  # SHA-256 of the subject's state after the action
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)


#: The signed head of the audit chain: one row (id 1), re-signed by the registry key with every change.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("signed_at", String(32), nullable=False),
    Column("algorithm", String(64), nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("cert_sha256", String(64), nullable=False),
)


#: Grants of a seal's use (用印授权): to a holder certificate, for a period, purposes and a number of uses.
grants = Table(
    "grants",
    metadata,
    Column("grant_id", String(32), primary_key=True),
    Column("es_id", String(64), nullable=False, index=True),
    Column("holder_sha256", String(64), nullable=False),
    Column("holder_subject", Text, nullable=False),
    Column("valid_from", String(32), nullable=False),
    Column("valid_until", String(32), nullable=False),
    Column("purposes", Text, nullable=False),  # JSON list; empty: any purpose
    Column("max_uses", Integer),  # NULL: no limit
    Column("status", String(16), nullable=False),  # active | suspended | withdrawn
    Column("suspensions", Text, nullable=False),  # JSON list of [from, until-or-null]
    Column("withdrawn_at", String(32)),
    Column("created_at", String(32), nullable=False),
    Column("granted_by", Text, nullable=False),
)

#: The use register (用印登记): one row per use of a registry seal, reserved before the signature is made.
uses = Table(
    "uses",
    metadata,
    Column("use_id", String(32), primary_key=True),
    Column("es_id", String(64), nullable=False, index=True),
    Column("grant_id", String(32)),  # NULL: a seal without grants (grants not required)
    Column("status", String(16), nullable=False),  # reserved | done | failed
    Column("purpose", String(16), nullable=False),
    Column("signer_sha256", String(64), nullable=False),
    Column("signer_subject", Text, nullable=False),
    Column("actor", Text, nullable=False),  # who had the seal used: a person, or a service's client alias
    Column("reserved_at", String(32), nullable=False),
    Column("done_at", String(32)),
    Column("document", Text),  # the document's name
    Column("field", Text),
    Column("page", Integer),
    Column("rect", Text),  # JSON [x, y, width, height] in mm (PDF: from the lower-left)
    Column("sm3", String(64)),
    Column("sha256", String(64)),
    Column("revision_sha256", String(64), index=True),  # SHA-256 of the signed revision
    Column("note", Text),
)


def _v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=[units, seals, seal_versions, revocations, audit])


def _v2(conn: Connection) -> None:
    metadata.create_all(conn, tables=[audit_head])


def _v3(conn: Connection) -> None:
    metadata.create_all(conn, tables=[grants, uses])


#: Numbered migrations, applied in order. Append; never edit one that has shipped.
MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [(1, _v1), (2, _v2), (3, _v3)]
LATEST = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    value = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc())).first()
    return int(value[0]) if value else 0


def migrate(conn: Connection, now: str) -> int:
    """Apply the missing migrations on ``conn`` (inside its transaction); returns the resulting version."""
    if not inspect(conn).has_table("schema_version"):
        metadata.create_all(conn, tables=[schema_version])
    done = current_version(conn)
    for number, step in MIGRATIONS:
        if number > done:
            step(conn)
            conn.execute(schema_version.insert().values(version=number, applied_at=now))
            done = number
    return done
