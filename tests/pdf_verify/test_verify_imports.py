"""What ``sealkit verify`` imports, and that importing less changes no verdict.

The CLI defers ``pyhanko/sign/__init__.py`` (:mod:`sealkit._pyhanko_lazy`), which imports pyHanko's signing
stack and aiohttp; the validation core imports aiohttp only to go online; the seal-overlap warning reads
pages with PDFium, not pypdf; the database layer is imported only when a registry is opened, seal
verification only when a signature carries a seal. These tests
run the real command in fresh interpreters (this process imported all of that long ago) and assert module
sets, never timings. The twins: the deferred package still gives every name it exports, and the CLI's
reports are the library's reports, for honest and forged contracts alike.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sealkit.flows import verify_contract
from tests.pdf_verify import forgeries as f
from tests.pdf_verify.contracts import sign

ROOT = Path(__file__).resolve().parents[2]
#: Never needed to verify a PDF offline (the last two: not without a seal in a signature).
HEAVY = (
    "aiohttp",
    "pypdf",
    "sqlalchemy",
    "pyhanko.sign.signers",
    "pyhanko.sign.timestamps",
    "fontTools",
    "sealkit.seal.verify",
    "sealkit.ukey",
)


def _python(code: str, cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'cli'}{os.pathsep}{ROOT}"}
    env.pop("SEALKIT_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=cwd, env=env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _cli_verify(pdf: Path, trust: Path, cwd: Path) -> tuple[int, dict, list[str]]:
    """``sealkit verify --json`` as the console script runs it: exit code, report, heavy modules loaded."""
    code = (
        "import io, json, sys, contextlib\n"
        "from sealkit_cli.main import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    exit_code = main(['verify', '--json', {str(pdf)!r}, '--trust', {str(trust)!r}])\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "print(json.dumps({'code': exit_code, 'report': json.loads(out.getvalue()), 'heavy': heavy}))\n"
    )
    result = json.loads(_python(code, cwd))
    return result["code"], result["report"], result["heavy"]


def _timeless(report: dict) -> str:
    """The report without the validation time ("now"), which differs between two runs."""
    return re.sub(
        r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\dZ?", "<time>", json.dumps(report, ensure_ascii=False, default=str)
    )


@pytest.fixture(scope="module")
def two_party(rsa_pki, signed):
    """Buyer and supplier signed: the supplier's visible seal makes verify run the overlap check."""
    return sign(signed, rsa_pki.signer("Supplier Ltd"), "supplier")


def test_cli_verify_imports_no_signing_stack_http_pypdf_or_database(two_party, trust, tmp_path):
    pdf = tmp_path / "contract.pdf"
    pdf.write_bytes(two_party)
    code, report, heavy = _cli_verify(pdf, trust[0], tmp_path)
    assert report["indication"] == "TOTAL-PASSED" and code == 0
    assert heavy == []


def test_the_library_imports_no_pypdf_or_database_to_verify(two_party, trust, tmp_path):
    """Without the CLI's deferral pyHanko's own __init__ brings aiohttp (the CLI test covers that part)."""
    pdf = tmp_path / "contract.pdf"
    pdf.write_bytes(two_party)
    code = (
        "import sys\n"
        "from sealkit.pdf import verify_pdf\n"
        f"assert verify_pdf({str(pdf)!r}, trust=[{str(trust[0])!r}]).passed\n"
        "print(sorted(m for m in ('pypdf', 'sqlalchemy', 'fontTools') if m in sys.modules))\n"
    )
    assert _python(code, tmp_path).strip() == "[]"


def test_deferred_pyhanko_sign_gives_every_name_it_exports(tmp_path):
    code = (
        "import sys\n"
        "from sealkit import _pyhanko_lazy\n"
        "assert _pyhanko_lazy.install()\n"
        "import pyhanko.sign.validation, pyhanko.sign.fields\n"
        "before = 'aiohttp' in sys.modules or 'pyhanko.sign.signers' in sys.modules\n"
        "import pyhanko.sign\n"
        "names = dir(pyhanko.sign)\n"
        "from pyhanko.sign import PdfSigner, signers\n"
        "from pyhanko.sign import *\n"
        "fields = pyhanko.sign.fields is sys.modules['pyhanko.sign.fields']\n"
        "print(before, PdfSigner is signers.PdfSigner, 'sign_pdf' in names and 'sign_pdf' in globals(),\n"
        "      '__getattr__' in vars(pyhanko.sign), fields, _pyhanko_lazy.install())\n"
    )
    assert _python(code, tmp_path).split() == ["False", "True", "True", "False", "True", "False"]


