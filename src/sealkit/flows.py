"""The contract workflows as one call each: what ``sealkit sign`` and ``sealkit verify`` do, for platforms.

:func:`sign_contract` signs a contract the way the CLI does: the prepared field whose turn it is when no
placement is given, the registry seal (its imprint and its SESeal in the signature; a revoked, disabled,
expired or foreign seal is refused before anything is written), an RFC 3161 timestamp (PAdES B-T) and, with
``ltv=True``, validation data and a document timestamp (B-LTA). :func:`verify_contract` verifies every
signature with the seal checker built from the trust anchors, the seal registry and imported revocation
lists, as ``sealkit verify`` does; with a registry, each sealed signature also shows its use-register entry
and the signer's grant at the signing time (:mod:`sealkit.seal.custody`).

Configuration is passed in (a :class:`~sealkit.config.Config` from :func:`sealkit.load_config`); nothing
here reads ``./sealkit.toml`` behind the caller's back. Errors are :class:`~sealkit.errors.SealkitError`
subclasses; exit codes are the CLI's business.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sealkit.config import Config
from sealkit.errors import ConfigError, InvalidInput, PdfPasswordRequired

if TYPE_CHECKING:  # pragma: no cover
    from sealkit.pdf import Placement, SignResult, VerificationReport
    from sealkit.ukey import PinSource, PrivateKeyHandle

PathOrBytes = str | os.PathLike[str] | bytes
Occurrence = Literal["first", "last", "all"]


def parse_numbers(value: str, count: int, what: str) -> tuple[float, ...]:
    """``count`` comma-separated numbers (``"10,20,50,50"``), as the CLI, the service and batch manifests
    take a rectangle, an offset or a size; :class:`InvalidInput` names ``what`` otherwise."""
    try:
        numbers = tuple(float(v) for v in value.split(","))
    except ValueError:
        numbers = ()
    if len(numbers) != count or not all(math.isfinite(n) for n in numbers):
        raise InvalidInput(f"{what} takes {count} comma-separated numbers, not {value!r}")
    return numbers


def parse_pages(value: str | None, what: str) -> bool | tuple[int, ...]:
    """A cross-page choice: None (no cross-page seal), ``all``, or the page numbers (``"1,2,3"``)."""
    if value is None:
        return False
    if value == "all":
        return True
    try:
        return tuple(int(v) for v in value.split(","))
    except ValueError:
        raise InvalidInput(f"{what} takes all or comma-separated page numbers, not {value!r}") from None


@dataclass(frozen=True)
class SealPlacement:
    """Where the seal goes, in the CLI's words: ``page``/``rect`` (mm from the lower-left; without ``rect``
    a box of the seal's size at 20,20), ``at_text`` (centred on the text, moved by ``offset`` mm),
    ``cross_page`` (a 骑缝章 on all pages, or on the pages listed). All empty: the prepared field."""

    page: int | None = None
    rect: tuple[float, float, float, float] | None = None
    at_text: str | None = None
    offset: tuple[float, float] = (0.0, 0.0)
    occurrence: Occurrence = "first"
    cross_page: bool | tuple[int, ...] = False
    cross_page_group: int | None = None  # slice the cross-page seal over groups of N pages

    @property
    def empty(self) -> bool:
        return not (self.at_text or self.rect or self.page is not None or self.cross_page)

    def resolve(self, field_name: str | None, size: tuple[float, float]) -> Placement | None:
        """The :class:`~sealkit.pdf.Placement` (None: into the field ``field_name``)."""
        from sealkit.pdf import Placement

        group = self.cross_page_group
        if group is not None and self.cross_page is False:
            raise InvalidInput(
                "--cross-page-group groups the pages of a cross-page seal: give --cross-page too"
            )
        if self.at_text:
            return Placement.at_text(
                self.at_text,
                self.offset,
                self.occurrence,
                cross_page=self.cross_page,
                cross_page_group=group,
                page=self.page,
            )
        if self.rect or self.page is not None:
            box = self.rect or (20.0, 20.0, *size)
            return Placement.at_rect(self.page or 1, box, cross_page=self.cross_page, cross_page_group=group)
        if self.cross_page is not False:
            return Placement(cross_page=self.cross_page, cross_page_group=group)
        if field_name is None:
            raise InvalidInput(
                "where does the seal go? give --at-text, --page/--rect, --field or --invisible"
            )
        return None


@dataclass(frozen=True)
class SignedContract:
    """What :func:`sign_contract` wrote: the signature, its PAdES level, the TSA, and the registry seal."""

    signature: SignResult  # output_path and sha256 are those of the final file
    level: str  # "B-B", "B-T" or "B-LTA"
    tsa: str | None = None
    seal_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # the timestamp/LTV evidence, as JSON

    @property
    def output_path(self) -> Path:
        return self.signature.output_path

    @property
    def sha256(self) -> str:
        return self.signature.sha256

    def to_dict(self) -> dict[str, Any]:
        data = {**self.signature.as_dict(), **self.details}
        if self.seal_id:
            data["seal"] = self.seal_id
        return data


def trusted_time(
    config: Config, tsa: str | None, ltv: bool, trust: Sequence[str | os.PathLike[str]] = ()
) -> tuple[Any, list[str]]:
    """The timestamper (None: no timestamp) and, for ``ltv``, the trust anchors; checked before a key opens.

    ``tsa=""`` means the configured TSA (``SEALKIT_TSA``, ``[tsa] url``); ``ltv`` without ``tsa`` too.
    """
    if tsa is None and not ltv:
        if trust:
            raise InvalidInput("--trust is for --ltv: it names the anchors whose validation data is embedded")
        return None, []
    url = tsa or config.tsa_url
    if not url:
        raise ConfigError(
            "no TSA: give --tsa URL, set SEALKIT_TSA or [tsa] url in the configuration "
            "(to try things: sealkit dev tsa DIR --background)"
        )
    anchors = [str(a) for a in trust] or [str(p) for p in config.trust_anchors]
    if ltv:
        # pyHanko logs validation details at WARNING; a failure is reported as one line instead.
        logging.getLogger("pyhanko").setLevel(logging.ERROR)
        logging.getLogger("pyhanko_certvalidator").setLevel(logging.ERROR)
        if not anchors:
            raise InvalidInput("--ltv needs trust anchors: pass --trust FILE or set [trust] anchors")
    from sealkit import trust as trust_module

    return trust_module.make_timestamper(url), anchors


def sign_contract(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str] | None = None,
    *,
    key: str | PrivateKeyHandle | None = None,
    config: Config | None = None,
    pin_source: PinSource | None = None,
    cert: str | os.PathLike[str] | None = None,
    chain: Sequence[str | os.PathLike[str]] = (),
    field_name: str | None = None,
    seal_id: str | None = None,
    registry_url: str | None = None,
    seal_maker_trust: Sequence[str | os.PathLike[str]] = (),
    seal_image: bytes | None = None,
    seal_size: tuple[float, float] = (40.0, 40.0),
    seal_text: str | None = None,
    placement: SealPlacement | None = None,
    invisible: bool = False,
    reason: str | None = None,
    location: str | None = None,
    certify: bool = False,
    subfilter: Literal["pades", "pkcs7"] = "pades",
    tsa: str | None = None,
    ltv: bool = False,
    trust: Sequence[str | os.PathLike[str]] = (),
    password: str | None = None,
    purpose: str = "contract",
    actor: str | None = None,
) -> SignedContract:
    """Sign ``input_path`` into ``output_path`` (default ``IN.signed.pdf``) as ``sealkit sign`` does.

    ``key`` is a key reference (opened with ``config`` and ``pin_source``, closed afterwards) or an open
    handle (left open); default ``[sign] key``. ``cert``/``chain``/``seal_id`` default to ``[sign]``.
    ``seal_id`` takes the seal from the registry (``registry_url``, default ``[registry] url``);
    The seal's maker must chain to ``seal_maker_trust`` plus ``[trust] seal_makers`` when there are any;
    ``seal_image`` is a PNG imprint instead. ``tsa`` is a TSA URL (``""``: the configured one) for B-T;
    ``ltv`` makes B-LTA with validation data for the chain to ``trust`` (default ``[trust] anchors``).
    A registry seal's use is reserved before anything is written — under a live grant for this signer and
    ``purpose`` (contract, bid, filing) when the seal has grants or the registry requires them — and the
    signed document is filed in the use register with ``actor`` (:mod:`sealkit.seal.custody`).
    """
    from sealkit.pdf import SealAppearance

    config = config if config is not None else Config()
    timestamper, anchors = trusted_time(config, tsa, ltv, trust)
    keyref = key or config.default_key
    if not keyref:
        raise InvalidInput("no key: give --key or set [sign] key in the configuration")
    cert = cert or config.default_cert
    chain = list(chain) or config.default_chain
    output = Path(output_path) if output_path is not None else _default_output(Path(input_path))
    seal_id = seal_id or (None if seal_image else config.default_seal)
    if seal_id and seal_image:
        raise InvalidInput("give either --seal (a registry seal) or --seal-image, not both")
    where = placement or SealPlacement()
    with contextlib.ExitStack() as stack:
        handle = _open(stack, keyref, config, pin_source)
        extra_attributes = []
        image, size = seal_image, seal_size
        use = None
        if seal_id:
            from sealkit.seal import seal_signed_attribute
            from sealkit.seal.custody import seal_use

            makers = [*map(Path, seal_maker_trust), *config.seal_maker_anchors]
            url = registry_url or config.registry_url
            signer = signer_certificate(handle, cert)
            use = stack.enter_context(
                seal_use(
                    seal_id,
                    signer,
                    url,
                    config=config,
                    purpose=purpose,
                    actor=actor,
                    maker_trust=list(makers) or None,
                )
            )
            seal = use.seal
            extra_attributes.append(seal_signed_attribute(seal.seseal_der))
            image, size = seal.image_png, (seal.width_mm, seal.height_mm)
        if field_name is None and where.empty:
            field_name = _next_field(input_path, password)
        appearance = resolved = None
        if not invisible and image is not None:
            appearance = SealAppearance(image, size[0], size[1], text=seal_text)
            resolved = where.resolve(field_name, size)
        elif not invisible and (where.at_text or where.rect or where.cross_page):
            raise InvalidInput("placing a seal needs --seal or --seal-image")
        options: dict[str, Any] = {
            "cert": cert,
            "chain": chain,
            "field": field_name,
            "appearance": appearance,
            "placement": resolved,
            "reason": reason,
            "location": location,
            "subfilter": "ETSI.CAdES.detached" if subfilter == "pades" else "adbe.pkcs7.detached",
            "certify": certify,
            "extra_signed_attributes": extra_attributes,
            "password": password,
        }
        if timestamper is None:
            from sealkit.pdf import sign_pdf

            signed = SignedContract(sign_pdf(input_path, output, handle, **options), "B-B", None, seal_id)
        else:
            from sealkit import trust as trust_module

            outcome = trust_module.sign_timestamped(
                input_path, output, handle, tsa=timestamper, ltv=ltv, trust_anchors=anchors, **options
            )
            details = outcome.as_dict()
            details = {k: v for k, v in details.items() if k not in outcome.signature.as_dict()}
            signed = SignedContract(outcome.signature, outcome.level, outcome.tsa, seal_id, details)
        if use is not None:
            _register(use, signed)
        return signed


def _register(use: Any, signed: SignedContract) -> None:
    """File the signed document in the use register; without its entry the document does not stay."""
    from sealkit.seal.custody import signed_document

    result = signed.signature
    try:
        entry = use.record(signed_document(result.output_path, result.field, result.stamps))
    except BaseException:
        result.output_path.unlink(missing_ok=True)
        raise
    signed.details["register_entry"] = entry.use_id
    if entry.grant_id:
        signed.details["grant"] = entry.grant_id


def signer_certificate(key: PrivateKeyHandle, cert: str | os.PathLike[str] | None) -> Any:
    """The signer's certificate: the file ``cert``, else the one stored with the key."""
    from sealkit.pdf import load_certificate

    signer_cert = load_certificate(cert) if cert is not None else key.certificate()
    if signer_cert is None:
        raise InvalidInput("a registry seal needs the signer's certificate: give --cert")
    return signer_cert


