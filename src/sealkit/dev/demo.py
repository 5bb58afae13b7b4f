"""``sealkit demo``: the whole procurement flow on software keys and a SQLite registry, in seconds.

It plays every party with test identities it makes itself (never use them for real documents):

1. test CAs: an SM2 one (the purchaser's budget-system UKey, bid encryption), an RSA one (the supplier's
   trading-centre UKey) and the seal authority's own SM2 CA (a seal-maker anchor, never a signer anchor);
2. the seal authority issues the purchaser's contract seal (合同专用章) from its unit form into the registry,
   whose audit chain head is signed by the registry key (``sealkit.toml`` in the directory pins its
   certificate, which every reader of the registry needs: ``sealkit --config DIR/sealkit.toml seal audit``);
3. a three-page 政府采购合同 is generated and both parties' signature fields are prepared, in signing order;
4. the supplier signs (RSA, its official seal image), then the purchaser seals (SM2, the registry's seal,
   whose GB/T 38540 SESeal travels inside the signature, and its cross-page seal 骑缝章 reserved at step 3)
   under the grant (用印授权) the unit gave its agent at step 2, each use entered in the use register;
5. the contract is verified (signatures, coverage, modifications, chains, seal status at signing time) and
   filed (备案); its OFD version is sealed by the purchaser (GB/T 38540 in OFD) and verified as well;
6. a bid is signed and encrypted to the bidder's SM2 encryption certificate and opened again (开标).

Everything goes to one directory, which the result lists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sealkit.dev.pki import Role, TestPki, make_test_pki

PURCHASER_FORM: dict[str, Any] = {
    "unit": {
        "name": "济南市示范中学",
        "code": "JN-0042",
        "competent_department": "济南市教育局",
        "region_code": "370102",
        "full_name": "济南市示范中学",
        "address": "山东省济南市历下区示范路8号",
        "uscc": "12370102MB0000042B",
        "nature": "事业单位",
        "fund_office": "财务科",
        "industry": "教育",
        "is_research_institute": False,
        "is_university": False,
        "is_hospital": False,
        "postcode": "250014",
        "email": "office@example.edu.cn",
        "legal_representative": "王建国",
    },
    "filler": {"name": "刘芳", "phone": "13805310042"},
    "contacts": {
        "contact": {"name": "刘芳", "landline": "0531-86660042", "mobile": "13805310042"},
        "handler": {"name": "赵磊", "mobile": "13905310043"},
        "principal": {"name": "王建国", "mobile": "13705310044"},
    },
    "seals": {"ukey": "new"},
}
SUPPLIER_NAME = "山东齐鲁示范科技有限公司"


@dataclass
class DemoResult:
    """Where the demo put everything, and what verification said."""

    directory: Path
    files: dict[str, Path] = field(default_factory=dict)
    seal_id: str = ""
    indication: str = ""
    signatures: list[dict[str, Any]] = field(default_factory=list)
    bid_roundtrip: bool = False
    ofd_indication: str = ""
    grant: dict[str, Any] = field(default_factory=dict)
    register: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "files": {name: str(path) for name, path in self.files.items()},
            "seal_id": self.seal_id,
            "indication": self.indication,
            "signatures": self.signatures,
            "bid_roundtrip": self.bid_roundtrip,
            "ofd_indication": self.ofd_indication,
            "grant": self.grant,
            "register": self.register,
        }


def run_demo(directory: str | Path, *, log: Callable[[str], None] = lambda _line: None) -> DemoResult:
    """Run the whole flow into ``directory`` (created if needed); ``log`` receives one line per step."""
    from sealkit.dev.sample_contract import PURCHASER_BLOCK, SUPPLIER_BLOCK, write_sample_contract
    from sealkit.pdf import FieldSpec, Placement, prepare_fields
    from sealkit.seal import HeadSigner, SealRegistry, form_from_dict
    from sealkit.seal.grants import GrantRequest

    out = Path(directory).resolve()
    out.mkdir(parents=True, exist_ok=True)
    result = DemoResult(out)

    log("1/6 test CAs and identities (SM2 for the purchaser and the seal authority, RSA for the supplier)")
    sm2_pki = make_test_pki(out / "pki" / "sm2", "sm2", name="sealkit Demo SM2 Root CA")
    rsa_pki = make_test_pki(out / "pki" / "rsa", "rsa", name="sealkit Demo RSA Root CA")
    supplier = rsa_pki.issue("supplier", Role.SIGN, organization=SUPPLIER_NAME)
    purchaser = sm2_pki.issue("purchaser", Role.SIGN, organization=PURCHASER_FORM["unit"]["name"])
    seal_pki = make_test_pki(out / "pki" / "seal-authority", "sm2", name="sealkit Demo Seal Authority CA")
    authority = seal_pki.issue("seal-authority", Role.SEAL_MAKER, organization="sealkit 演示印章制作单位")
    registry_id = sm2_pki.issue("registry", Role.SIGN, organization="sealkit 演示印章登记")
    bidder_enc = sm2_pki.issue("bidder-encryption", Role.ENCRYPT, organization=SUPPLIER_NAME)
    bidder_sign = sm2_pki.issue("bidder-signing", Role.SIGN, organization=SUPPLIER_NAME)
    anchors = [sm2_pki.root.certificate, rsa_pki.root.certificate]
    result.files.update(
        sm2_root=sm2_pki.root.cert_path,
        rsa_root=rsa_pki.root.cert_path,
        seal_authority_root=seal_pki.root.cert_path,
        registry_cert=registry_id.cert_path,
    )

    log("2/6 the seal authority issues the purchaser's contract seal into the registry")
    registry_path = out / "registry.sqlite3"
    head_signer = HeadSigner(_open(registry_id.keyref), registry_id.certificate, owned=True)
    with SealRegistry(f"sqlite:///{registry_path}", actor="sealkit-demo", signer=head_signer) as registry:
        form = form_from_dict(PURCHASER_FORM)
        with _open(authority.keyref) as maker:
            seal = registry.issue(
                form,
                "contract",
                [purchaser.certificate],
                maker,
                authority.certificate,
                valid_until=dt.date.today() + dt.timedelta(days=365),
                maker_trust=[seal_pki.root.certificate],
            )
        result.seal_id = seal.es_id
        result.files["registry"] = registry_path
        result.files["config"] = _write_config(out, registry_path, registry_id)
        # The unit's seal administrator grants the purchaser's agent the seal's use (用印授权).
        request = GrantRequest(
            purchaser.certificate, dt.date.today() + dt.timedelta(days=90), purposes=["contract"], max_uses=10
        )
        result.grant = registry.grant(seal.es_id, request).to_dict()

        log("3/6 a three-page procurement contract, both parties' fields prepared in signing order")
        contract = write_sample_contract(
            out / "contract.pdf", pages=3, purchaser=form.name, supplier=SUPPLIER_NAME
        )
        prepared = out / "contract.prepared.pdf"
        prepare_fields(
            contract,
            prepared,
            [
                # The supplier signs with a seal picture only (it has no electronic seal in this demo).
                FieldSpec(
                    "供应商", Placement.at_text(SUPPLIER_BLOCK, offset_mm=(20, 0)), seal_required=False
                ),
                # The purchaser's field takes only its unit's electronic seal, and its cross-page seal
                # (骑缝章) is reserved now, filled when it seals.
                FieldSpec(
                    "采购人",
                    Placement.at_text(PURCHASER_BLOCK, offset_mm=(20, 0)),
                    cross_page=True,
                    unit=PURCHASER_FORM["unit"]["uscc"],
                ),
            ],
            order=["供应商", "采购人"],
        )
        result.files.update(contract=contract, prepared=prepared)

        log("4/6 the supplier signs (RSA), then the purchaser seals with its contract seal (SM2)")
        supplier_signed = out / "contract.supplier-signed.pdf"
        _sign_supplier(prepared, supplier_signed, supplier, rsa_pki)
        sealed = out / "contract.signed.pdf"
        _seal_purchaser(supplier_signed, sealed, purchaser, registry, seal.es_id, sm2_pki)
        result.files.update(supplier_signed=supplier_signed, signed=sealed)

        log("5/6 verification and filing (备案); the OFD version, sealed by the purchaser, verified too")
        _verify_and_file(sealed, anchors, registry, seal_pki, result)
        _ofd_contract(out, form.name, purchaser, registry, seal.es_id, (sm2_pki, seal_pki), result)
        result.register = [use.to_dict() for use in registry.uses(seal.es_id)]  # 用印登记
        result.grant = registry.get_grant(result.grant["grant_id"]).to_dict()  # its uses counted

    log("6/6 a bid signed and encrypted to the bidder's SM2 certificate, then opened")
    _bid_roundtrip(out, bidder_enc, bidder_sign, sm2_pki, result)
    return result


# --- steps ---


def _write_config(out: Path, registry_path: Path, registry_id: Any) -> Path:
    """``sealkit.toml`` for the demo's registry: its URL, and the registry key and certificate that sign and
    check its audit head (a reader of a signed registry needs ``signing_cert``; ``--config`` this file)."""
    import json

    def quoted(value: object) -> str:
        return json.dumps(str(value), ensure_ascii=False)

    path = out / "sealkit.toml"
    path.write_text(
        "[registry]\n"
        f"url = {quoted(f'sqlite:///{registry_path}')}\n"
        f"signing_key = {quoted(registry_id.keyref)}\n"
        f"signing_cert = {quoted(registry_id.cert_path)}\n",
        encoding="utf-8",
    )
    return path


def _open(keyref: str) -> Any:
    from sealkit.ukey import open_key

    return open_key(keyref)


def _sign_field(
    src: Path, dest: Path, signer: Any, pki: TestPki, field: str, appearance: Any, **options: Any
) -> Any:
    """``signer`` (an Identity) fills the prepared ``field`` with ``appearance``."""
    from sealkit.pdf import sign_pdf

    with _open(signer.keyref) as key:
        return sign_pdf(
            src,
            dest,
            key,
            cert=signer.cert_path,
            chain=[pki.root.cert_path],
            field=field,
            appearance=appearance,
            location="济南",
            **options,
        )


def _sign_supplier(src: Path, dest: Path, supplier: Any, pki: TestPki) -> None:
    from sealkit.pdf import SealAppearance
    from sealkit.seal import render_seal

    imprint = render_seal("official", SUPPLIER_NAME, serial="3701020012345")
    appearance = SealAppearance(imprint.png, imprint.width_mm, imprint.height_mm)
    _sign_field(src, dest, supplier, pki, "供应商", appearance, reason="供应商签署")


def _seal_purchaser(src: Path, dest: Path, purchaser: Any, registry: Any, seal_id: str, pki: TestPki) -> None:
    from sealkit.pdf import SealAppearance
    from sealkit.seal import seal_signed_attribute
    from sealkit.seal.custody import reserved_use, signed_document

    # refuses a revoked or expired seal, or a use the purchaser's grant does not cover; registers the use
    with reserved_use(registry, seal_id, purchaser.certificate, "contract") as use:
        seal = use.seal
        appearance = SealAppearance(seal.image_png, seal.width_mm, seal.height_mm)
        signed = _sign_field(
            src,
            dest,
            purchaser,
            pki,
            "采购人",
            appearance,
            reason="采购人盖章",
            extra_signed_attributes=[seal_signed_attribute(seal.seseal_der)],
        )
        use.record(signed_document(dest, signed.field, signed.stamps))


def _verify_and_file(
    path: Path, anchors: list[Any], registry: Any, seal_pki: TestPki, result: DemoResult
) -> None:
    from sealkit.pdf import verify_pdf, write_filing_record
    from sealkit.seal import make_seal_checker
    from sealkit.seal.custody import custody_checks

    data = path.read_bytes()  # the bytes verified are the bytes filed
    checker = make_seal_checker([seal_pki.root.certificate], registry=registry)  # the seal-maker anchor
    report = verify_pdf(data, trust=anchors, seal_checker=checker, name=path.name)
    custody_checks(report, data, registry)  # the use-register entry and the grant of each sealed signature
    result.indication = str(report.indication)
    result.signatures = [
        {"field": s["field"], "signer": s["signer"], "indication": s["indication"], "seal": s["seal"]}
        for s in report.to_dict()["signatures"]
    ]
    if report.passed:
        result.files["filing_record"], _ = write_filing_record(path, data, report)


def _ofd_contract(
    out: Path,
    purchaser_name: str,
    purchaser: Any,
    registry: Any,
    seal_id: str,
    pkis: tuple[TestPki, TestPki],
    result: DemoResult,
) -> None:
    """The contract as OFD, sealed by the purchaser with its registry seal (GB/T 38540, SM2) and verified."""
    from sealkit.dev.sample_contract import PURCHASER_BLOCK
    from sealkit.dev.sample_ofd import write_sample_contract_ofd
    from sealkit.ofd import sign_ofd_for_use, verify_ofd
    from sealkit.pdf import Placement
    from sealkit.seal import revocation_lookup
    from sealkit.seal.custody import reserved_use

    contract = write_sample_contract_ofd(
        out / "contract.ofd", purchaser=purchaser_name, supplier=SUPPLIER_NAME
    )
    signed = out / "contract.signed.ofd"
    with (
        reserved_use(registry, seal_id, purchaser.certificate, "contract") as use,
        _open(purchaser.keyref) as key,
    ):
        sign_ofd_for_use(
            use,
            contract,
            signed,
            key,
            cert=purchaser.cert_path,
            placement=Placement.at_text(PURCHASER_BLOCK, cross_page=True),
        )
    signer_pki, seal_pki = pkis
    report = verify_ofd(
        signed,
        trust=[signer_pki.root.cert_path],
        seal_trust=[seal_pki.root.cert_path],
        revocations=revocation_lookup(registry),
    )
    result.ofd_indication = report.indication
    result.files.update(ofd_contract=contract, ofd_signed=signed)


def _bid_roundtrip(out: Path, enc: Any, signer: Any, pki: TestPki, result: DemoResult) -> None:
    from sealkit.envelope import decrypt_file, encrypt_file

    bid = out / "bid.txt"
    bid.write_text("投标响应文件：报价人民币壹拾贰万叁仟元整（¥123,000.00）。\n" * 200, encoding="utf-8")
    sealed = out / "bid.p7m"
    opened = out / "bid.opened.txt"
    with _open(signer.keyref) as sign_key:
        encrypt_file(
            bid,
            sealed,
            [enc.certificate],
            signer=sign_key,
            signer_cert=signer.certificate,
            content_cipher="sm4-cbc",
        )
    with _open(enc.keyref) as dec_key:
        decrypt_file(sealed, opened, dec_key, trust=[pki.root.certificate])
    result.bid_roundtrip = opened.read_bytes() == bid.read_bytes()
    result.files.update(bid=bid, bid_envelope=sealed, bid_opened=opened)
