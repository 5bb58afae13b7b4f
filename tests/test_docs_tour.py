"""The README tour and the docs' examples run literally on a clean, NON-editable install, so none can rot.

Once per session a wheel is built from a copy of the source tree and installed into a fresh virtual
environment; the environment borrows only the dependencies of the test run's environment (a ``.pth`` line;
``.pth`` files there, such as an editable sealkit's, are not processed), so ``sealkit`` and ``sealkit_cli``
come from the wheel alone. Commands run in an empty temporary directory with no PYTHONPATH.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IGNORED = (".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "build", "dist")


class Install:
    def __init__(self, venv: Path) -> None:
        self.venv = venv
        self.python = venv / "bin" / "python"
        self.bin = venv / "bin"

    def env(self, home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEALKIT_") and k != "PYTHONPATH"}
        env.update(PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '')}", SEALKIT_HOME=str(home), CI="1")
        return env


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Install:
    base = tmp_path_factory.mktemp("wheel-install")
    source = base / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*IGNORED, "*.egg-info", "sealkit-demo"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(base / "dist"), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    if build.returncode != 0:
        pytest.fail(f"building the wheel failed: {build.stderr[-2000:]}")
    wheel = next((base / "dist").glob("sealkit-*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    install = Install(venv)
    purelib = subprocess.run(
        [install.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "zz-test-dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    env = install.env(base / "home")
    subprocess.run(
        [
            install.python,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--ignore-installed",
            wheel,
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    where = subprocess.run(
        [install.python, "-c", "import sealkit, sealkit_cli.main as m; print(sealkit.__file__, m.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=base,
    ).stdout
    assert where.count(str(purelib)) == 2, where  # from the wheel, not the source tree
    return install


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_then_stop_tsa(command: list, installed, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run ``command`` in ``tmp_path`` on the installed package; stop a TSA it left in the background."""
    env = installed.env(tmp_path / "home")
    try:
        return subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=900
        )
    finally:
        if (tmp_path / "testpki" / "tsa.pid").exists():
            subprocess.run(["sealkit", "dev", "tsa", "testpki", "--stop"], cwd=tmp_path, env=env, check=False)


def test_the_readme_tour_runs_as_written(installed, tmp_path):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    tour = readme[readme.index("## A tour") : readme.index("## Configuration")]
    script = "\n".join(_blocks(tour, "sh"))
    assert "sealkit keys csr" in script and "sealkit verify" in script
    script = script.replace("3161", str(_free_port()))  # the documented port may be taken on a shared machine
    shutil.copy(REPO / "docs" / "examples" / "unit.toml", tmp_path / "unit.toml")
    done = _run_then_stop_tsa(["bash", "-euo", "pipefail", "-x", "-c", script], installed, tmp_path)
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    assert "Traceback" not in done.stderr
    import json

    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["indication"] == "TOTAL-PASSED" and len(report["signatures"]) == 2
    assert (tmp_path / "filings" / "signed2.filing.json").is_file()
    assert (tmp_path / "opened.tar.gz").read_bytes() == (tmp_path / "bid.tar.gz").read_bytes()


@pytest.mark.parametrize("example", sorted(p.name for p in (REPO / "docs" / "examples").glob("*.py")))
def test_docs_examples_run_on_the_installed_package(installed, tmp_path, example):
    script = REPO / "docs" / "examples" / example
    text = script.read_text(encoding="utf-8")
    assert "tests.helpers" not in text and "from tests" not in text
    copy = tmp_path / example
    shutil.copy(script, copy)
    shutil.copy(REPO / "docs" / "examples" / "unit.toml", tmp_path / "unit.toml")
    done = subprocess.run(
        [installed.python, str(copy)],
        cwd=tmp_path,
        env=installed.env(tmp_path / "home"),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    assert "Traceback" not in done.stdout + done.stderr


#: The docs; tests/docs_runner.py runs each one's ```python, ```sh and ```console blocks in order.
DOCS = sorted(p.name for p in (REPO / "docs").glob("*.md"))
RUNNER = Path(__file__).with_name("docs_runner.py")
#: The ports the docs give the local TEST TSA; each run gets a free one instead (a shared machine).
DOC_PORTS = ("3161", "44995")


def _load_runner():
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_runner", RUNNER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_shell_and_python_example_in_docs_is_seen_by_the_runner():
    """A block in another shell dialect, or a mark without a reason, would escape the doc tests."""
    runner = _load_runner()
    for doc in DOCS:
        text = (REPO / "docs" / doc).read_text(encoding="utf-8")
        assert not re.search(r"^```(bash|shell|zsh|py|python3|pycon|shell-session)\s*$", text, re.M), doc
        assert text.count("<!-- docs-test: not run:") == sum(1 for b in runner.blocks(text) if b["skip"]), doc


@pytest.mark.parametrize("doc", DOCS)
def test_doc_examples_run_in_order_on_the_installed_package(installed, tmp_path, doc):
    """Each doc's examples, top to bottom, in one empty directory with ``unit.toml``, as a reader would."""
    text = (REPO / "docs" / doc).read_text(encoding="utf-8")
    blocks = _load_runner().blocks(text)
    if not blocks:
        pytest.skip(f"{doc} has no shell or python examples")
    port = str(_free_port())
    for documented in DOC_PORTS:
        text = text.replace(f"127.0.0.1:{documented}", f"127.0.0.1:{port}").replace(
            f"--port {documented}", f"--port {port}"
        )
    (tmp_path / doc).write_text(text, encoding="utf-8")
    shutil.copy(REPO / "docs" / "examples" / "unit.toml", tmp_path / "unit.toml")
    done = _run_then_stop_tsa([installed.python, str(RUNNER), doc], installed, tmp_path)
    for line in done.stdout.splitlines():
        if line.startswith("docs-test: not run:"):
            warnings.warn(line, stacklevel=1)  # the rare marked block, and why it is not run
    assert done.returncode == 0, (done.stdout[-4000:], done.stderr[-4000:])
    ran = [line for line in done.stdout.splitlines() if line.startswith("docs-test: running")]
    assert len(ran) == sum(1 for b in blocks if not b["skip"]), done.stdout[-2000:]
    if doc == "api.md":
        assert "TOTAL-PASSED 济南市示范中学合同专用章" in done.stdout
    if doc == "reports.md":  # what the document says its example prints
        assert "TOTAL-PASSED True B-T\nTOTAL-PASSED entire-file True" in done.stdout


def test_docs_python_examples_pass_mypy_strict_against_the_installed_package(installed, tmp_path):
    """What an integrator type-checks: each doc's python blocks in order as one module, against the wheel."""
    runner = _load_runner()
    modules = []
    for doc in DOCS:
        blocks = runner.blocks((REPO / "docs" / doc).read_text(encoding="utf-8"))
        python = [b["code"] for b in blocks if b["lang"] == "python" and not b["skip"]]
        if python:
            module = tmp_path / f"doc_{Path(doc).stem.replace('-', '_')}.py"
            module.write_text("\n".join(python), encoding="utf-8")
            modules.append(str(module))
    assert len(modules) >= 8, modules
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental"]
    command += ["--python-executable", str(installed.python), *modules]
    env = installed.env(tmp_path / "home")
    mypy = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert mypy.returncode == 0, mypy.stdout[-4000:]