def _default_output(input_path: Path) -> Path:
    return input_path.with_name(input_path.stem + ".signed.pdf")


def _open(
    stack: contextlib.ExitStack, key: str | PrivateKeyHandle, config: Config, pins: PinSource | None
) -> PrivateKeyHandle:
    if not isinstance(key, str):
        return key
    from sealkit.ukey import open_key

    return stack.enter_context(open_key(key, config=config, pin_source=pins))


def _next_field(input_path: str | os.PathLike[str], password: str | None) -> str | None:
    """The prepared field whose turn it is, so that ``sealkit sign contract.pdf`` fills it."""
    from sealkit.pdf import next_unsigned_field

    try:
        return next_unsigned_field(input_path, password=password)
    except PdfPasswordRequired:
        return None


def verify_contract(
    source: PathOrBytes,
    *,
    config: Config | None = None,
    trust: Sequence[str | os.PathLike[str]] = (),
    seal_maker_trust: Sequence[str | os.PathLike[str]] = (),
    online: bool = False,
    registry_url: str | None = None,
    revocation_lists: Sequence[PathOrBytes] = (),
    password: str | None = None,
    name: str | None = None,
    require_seal: bool | None = None,
) -> VerificationReport:
    """Verify every signature of ``source`` (a path or the file's bytes; PDF, or OFD chosen by the content)
    and the seals they carry.

    Signers chain to ``trust`` plus ``[trust] anchors``; seal makers (and revocation lists) to
    ``seal_maker_trust`` plus ``[trust] seal_makers``, never to the signers' anchors. Seal revocations come
    from the registry (``registry_url``, else the configured one when it exists) and the signed
    ``revocation_lists``. ``name`` is the file name reported for bytes. ``require_seal`` (default
    ``[verify] require_seal``) requires an electronic seal of every PDF signature, as a prepared field may
    of its own (:mod:`sealkit.pdf.field_requirements`).
    """
    config = config if config is not None else Config()
    if require_seal is None:
        require_seal = config.verify_require_seal
    anchors = [Path(t) for t in trust] + list(config.trust_anchors)
    data = source if isinstance(source, bytes) else _ofd_bytes(source)
    with contextlib.ExitStack() as stack:
        if data is not None and _is_ofd(data):
            from sealkit.ofd import verify_ofd
            from sealkit.seal import revocation_lookup

            seal_anchors, registry, lists = seal_sources(
                stack, seal_maker_trust, config, registry_url, revocation_lists
            )
            if name is None and not isinstance(source, bytes):
                name = Path(source).name
            report = verify_ofd(
                data,
                trust=anchors,
                seal_trust=seal_anchors,
                name=name,
                online=online,
                revocations=revocation_lookup(registry, lists),
            )
            if registry is not None:
                from sealkit.ofd import signed_values
                from sealkit.seal.custody import custody_checks

                custody_checks(report, data, registry, revisions=signed_values(data))
            return report
        from sealkit.pdf import verify_pdf

        seal_anchors, registry, lists = seal_sources(
            stack, seal_maker_trust, config, registry_url, revocation_lists
        )
        checker = _lazy_seal_checker(seal_anchors, registry, lists)
        if registry is not None and not isinstance(source, bytes) and Path(source).is_file():
            path = Path(source)
            source, name = path.read_bytes(), name or path.name
        report = verify_pdf(
            source,
            trust=anchors,
            password=password,
            seal_checker=checker,
            online=online,
            name=name,
            require_seal=require_seal,
        )
        if registry is not None and isinstance(source, bytes):
            from sealkit.seal.custody import custody_checks

            custody_checks(report, source, registry)  # the use register and the grants: warnings
        return report


