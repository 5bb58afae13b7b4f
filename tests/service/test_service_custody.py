"""The service's signings with a registry seal land in the use register with the client's alias as actor;
`GET /v1/seals/{seal}/uses` and `/grants` show a client its own seals' register and grants, not others'."""

from __future__ import annotations

import hashlib
import urllib.parse

from sealkit.dev.sample_contract import PURCHASER_BLOCK
from tests.service.conftest import OTHER_KEY


def test_service_signings_are_registered_with_the_client_as_actor(server):
    query = urllib.parse.urlencode({"key": "supplier", "seal": "supplier-seal", "at_text": PURCHASER_BLOCK})
    signed = server.request("POST", f"/v1/contracts/sign?{query}", server.contract.read_bytes())
    assert signed.status == 200, signed.body[:300]
    reply = server.request("GET", "/v1/seals/supplier-seal/uses")
    assert reply.status == 200, reply.body[:300]
    register = reply.json()
    assert register["seal"] == server.seals["supplier"]
    entry = next(u for u in register["uses"] if u["sha256"] == hashlib.sha256(signed.body).hexdigest())
    assert (entry["actor"], entry["status"], entry["purpose"]) == ("platform", "done", "contract")
    assert entry["sm3"] and entry["field"] == signed.headers["x-sealkit-field"]
    later = server.request("GET", "/v1/seals/supplier-seal/uses?since=2999-01-01")
    assert later.status == 200 and later.json()["uses"] == []
    grants = server.request("GET", f"/v1/seals/{server.seals['supplier']}/grants")
    assert grants.status == 200 and grants.json()["grants"] == []
    # another client sees neither the register nor the grants of a seal it may not use
    assert server.request("GET", "/v1/seals/supplier-seal/uses", api_key=OTHER_KEY).status == 403
    assert server.request("GET", "/v1/seals/supplier-seal/grants", api_key=OTHER_KEY).status == 403
