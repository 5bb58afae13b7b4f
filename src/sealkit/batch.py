"""Batch work from a manifest: sign, verify or encrypt many documents over several processes, resumable.

A manifest is CSV (a header row) or JSON lines (``.jsonl``), one document per row: ``input``, ``output`` and
per-document options (sign: ``field``, ``seal``, ``at_text``, ``page``, ``rect``, ``invisible``, ``reason``,
``location``, ``timestamp``; verify: ``output`` is where the JSON report goes; encrypt: ``to``, the recipient
certificates separated by ``;`` (a list in JSON lines), ``cipher``, ``sign_cert``, ``profile``, ``ski``,
``rsa_padding``, ``allow_unsigned``). Relative paths are relative to the manifest.

:func:`run_batch` yields one :class:`BatchOutcome` per document as it finishes; finished documents are written
to a journal (``MANIFEST.journal.jsonl``) with their output's SHA-256, so a rerun after a crash skips them (an
output that changed since is done again). One run at a time per journal. Outputs appear only complete (the
library writes them atomically; a killed run's ``.NAME.*.part`` leftovers are removed when the row is done
again). Keys on PKCS#11 tokens are used by one process at a time (a lock file per token key); file keys are
not serialised.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import fcntl
import glob
import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sealkit.config import Config
from sealkit.errors import InvalidInput, SealkitError
from sealkit.exit_codes import exit_code_for

Operation = Literal["sign", "verify", "encrypt"]
SIGN_OPTIONS = ("field", "seal", "at_text", "page", "rect", "invisible", "reason", "location", "timestamp")
ENCRYPT_OPTIONS = ("to", "cipher", "sign_cert", "profile", "ski", "rsa_padding", "allow_unsigned")
OPTIONS: dict[str, tuple[str, ...]] = {"sign": SIGN_OPTIONS, "verify": (), "encrypt": ENCRYPT_OPTIONS}
DEFAULT_SUFFIX = {"sign": ".signed.pdf", "verify": ".report.json", "encrypt": ".p7m"}
TRUE = ("1", "true", "yes", "y")
_COMMON = ("sealkit.flows", "sealkit.ukey", "sealkit.validation", "sealkit.sm2.x509", "pyhanko.keys")
#: Modules the fork server imports before it forks the workers (an import that fails is skipped).
PRELOAD: dict[str, tuple[str, ...]] = {
    "sign": _COMMON
    + (
        "sealkit.pdf.sign",
        "sealkit.pdf.signer",
        "sealkit.pdf.stamping",
        "pyhanko.sign.signers",
        "pyhanko.sign.timestamps",
        "pyhanko.stamp",
        "pyhanko_certvalidator.fetchers.aiohttp_fetchers",
    ),
    "verify": _COMMON + ("sealkit.pdf.verify", "pyhanko.sign.validation", "pyhanko.sign.diff_analysis"),
    "encrypt": ("sealkit.envelope", "sealkit.envelope.writer", "sealkit.sm2.x509", "sealkit.certs"),
}


@dataclass(frozen=True)
class BatchItem:
    """One manifest row: where it is (``line``), the input, the output, and its own options."""

    line: int
    input: Path
    output: Path
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchOutcome:
    """What happened to one document: ``done``, ``skipped`` (done in an earlier run) or ``failed``."""

    item: BatchItem
    status: Literal["done", "skipped", "failed"]
    detail: str = ""
    sha256: str | None = None
    seconds: float = 0.0
    exit_code: int = 0
    cpu_seconds: float = 0.0  # CPU time of the process that did the work (wall ``seconds`` includes waiting)

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.item.line,
            "input": str(self.item.input),
            "output": str(self.item.output),
            "status": self.status,
            "detail": self.detail,
            "sha256": self.sha256,
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "exit_code": self.exit_code,
        }


def read_manifest(path: str | os.PathLike[str], operation: Operation) -> list[BatchItem]:
    """The rows of the manifest at ``path`` (CSV with a header, or JSON lines)."""
    manifest = Path(path)
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"cannot read the manifest {manifest}: {exc.strerror}") from None
    rows: list[tuple[int, dict[str, Any]]] = []
    if manifest.suffix in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    value = json.loads(line)
                except json.JSONDecodeError:
                    raise InvalidInput(f"{manifest} line {number} is not JSON") from None
                if not isinstance(value, dict):
                    raise InvalidInput(f"{manifest} line {number} is not a JSON object")
                rows.append((number, value))
    else:
        reader = csv.DictReader(text.splitlines())
        rows = [(number, row) for number, row in enumerate(reader, 2)]
    items = []
    for number, row in rows:
        if not row.get("input"):
            raise InvalidInput(f"{manifest} line {number} has no input")
        source = _relative(manifest, str(row["input"]))
        default = DEFAULT_SUFFIX[operation]
        output = _relative(manifest, str(row["output"])) if row.get("output") else _beside(source, default)
        options = {
            k: ";".join(str(p) for p in v) if isinstance(v, list) else str(v)
            for k, v in row.items()
            if k not in ("input", "output") and v not in (None, "", [])
        }
        for name in ("to", "sign_cert"):  # certificate files, relative to the manifest too
            if name in options and operation == "encrypt":
                paths = [_relative(manifest, p.strip()) for p in options[name].split(";") if p.strip()]
                options[name] = ";".join(str(p) for p in paths)
        unknown = set(options) - set(OPTIONS.get(operation, ()))
        if unknown:
            raise InvalidInput(f"{manifest} line {number}: unknown column {', '.join(sorted(unknown))}")
        items.append(BatchItem(number, source, output, options))
    outputs = [item.output.resolve() for item in items]
    if len(set(outputs)) != len(outputs):
        raise InvalidInput(f"{manifest}: two rows write the same output")
    return items


def _relative(manifest: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else manifest.parent / path


def _beside(source: Path, suffix: str) -> Path:
    """IN.pdf → IN.signed.pdf / IN.report.json; a bid keeps its whole name: IN.tar.gz → IN.tar.gz.p7m."""
    return source.with_name((source.name if suffix == ".p7m" else source.stem) + suffix)


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def run_batch(
    operation: Operation,
    items: Sequence[BatchItem],
    *,
    config: Config,
    key: str | None = None,
    jobs: int = 1,
    journal: str | os.PathLike[str] | None = None,
    recipients: Sequence[str | os.PathLike[str]] = (),
) -> Iterator[BatchOutcome]:
    """Run ``operation`` on every item over ``jobs`` processes; yields each outcome as it finishes.

    ``key`` is the signing key reference (sign: default ``[sign] key``; encrypt: the key that signs each
    bid, if any). ``recipients`` are certificate files every envelope is encrypted to, besides a row's
    ``to``. Items whose output the ``journal`` records with the output's current SHA-256 are skipped; a
    second run on the same journal while one is running is refused.
    """
    if operation not in OPTIONS:
        raise InvalidInput(f"unknown batch operation {operation!r}: use sign, verify or encrypt")
    if operation == "sign":
        key = key or config.default_key
        if not key:
            raise InvalidInput("no key: give --key or set [sign] key in the configuration")
    extra = tuple(str(Path(p)) for p in recipients)
    with contextlib.ExitStack() as stack:
        if journal:
            stack.enter_context(_exclusive(Path(journal)))
        yield from _run(operation, items, config, key, jobs, Path(journal) if journal else None, extra)


def _run(
    operation: Operation,
    items: Sequence[BatchItem],
    config: Config,
    key: str | None,
    jobs: int,
    journal: Path | None,
    recipients: tuple[str, ...],
) -> Iterator[BatchOutcome]:
    done = _journal_entries(journal) if journal else {}
    todo = []
    for item in items:
        recorded = done.get(str(item.output.resolve()))
        if recorded and item.output.is_file() and file_sha256(item.output) == recorded:
            yield BatchOutcome(item, "skipped", "done in an earlier run", recorded)
        else:
            todo.append(item)
            if journal is not None:  # the journal's lock says no other run is writing these outputs
                _remove_leftovers(item.output)
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(open(journal, "a", encoding="utf-8")) if journal else None  # noqa: SIM115
        for outcome in _outcomes(operation, todo, config, key, jobs, recipients):
            if log is not None and outcome.status == "done":
                entry = {"output": str(outcome.item.output.resolve()), "sha256": outcome.sha256}
                log.write(json.dumps(entry, ensure_ascii=False) + "\n")
                log.flush()
                os.fsync(log.fileno())
            yield outcome


def _remove_leftovers(output: Path) -> None:
    """Delete the temporary files a killed run left for ``output`` (sealkit.atomic names them so)."""
    with contextlib.suppress(OSError):
        for leftover in output.parent.glob(f".{glob.escape(output.name)}.*.part"):
            leftover.unlink(missing_ok=True)


@contextlib.contextmanager
def _exclusive(journal: Path) -> Iterator[None]:
    """Hold the journal's lock for the run: two runs of one manifest would do the same rows twice."""
    lock = journal.with_name(journal.name + ".lock")
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InvalidInput(f"another batch is running with the journal {journal}: wait for it") from None
        yield


