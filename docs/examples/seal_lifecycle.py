"""Runnable example: issue, extend and revoke a seal on test keys, then check the audit chain.

.venv/bin/python docs/examples/seal_lifecycle.py
"""

import datetime as dt
import tempfile
from pathlib import Path

from sealkit.pki import make_test_pki
from sealkit.seal import SealRegistry, load_form, usable_seal, verify_seal
from sealkit.ukey import open_key

work = Path(tempfile.mkdtemp(prefix="sealkit-example-"))
form = load_form(Path(__file__).with_name("unit.toml"))
# Two CAs, two kinds of trust: the signers' CA, and the seal authority's (its root is a seal-maker anchor).
ca = make_test_pki(work / "pki", "p256")  # "sm2" for SM2-with-SM3 seals
authority = make_test_pki(work / "seal-authority", "p256", name="Example Seal Authority CA")
maker_id = authority.issue("maker", "seal-maker")
holder_id = ca.issue("zhang", "sign", organization=form.name)  # a holder must belong to the unit
maker, maker_cert = open_key(maker_id.keyref), maker_id.certificate
makers = [authority.root.certificate]

with SealRegistry(f"sqlite:///{work / 'registry.sqlite3'}", actor="example") as registry:
    record = registry.issue(
        form,
        "contract",
        [holder_id.certificate],
        maker,
        maker_cert,
        dt.date.today().replace(year=dt.date.today().year + 1),
        maker_trust=makers,
    )
    print("issued", record.es_id, record.name, "valid until", record.valid_end)
    assert verify_seal(record.seal_der, trust=makers).ok
    seal = usable_seal(registry, record.es_id, holder_id.certificate)
    print("imprint", len(seal.image_png), "bytes,", seal.width_mm, "x", seal.height_mm, "mm")
    record = registry.extend(
        record.es_id, dt.date.today().replace(year=dt.date.today().year + 2), maker, maker_cert
    )
    print("extended to version", record.version)
    registry.revoke(record.es_id, "imprint-void", note="example")
    report = registry.audit_verify()
    print("audit:", "OK" if report.ok else report.problems, report.entries, "entries, head", report.head[:16])
