"""The expiry notice: `sealkit seal expiring --within 30d` lists the active seals expiring within the window
(revoked and disabled ones excluded), exits 14 when any are due and 0 otherwise; `seal list --expiring`
filters the same way. On SQLite and a real PostgreSQL."""

import datetime as dt
import json
import subprocess
import sys

from sealkit.exit_codes import SEALS_EXPIRING
from sealkit.seal import SealRegistry


def sealkit(*args):
    return subprocess.run([sys.executable, "-m", "sealkit_cli.main", *args], capture_output=True, text=True)


def test_expiring_lists_active_seals_only_and_exits_non_zero(registry_url, form, pki, maker):
    today = dt.date.today()
    holders = [pki["holder"].certificate]
    with SealRegistry(registry_url, actor="admin") as registry:
        far = registry.issue(form, "official", holders, *maker, today + dt.timedelta(days=365))
        assert sealkit("seal", "expiring", "--within", "30d", "--registry", registry_url).returncode == 0
        soon = registry.issue(form, "contract", holders, *maker, today + dt.timedelta(days=10))
        disabled = registry.issue(form, "finance", holders, *maker, today + dt.timedelta(days=10))
        revoked = registry.issue(form, "contract", holders, *maker, today + dt.timedelta(days=5))
        registry.set_enabled(disabled.es_id, False)
        registry.revoke(revoked.es_id, "imprint-void")

    result = sealkit("seal", "expiring", "--within", "30d", "--registry", registry_url, "--json")
    assert result.returncode == SEALS_EXPIRING == 14, result.stderr
    data = json.loads(result.stdout)
    assert [s["es_id"] for s in data["seals"]] == [soon.es_id] and data["within_days"] == 30
    human = sealkit("seal", "expiring", "--within", "4w", "--registry", registry_url)
    assert human.returncode == 14 and soon.es_id in human.stdout
    assert revoked.es_id not in human.stdout and disabled.es_id not in human.stdout
    assert sealkit("seal", "expiring", "--within", "5", "--registry", registry_url).returncode == 0

    listed = sealkit("seal", "list", "--expiring", "30d", "--registry", registry_url, "--json")
    assert listed.returncode == 0
    assert [s["es_id"] for s in json.loads(listed.stdout)["seals"]] == [soon.es_id]
    revoked_too = sealkit(
        "seal", "list", "--expiring", "30d", "--status", "revoked", "--registry", registry_url, "--json"
    )
    assert json.loads(revoked_too.stdout)["seals"] == []  # a revoked seal does not expire: it is out
    assert far.es_id not in listed.stdout

    bad = sealkit("seal", "expiring", "--within", "soon", "--registry", registry_url)
    assert bad.returncode == 2 and "--within 'soon'" in bad.stderr and "Traceback" not in bad.stderr