def _outcomes(
    operation: Operation,
    items: list[BatchItem],
    config: Config,
    key: str | None,
    jobs: int,
    recipients: tuple[str, ...],
) -> Iterator[BatchOutcome]:
    if jobs <= 1 or len(items) <= 1:
        for item in items:
            yield run_item(operation, item, config, key, recipients)
        return
    # A fork server: workers start from a clean process (no inherited token sessions or threads) that has
    # already imported the code the work needs, once, so each worker starts warm in milliseconds. Most of
    # sealkit imports pyHanko lazily, so the list names what the first document would otherwise import in
    # every worker (measured: a worker's first document took 0.55 s of CPU, now 0.15 s).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD[operation]))
    pool = concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context)
    try:
        futures = [pool.submit(run_item, operation, item, config, key, recipients) for item in items]
        for future in concurrent.futures.as_completed(futures):
            yield future.result()
    finally:  # a caller that stops early (or Ctrl-C) waits only for the documents already started
        pool.shutdown(wait=True, cancel_futures=True)


def _journal_entries(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    if not path.is_file():
        return entries
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(json.JSONDecodeError, KeyError, TypeError):
            entry = json.loads(line)
            entries[str(entry["output"])] = str(entry["sha256"])
    return entries  # a torn last line (a crash while writing) is ignored: that item is done again


def run_item(
    operation: Operation,
    item: BatchItem,
    config: Config,
    key: str | None,
    recipients: tuple[str, ...] = (),
) -> BatchOutcome:
    """One document, in this process; every sealkit error becomes a ``failed`` outcome."""
    started, cpu = time.perf_counter(), time.process_time()
    try:
        if operation == "sign":
            detail = _sign(item, config, key or "")
        elif operation == "encrypt":
            detail = _encrypt(item, config, key, recipients)
        else:
            detail = _verify(item, config)
    except SealkitError as exc:
        return BatchOutcome(
            item,
            "failed",
            exc.message,
            seconds=time.perf_counter() - started,
            exit_code=exit_code_for(exc),
            cpu_seconds=time.process_time() - cpu,
        )
    digest = file_sha256(item.output)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return BatchOutcome(item, "done", detail, digest, seconds, cpu_seconds=cpu)


def _sign(item: BatchItem, config: Config, key: str) -> str:
    from sealkit.flows import SealPlacement, parse_numbers, sign_contract

    o = item.options
    rect = parse_numbers(o["rect"], 4, f"line {item.line}: rect") if o.get("rect") else None
    where = SealPlacement(
        page=int(o["page"]) if o.get("page") else None,
        rect=rect,  # type: ignore[arg-type]
        at_text=o.get("at_text"),
    )
    with _token_lock(key, config):
        result = sign_contract(
            item.input,
            item.output,
            key=key,
            config=config,
            field_name=o.get("field"),
            seal_id=o.get("seal"),
            placement=where,
            invisible=o.get("invisible", "").lower() in TRUE,
            reason=o.get("reason"),
            location=o.get("location"),
            tsa="" if o.get("timestamp", "").lower() in TRUE else None,
        )
    return f"signed field {result.signature.field} ({result.level})"


def _encrypt(item: BatchItem, config: Config, key: str | None, recipients: tuple[str, ...]) -> str:
    from sealkit.certs import load_certificates
    from sealkit.envelope import encrypt_file
    from sealkit.ukey import open_key

    o = item.options
    files = [*recipients, *(p for p in o.get("to", "").split(";") if p)]
    if not files:
        raise InvalidInput(f"line {item.line}: no recipient: give the row a 'to' column or --to")
    certs = load_certificates(files, what="recipient certificate")
    signer_cert = load_certificates(o["sign_cert"])[0] if o.get("sign_cert") else None
    options: dict[str, Any] = {
        "content_cipher": o.get("cipher"),
        "allow_unsigned": o.get("allow_unsigned", "").lower() in TRUE,
        "recipient_id": "ski" if o.get("ski", "").lower() in TRUE else "issuer-serial",
        "rsa_padding": o.get("rsa_padding", "oaep"),
        "profile": o.get("profile", "standard"),
    }
    if not key:
        if signer_cert is not None:
            raise InvalidInput(f"line {item.line}: sign_cert needs a signing key (--key)")
        info = encrypt_file(item.input, item.output, certs, **options)
    else:
        with _token_lock(key, config), open_key(key, config=config) as signer:
            info = encrypt_file(
                item.input, item.output, certs, signer=signer, signer_cert=signer_cert, **options
            )
    signed = "signed, " if info.signed else ""
    return f"{signed}{len(certs)} recipient(s)"


def _verify(item: BatchItem, config: Config) -> str:
    from sealkit.atomic import write_atomic
    from sealkit.flows import verify_contract

    report = verify_contract(item.input, config=config)
    text = json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n"
    write_atomic(item.output, text.encode("utf-8"), protect=(item.input,))
    return str(report.indication)


@contextlib.contextmanager
def _token_lock(key: str, config: Config) -> Iterator[None]:
    """Hold a lock file per token key, so that processes use a token one at a time (file keys: no lock)."""
    if not key.startswith("pkcs11:"):
        yield
        return
    folder = config.home / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(key.split("?")[0].encode()).hexdigest()[:32] + ".lock")
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