def _is_ofd(data: bytes) -> bool:
    from sealkit.ofd import is_ofd

    return is_ofd(data)


def _ofd_bytes(path: str | os.PathLike[str]) -> bytes | None:
    """The file's bytes if it is an OFD (a ZIP), else None (unreadable files are left to the PDF path)."""
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                return None
            handle.seek(0)
            return handle.read()
    except OSError:
        return None


def seal_checker(
    stack: contextlib.ExitStack,
    seal_maker_trust: Sequence[str | os.PathLike[str]],
    config: Config,
    registry_url: str | None = None,
    revocation_lists: Sequence[PathOrBytes] = (),
) -> Any:
    """The seal checker for :func:`sealkit.pdf.verify_pdf`: seal makers must chain to the seal-maker anchors
    (never the signers'); revocations come from the registry (read-only, checked against its audit chain,
    opened on ``stack``) and the lists, both verified before use."""
    trust, registry, lists = seal_sources(stack, seal_maker_trust, config, registry_url, revocation_lists)
    return _lazy_seal_checker(trust, registry, lists)


def _lazy_seal_checker(trust: Any, registry: Any, lists: Any) -> Any:
    """A seal checker that imports seal verification (and the key and registry layers behind it) only when
    a signature carries a seal."""
    from sealkit.seal.attribute import seal_values  # registers the attribute: signed attributes parse alike

    checker = None

    def check(signed_data: Any, proven_time: Any) -> Any:
        nonlocal checker
        if not seal_values(signed_data):
            return None  # no seal (as the checker says): seal verification is not even imported
        if checker is None:
            from sealkit.seal import make_seal_checker

            checker = make_seal_checker(trust, registry=registry, revocation_lists=lists)
        return checker(signed_data, proven_time)

    return check


