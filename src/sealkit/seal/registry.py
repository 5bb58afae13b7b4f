"""The seal registry: units, seals, their versions, revocations and the audit chain; SQLite or PostgreSQL.

Every lifecycle change runs as ONE transaction that also appends its audit entries and re-signs the chain's
head with the registry key (:class:`HeadSigner`), and writers are serialised: SQLite transactions start with
``BEGIN IMMEDIATE``, PostgreSQL ones take a transaction-level advisory lock first. So two processes never lose
an update or fork the audit chain, and a process killed in the middle of a change leaves nothing of it.

Readers that act on a seal (signing, verification) call :meth:`RegistryStore.check_subjects`: the seal's rows
must be what its audit entries last recorded, the chain must be intact, and its head signed by the registry
certificate when one is configured (a signed registry read without its certificate is refused:
:class:`~sealkit.errors.RegistryCertificateMissing`). A registry opened ``read_only`` (``?mode=ro`` in a
SQLite URL, or a file the process may not write) never migrates or locks. :mod:`sealkit.seal.lifecycle`
builds the seal operations on this.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from asn1crypto import x509 as asn1_x509
from sqlalchemy import Connection, Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from sealkit.errors import AuditChainBroken, CertificateError, RegistryCertificateMissing, RegistryError
from sealkit.seal import audit, schema
from sealkit.seal.crypto import cert_digest, check_path, sign_with
from sealkit.ukey.base import PrivateKeyHandle
from sealkit.validation import Purpose, key_matches_certificate

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


#: Approves an audit entry before it is written: (action, subject, details, time, actor) -> the details to
#: record (with the approval), or raises (:class:`sealkit.seal.roles.Roles.approve`).
Approver = Callable[[str, str, dict[str, Any], str, str], dict[str, Any]]


@dataclass
class Transaction:
    """A locked lifecycle transaction: ``conn`` for SQL, :meth:`record` for audit entries."""

    conn: Connection
    actor: str
    now: str
    recorded: int = 0
    approve: Approver | None = None

    def record(self, action: str, subject: str, details: dict[str, Any]) -> None:
        """Append an audit entry about ``subject``, committing to its state now, in this transaction; an
        administrator's action is first approved (:mod:`sealkit.seal.roles`), which may refuse it."""
        if self.approve is not None:
            details = self.approve(action, subject, details, self.now, self.actor)
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
        self.recorded += 1


class HeadSigner:
    """The registry key that signs the audit chain's head, and its certificate.

    ``key`` is a key handle, or a function that opens one: then the key (a token may ask for its PIN) is
    opened only when a change is to be signed, not by commands that merely read. ``owned``: the registry
    closes the key when it closes."""

    def __init__(
        self,
        key: PrivateKeyHandle | Callable[[], PrivateKeyHandle],
        cert: asn1_x509.Certificate,
        *,
        owned: bool = False,
    ) -> None:
        self.cert = cert
        self.owned = owned
        self._key: PrivateKeyHandle | None = None
        self._opener: Callable[[], PrivateKeyHandle] | None = None
        if isinstance(key, PrivateKeyHandle):
            self.check(key)
            self._key = key
        else:
            self._opener = key

    @property
    def key(self) -> PrivateKeyHandle:
        if self._key is None:
            assert self._opener is not None
            handle = self._opener()
            try:
                self.check(handle)
            except BaseException:
                handle.close()
                raise
            self._key = handle
        return self._key

    def check(self, key: PrivateKeyHandle) -> None:
        """Refuse a key its certificate does not certify, or a certificate not usable for registry signing."""
        if not key_matches_certificate(self.cert, key):
            raise CertificateError("the registry signing certificate does not match the registry key")
        path = check_path(self.cert, [self.cert], Purpose.REGISTRY_SIGNING)
        if not path.ok:
            raise CertificateError(f"the registry signing certificate cannot sign: {path.message}")

    def close(self) -> None:
        if self.owned and self._key is not None:
            self._key.close()
            self._key = None


