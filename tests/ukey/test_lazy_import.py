"""python-pkcs11 is imported only when a PKCS#11 key or token function is used (checked in fresh
interpreters: the test process itself has loaded it long ago)."""

import subprocess
import sys

import pytest


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_sealkit_ukey_and_envelope_does_not_load_pkcs11():
    code = (
        "import sys, sealkit.ukey, sealkit.envelope; sealkit.ukey.close_all_sessions(); "
        "print(sorted(m for m in sys.modules if m == 'pkcs11' or m.startswith('sealkit.ukey.p11')))"
    )
    assert _run(code) == "[]"


def test_a_file_key_does_not_load_pkcs11(rsa_pki):
    ident = rsa_pki.issue("lazy-file")
    code = (
        "import sys; from sealkit.ukey import open_key; "
        f"open_key({ident.keyref!r}).sign(b'x'); print('pkcs11' in sys.modules)"
    )
    assert _run(code) == "False"


@pytest.mark.parametrize(
    "use",
    [
        "sealkit.ukey.list_tokens",
        "sealkit.ukey.open_key('pkcs11:token=x;object=y?module-path=/nonexistent.so')",
    ],
)
def test_token_use_loads_it(use):
    code = (
        "import sys, sealkit.ukey\n"
        f"try:\n    {use}\nexcept sealkit.SealkitError:\n    pass\n"
        "print('pkcs11' in sys.modules, 'list_tokens' in dir(sealkit.ukey), 'open_key' in dir(sealkit.ukey))"
    )
    assert _run(code) == "True True True"