def seal_sources(
    stack: contextlib.ExitStack,
    seal_maker_trust: Sequence[str | os.PathLike[str]],
    config: Config,
    registry_url: str | None = None,
    revocation_lists: Sequence[PathOrBytes] = (),
) -> tuple[Any, Any, list[Any]]:
    """The seal-maker anchors (``seal_maker_trust`` plus ``[trust] seal_makers``), the registry (read-only;
    None when there is none) and the revocation lists, each verified against those anchors before use."""
    from sealkit.pdf import load_certificates

    trust = load_certificates([Path(p) for p in seal_maker_trust] + list(config.seal_maker_anchors))
    lists = []
    for item in revocation_lists:
        from sealkit.seal import load_revocation_list  # only with lists: it needs the key layer

        if isinstance(item, bytes):
            data = item
        else:
            try:
                data = Path(item).read_bytes()
            except OSError as exc:
                raise InvalidInput(f"cannot read the revocation list {item}: {exc.strerror}") from None
        lists.append(load_revocation_list(data, trust))
    url = registry_url or config.registry_url
    registry = None
    local = url.partition("?")[0].removeprefix("sqlite:///")
    if registry_url or not url.startswith("sqlite:///") or Path(local).is_file():
        from sealkit.seal import open_registry  # the database layer only when there is a registry

        registry = stack.enter_context(open_registry(url, config=config, read_only=True))
    return trust, registry, lists