class RegistryStore:
    """The database behind a registry: connection, locking, migrations, the audit chain and its signed head.

    ``signer`` signs the head after every change (its certificate then also checks it); ``head_cert`` alone
    checks a head signed elsewhere. ``read_only`` opens without migrating or locking (for verification)."""

    def __init__(
        self,
        url: str,
        *,
        actor: str | None = None,
        read_only: bool = False,
        signer: HeadSigner | None = None,
        head_cert: asn1_x509.Certificate | None = None,
        approve: Approver | None = None,
    ) -> None:
        self.url = url
        self.approve = approve
        self.actor = actor or default_actor()
        self.read_only = read_only or _url_read_only(url)
        self.signer = signer
        self.head_cert = signer.cert if signer is not None else head_cert
        self.engine = _make_engine(url, self.read_only)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        if self.read_only:
            with self.snapshot() as conn:
                if schema.current_version(conn) < 1:
                    raise RegistryError(f"{self.safe_url} is not a sealkit registry (no schema)")
        else:
            with self.transaction() as tx:
                schema.migrate(tx.conn, tx.now)

    def close(self) -> None:
        self.engine.dispose()
        if self.signer is not None:
            self.signer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A serialised read-write transaction; commits, with a freshly signed head, when the block
        succeeds."""
        if self.read_only:
            raise RegistryError(f"registry {self.safe_url} is open read-only: this command changes it")
        try:
            with self.engine.begin() as conn:
                if self.is_postgres:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                tx = Transaction(conn, self.actor, utc_text(), approve=self.approve)
                yield tx
                if tx.recorded:
                    self._sign_head(tx)
                _test_pause()
        except OperationalError as exc:
            raise RegistryError(f"registry {self.safe_url} failed: {_first_line(exc)}") from None

    def _sign_head(self, tx: Transaction) -> None:
        head = _head_row(tx.conn)
        if self.signer is None:
            if head is not None or _signed_by(tx.conn) is not None:
                raise RegistryError(
                    "this registry's audit head is signed: configure its key ([registry] signing_key and "
                    "signing_cert) to change it"
                )
            return
        cert_sha256 = cert_digest(self.signer.cert.dump())
        if _signed_by(tx.conn) != cert_sha256:  # the chain says, from here on, who signs its head
            subject = str(self.signer.cert.subject.human_friendly)
            details = {"cert_sha256": cert_sha256, "certificate": subject}
            tx.record(audit.SIGNED_ACTION, audit.SIGNED_SUBJECT, details)
        last = tx.conn.execute(
            select(schema.audit.c.seq, schema.audit.c.hash).order_by(schema.audit.c.seq.desc()).limit(1)
        ).one()
        algorithm, signature = sign_with(self.signer.key, audit.head_message(last.seq, last.hash))
        values = {
            "seq": last.seq,
            "hash": last.hash,
            "signed_at": tx.now,
            "algorithm": algorithm,
            "signature": signature,
            "cert_sha256": cert_sha256,
        }
        if head is None:
            tx.conn.execute(schema.audit_head.insert().values(id=1, **values))
        else:
            tx.conn.execute(schema.audit_head.update().where(schema.audit_head.c.id == 1).values(**values))

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A consistent read: a locked transaction when writable, a read-only transaction otherwise."""
        if not self.read_only:
            with self.transaction() as tx:
                yield tx.conn
            return
        try:
            with self.engine.begin() as conn:
                if self.is_postgres:  # one snapshot for every read, as SQLite's deferred BEGIN gives
                    conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
                yield conn
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

    def _chain_report(self, conn: Connection, subjects: list[str] | None) -> audit.AuditReport:
        rows = [dict(r._mapping) for r in conn.execute(select(schema.audit).order_by(schema.audit.c.seq))]
        states = audit.subject_states(conn) if subjects is None else _states_of(conn, subjects)
        report = audit.verify_chain(rows, states, subjects)
        seq = rows[-1]["seq"] if rows else 0
        problems, report.signed = audit.head_problems(
            _head_row(conn), seq, report.head, self.head_cert, report.signed_by
        )
        if report.signed is None:  # signed, but nothing to check it with: say so first
            report.unchecked = problems[0]
        report.problems = problems + report.problems if report.signed is None else report.problems + problems
        return report

    def audit_verify(self) -> audit.AuditReport:
        """Check the audit chain, its signed head, and that every row is what the chain last recorded."""
        with self.snapshot() as conn:  # locked (or one read transaction), so no writer moves the chain
            return self._chain_report(conn, None)

    def check_subjects(self, conn: Connection, subjects: list[str]) -> None:
        """Raise :class:`AuditChainBroken` unless the chain and its signed head are intact and ``subjects``'
        rows are what the chain last recorded about them."""
        report = self._chain_report(conn, subjects)
        if report.unchecked is not None:
            writer = "" if self.read_only else " (and [registry] signing_key, its key, to change it)"
            raise RegistryCertificateMissing(f"registry {self.safe_url}: {report.unchecked}{writer}")
        if not report.ok:
            raise AuditChainBroken(
                f"registry {self.safe_url} was changed behind sealkit: {report.problems[0]}"
            )

    def audit_entries(self, subject: str | None = None) -> list[dict[str, Any]]:
        query = select(schema.audit).order_by(schema.audit.c.seq)
        if subject:
            query = query.where(schema.audit.c.subject == subject)
        with self.reading() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def count(self, table: Any) -> int:
        with self.reading() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _head_row(conn: Connection) -> dict[str, Any] | None:
    if schema.current_version(conn) < 2 and not inspect(conn).has_table("audit_head"):
        return None
    row = conn.execute(select(schema.audit_head).where(schema.audit_head.c.id == 1)).first()
    return dict(row._mapping) if row else None


