"""The seal registry: units, seals, their versions, revocations and the audit chain; SQLite or PostgreSQL.

Every lifecycle change runs as ONE transaction that also appends its audit entries, and writers are
serialised: SQLite transactions start with ``BEGIN IMMEDIATE``, PostgreSQL ones take a transaction-level
advisory lock first. So two processes never lose an update or fork the audit chain, and a process killed in
the middle of a change leaves nothing of it. :mod:`sealkit.seal.lifecycle` builds the seal operations on this.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from sealkit.errors import RegistryError
from sealkit.seal import audit, schema

#: Test-only hook: when set to a path, lifecycle transactions create that file and then sleep, uncommitted,
#: so that a test can kill the process in the middle of a change.
PAUSE_ENV = "SEALKIT_TEST_PAUSE_IN_TXN"
_PG_LOCK_KEY = 38540


def utc_text(moment: dt.datetime | None = None) -> str:
    """``moment`` (default now) as the registry stores it: ISO 8601 UTC, seconds."""
    moment = moment or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise RegistryError("registry times must carry a time zone")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


@dataclass
class Transaction:
    """A locked lifecycle transaction: ``conn`` for SQL, :meth:`record` for audit entries."""

    conn: Connection
    actor: str
    now: str

    def record(self, action: str, subject: str, details: dict[str, Any]) -> None:
        """Append an audit entry about ``subject``, committing to its state now, in this transaction."""
        last = self.conn.execute(
            select(schema.audit.c.seq, schema.audit.c.hash).order_by(schema.audit.c.seq.desc()).limit(1)
        ).first()
        entry = {
            "seq": (last.seq + 1) if last else 1,
            "time": self.now,
            "actor": self.actor,
            "action": action,
            "subject": subject,
            "details": audit.canonical(details),
            "state_digest": audit.subject_state(self.conn, subject),
            "prev_hash": last.hash if last else audit.GENESIS,
        }
        entry["hash"] = audit.entry_hash(entry)
        self.conn.execute(schema.audit.insert().values(**entry))


class RegistryStore:
    """The database behind a registry: connection, locking, migrations, the audit chain."""

    def __init__(self, url: str, *, actor: str | None = None) -> None:
        self.url = url
        self.actor = actor or default_actor()
        self.engine = _make_engine(url)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        with self.transaction() as tx:
            schema.migrate(tx.conn, tx.now)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A serialised read-write transaction; commits when the block succeeds."""
        try:
            with self.engine.begin() as conn:
                if self.is_postgres:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                yield Transaction(conn, self.actor, utc_text())
                _test_pause()
        except OperationalError as exc:
            raise RegistryError(f"registry {self.safe_url} failed: {_first_line(exc)}") from None

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise RegistryError(f"registry {self.safe_url} failed: {_first_line(exc)}") from None

    @property
    def safe_url(self) -> str:
        """The URL without its password."""
        return self.engine.url.render_as_string(hide_password=True)

    def audit_verify(self) -> audit.AuditReport:
        """Check the audit chain and that every row is what the chain last recorded."""
        with self.transaction() as tx:  # locked, so no writer moves the chain while we read it
            rows = [
                dict(r._mapping) for r in tx.conn.execute(select(schema.audit).order_by(schema.audit.c.seq))
            ]
            return audit.verify_chain(rows, audit.subject_states(tx.conn))

    def audit_entries(self, subject: str | None = None) -> list[dict[str, Any]]:
        query = select(schema.audit).order_by(schema.audit.c.seq)
        if subject:
            query = query.where(schema.audit.c.subject == subject)
        with self.reading() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def count(self, table: Any) -> int:
        with self.reading() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _make_engine(url: str) -> Engine:
    try:
        if url.startswith("sqlite:"):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 60})
            _sqlite_immediate(engine)
            return engine
        if url.startswith("postgresql"):
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            return create_engine(url, poolclass=NullPool)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise RegistryError(f"bad registry URL: {_first_line(exc)}") from None
    except SQLAlchemyError as exc:
        raise RegistryError(f"registry failed: {_first_line(exc)}") from None
    raise RegistryError("registry URL must start with sqlite:/// or postgresql://")


def _sqlite_immediate(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, start transactions, and start them with BEGIN IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _test_pause() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(600)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return " ".join(str(orig or exc).split("\n")[0].split())
