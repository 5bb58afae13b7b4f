"""Two processes race for the last allowed use of a seal, on SQLite and a real PostgreSQL: the use is
reserved under the registry's write lock in the transaction that counts the grant's uses, so exactly one
signs; the other is refused with nothing written."""

import json
import subprocess
import sys
import textwrap

from .conftest import wait_for_file
from .custody_helpers import make_world

SCRIPT = textwrap.dedent(
    """
    import json, pathlib, sys, time
    from sealkit.errors import SealkitError
    from sealkit.flows import SealPlacement, sign_contract
    contract, out, keyref, cert, seal_id, url, go = sys.argv[1:]
    pathlib.Path(out + ".ready").touch()
    while not pathlib.Path(go).exists():
        time.sleep(0.01)
    try:
        sign_contract(contract, out, key=keyref, cert=cert, seal_id=seal_id, registry_url=url,
                      placement=SealPlacement(page=1, rect=(120.0, 40.0, 40.0, 40.0)))
        print(json.dumps({"ok": True}))
    except SealkitError as exc:
        print(json.dumps({"ok": False, "type": type(exc).__name__, "error": str(exc)}))
    """
)


def test_two_processes_race_for_the_last_use(registry_url, tmp_path, pki, form, maker):
    world = make_world(registry_url, tmp_path, pki, form, maker)
    grant_id = world.grant(max_uses=2)
    world.sign("first.pdf")  # one use left
    go = tmp_path / "go"
    holder = pki["holder"]
    outputs = [tmp_path / f"race-{n}.pdf" for n in (1, 2)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                SCRIPT,
                str(world.contract),
                str(out),
                holder.keyref,
                str(holder.cert_path),
            ]
            + [world.seal_id, registry_url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for out in outputs
    ]
    for out, process in zip(outputs, processes, strict=True):  # both wait at the start line, then go
        wait_for_file(out.with_name(out.name + ".ready"), process, "a racing signer")
    go.touch()
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    assert sorted(r["ok"] for r in results) == [False, True], results
    loser = next(r for r in results if not r["ok"])
    assert loser["type"] == "GrantRefused" and "used up (2 of 2 uses)" in loser["error"]
    assert sum(out.exists() for out in outputs) == 1  # the loser wrote nothing
    uses = world.uses()
    assert [u.status for u in uses] == ["done", "done"]  # no register entry for the refused attempt
    with world.registry() as registry:
        assert registry.get_grant(grant_id).used == 2
        assert registry.audit_verify().ok
