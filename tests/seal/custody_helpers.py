"""Shared set-up of the custody tests: a registry with one contract seal of the example unit held by the
``holder`` certificate, a sample contract, and signing it the way ``sealkit sign --seal`` does."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sealkit.flows import SealPlacement, sign_contract
from sealkit.seal import SealRegistry
from sealkit.seal.grants import GrantRequest

UNTIL = dt.date.today() + dt.timedelta(days=365)
WHERE = SealPlacement(page=1, rect=(120.0, 40.0, 40.0, 40.0))


@dataclass
class World:
    url: str
    pki: dict
    seal_id: str
    contract: Path
    base: Path

    def registry(self, **kwargs) -> SealRegistry:
        return SealRegistry(self.url, actor="admin", **kwargs)

    def grant(self, **kwargs) -> str:
        holder = kwargs.pop("holder", self.pki["holder"].certificate)
        until = kwargs.pop("until", UNTIL)
        with self.registry() as registry:
            return registry.grant(self.seal_id, GrantRequest(holder, until, **kwargs)).grant_id

    def sign(self, name: str, *, who: str = "holder", config=None, **kwargs):
        identity = self.pki[who]
        out = self.base / name
        result = sign_contract(
            self.contract,
            out,
            key=identity.keyref,
            cert=identity.cert_path,
            seal_id=self.seal_id,
            registry_url=self.url,
            config=config,
            **{"placement": WHERE, **kwargs},
        )
        return out, result

    def uses(self):
        with self.registry() as registry:
            return registry.uses(self.seal_id)


def make_world(url: str, base: Path, pki: dict, form, maker) -> World:
    from sealkit.dev.sample_contract import write_sample_contract

    with SealRegistry(url, actor="admin") as registry:
        handle, cert = maker
        record = registry.issue(form, "contract", [pki["holder"].certificate], handle, cert, UNTIL)
    contract = base / "contract.pdf"
    if not contract.exists():
        write_sample_contract(contract, pages=1)
    return World(url, pki, record.es_id, contract, base)
