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


def test_the_readme_tour_runs_as_written(installed, tmp_path):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    tour = readme[readme.index("## A tour") : readme.index("## Configuration")]
    script = "\n".join(_blocks(tour, "sh"))
    assert "sealkit keys csr" in script and "sealkit verify" in script
    script = script.replace("3161", str(_free_port()))  # the documented port may be taken on a shared machine
    shutil.copy(REPO / "docs" / "examples" / "unit.toml", tmp_path / "unit.toml")
    env = installed.env(tmp_path / "home")
    try:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-x", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
    finally:
        if (tmp_path / "testpki" / "tsa.pid").exists():
            subprocess.run(["sealkit", "dev", "tsa", "testpki", "--stop"], cwd=tmp_path, env=env, check=False)
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


def test_the_api_example_runs_and_passes_mypy_strict_against_the_installed_package(installed, tmp_path):
    code = _blocks((REPO / "docs" / "api.md").read_text(encoding="utf-8"), "python")[0]
    example = tmp_path / "api_example.py"
    example.write_text(code, encoding="utf-8")
    env = installed.env(tmp_path / "home")
    done = subprocess.run(
        [installed.python, str(example)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "TOTAL-PASSED" in done.stdout
    mypy = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--python-executable",
            str(installed.python),
            str(example),
        ],  # fmt: skip
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert mypy.returncode == 0, mypy.stdout[-3000:]


#: The self-contained ```python blocks of docs/*.md (file, index among that file's python blocks). The other
#: blocks are fragments that continue an earlier block or need the reader's own files.
RUNNABLE_BLOCKS = [("pdf-signing.md", 0), ("sm2.md", 0), ("sm2.md", 4)]


@pytest.mark.parametrize(("doc", "index"), RUNNABLE_BLOCKS)
def test_self_contained_doc_blocks_run_on_the_installed_package(installed, tmp_path, doc, index):
    code = _blocks((REPO / "docs" / doc).read_text(encoding="utf-8"), "python")[index]
    example = tmp_path / "block.py"
    example.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [installed.python, str(example)],
        cwd=tmp_path,
        env=installed.env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