def _signed_by(conn: Connection) -> str | None:
    """The certificate SHA-256 of the chain's last :data:`audit.SIGNED_ACTION` entry (None: never signed)."""
    table = schema.audit
    query = select(table.c.details).where(table.c.action == audit.SIGNED_ACTION)
    details = conn.execute(query.order_by(table.c.seq.desc()).limit(1)).scalar()
    return audit.named_certificate(details) if details is not None else None


def _states_of(conn: Connection, subjects: list[str]) -> dict[str, str]:
    """The states of ``subjects``: one query per subject, or one per kind when a kind has many."""
    kinds: dict[str, list[str]] = {}
    for subject in subjects:
        kinds.setdefault(subject.partition(":")[0], []).append(subject)
    states: dict[str, str] = {}
    for kind, wanted in kinds.items():
        if len(wanted) > 16:
            every = audit.subject_states(conn, f"{kind}:")
            states.update((s, every[s]) for s in wanted if s in every)
        else:
            for subject in wanted:
                states.update(audit.subject_states(conn, subject))
    return states


def _url_read_only(url: str) -> bool:
    return url.startswith("sqlite:") and "mode=ro" in url.partition("?")[2]


def _make_engine(url: str, read_only: bool = False) -> Engine:
    try:
        if url.startswith("sqlite:"):
            location, _, query = url.partition("?")
            path = location.split("///", 1)[1] if "///" in location else ""
            if read_only:
                if not path or path == ":memory:" or not Path(path).is_file():
                    raise RegistryError(f"no registry file {path or '(none)'} to open read-only")
                params = "&".join(p for p in query.split("&") if p and not p.startswith(("mode=", "uri=")))
                url = f"sqlite:///file:{path}?mode=ro&uri=true" + (f"&{params}" if params else "")
            elif path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 60})
            _sqlite_immediate(engine, read_only)
            return engine
        if url.startswith("postgresql"):
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            args = {"options": "-c default_transaction_read_only=on"} if read_only else {}
            return create_engine(url, poolclass=NullPool, connect_args=args)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise RegistryError(f"bad registry URL: {_first_line(exc)}") from None
    except SQLAlchemyError as exc:
        raise RegistryError(f"registry failed: {_first_line(exc)}") from None
    raise RegistryError("registry URL must start with sqlite:/// or postgresql://")


def _sqlite_immediate(engine: Engine, read_only: bool = False) -> None:
    """Let SQLAlchemy, not the sqlite3 module, start transactions, and start them with BEGIN IMMEDIATE (a
    plain BEGIN, a consistent snapshot without any lock, when read-only)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        if read_only:
            return
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _test_pause() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(600)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return " ".join(str(orig or exc).split("\n")[0].split())