_REGISTRY = (
    "import json, sys\n"
    "import sealkit\n"
    "if sys.argv[1] == 'lazy':\n    sealkit.defer_signing_imports()\n"
    "from sealkit.pdf import verify_pdf\n"
    "verify_pdf(sys.argv[2], trust=[sys.argv[3]])\n"
    "from asn1crypto import algos, cms, crl, keys, ocsp, tsp, x509\n"
    "print(json.dumps({f'{m.__name__}.{n}.{a}': sorted(map(str, getattr(m, n).__dict__[a]))\n"
    "    for m in (algos, cms, crl, keys, ocsp, tsp, x509)\n"
    "    for n in dir(m) if isinstance(getattr(m, n), type)\n"
    "    for a in ('_map', '_oid_specs') if isinstance(getattr(m, n).__dict__.get(a), dict)}))\n"
)


def test_both_ways_register_the_same_oids_with_asn1crypto(two_party, trust, tmp_path):
    """As the attacker: pyHanko's signing modules register CMS attributes and certificate extensions on
    import; were they missing when verifying, a signature's attributes would parse differently."""
    pdf = tmp_path / "contract.pdf"
    pdf.write_bytes(two_party)
    registries = {}
    for mode in ("lazy", "full"):
        code = _REGISTRY.replace("sys.argv[1]", repr(mode)).replace("sys.argv[2]", repr(str(pdf)))
        registries[mode] = json.loads(_python(code.replace("sys.argv[3]", repr(str(trust[0]))), tmp_path))
    assert "signature_policy_identifier" in registries["full"]["asn1crypto.cms.CMSAttribute._oid_specs"]
    assert registries["lazy"] == registries["full"]


@pytest.mark.parametrize(
    "first",
    [
        "pyhanko.sign.timestamps",
        "pyhanko.sign.signers.pdf_signer",
        "sealkit.trust.timestamps",
        "sealkit.trust.ltv",
        "sealkit.pdf.sign",
    ],
)
def test_the_signing_stack_imports_in_any_order_when_deferred(first, tmp_path):
    """pyHanko's signing modules import each other in cycles that its __init__'s order resolves: imported
    first, without that __init__ having run, each must still load (a timestamped signature once failed)."""
    code = (
        "import sealkit\n"
        "assert sealkit.defer_signing_imports()\n"
        f"import {first}\n"
        "from pyhanko.sign import PdfSigner, signers\n"
        "print(PdfSigner is signers.PdfSigner)\n"
    )
    assert _python(code, tmp_path).strip() == "True"


def test_an_unknown_name_is_still_an_attribute_error(tmp_path):
    code = (
        "from sealkit import _pyhanko_lazy\n"
        "_pyhanko_lazy.install()\n"
        "import pyhanko.sign\n"
        "try:\n    pyhanko.sign.NoSuchThing\n"
        "except AttributeError:\n    print('AttributeError')\n"
        "try:\n    from pyhanko.sign import nosuchmodule\nexcept ImportError:\n    print('ImportError')\n"
    )
    assert _python(code, tmp_path).split() == ["AttributeError", "ImportError"]


@pytest.mark.parametrize(
    "make",
    [
        lambda two_party, signed: two_party,
        lambda two_party, signed: f.smuggle_after_cms(two_party),
        lambda two_party, signed: f.change_info_title(two_party),
        lambda two_party, signed: f.add_signature_field(signed),
        lambda two_party, signed: f.set_need_appearances(signed),
    ],
    ids=["honest", "smuggled-after-cms", "info-changed", "overlay-field", "need-appearances"],
)
def test_the_cli_reports_what_the_library_reports(make, two_party, signed, trust, tmp_path):
    """As the attacker: the deferred imports must not change a verdict (CLI with them, library without)."""
    pdf = tmp_path / "contract.pdf"
    pdf.write_bytes(make(two_party, signed))
    exit_code, cli_report, _ = _cli_verify(pdf, trust[0], tmp_path)
    library = verify_contract(pdf, trust=[trust[0]]).to_dict()
    assert _timeless(cli_report) == _timeless(library)
    assert (exit_code == 0) == (library["indication"] == "TOTAL-PASSED")
