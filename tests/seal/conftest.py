"""Fixtures for the seal tests: two P-256 test PKIs — the signers' CA (holders of the example unit and a
stranger) and the seal authority's CA (the maker), each its own trust anchor — the example unit form, and a
real PostgreSQL server started for the session (as the ``postgres`` user when the tests run as root)."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from sealkit.pki import make_test_pki
from sealkit.seal import load_form
from sealkit.ukey import open_key

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_FORM = REPO / "docs" / "examples" / "unit.toml"
UNIT_NAME = "山东省示范数据研究院"  # the example form's unit
UNIT_USCC = "12370102MB00000014"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("seal-pki")
    ca = make_test_pki(directory / "signers", "p256")
    authority = make_test_pki(directory / "seal-authority", "p256", name="sealkit Test Seal Authority CA")
    return {
        "ca": ca,
        "maker_ca": authority,
        "maker": authority.issue("maker", "seal-maker"),
        "holder": ca.issue("holder", "sign", organization=UNIT_NAME),
        "other": ca.issue("other", "sign"),
    }


@pytest.fixture(scope="session")
def makers(pki):
    """The seal-maker trust anchors."""
    return [pki["maker_ca"].root.certificate]


@pytest.fixture(scope="session")
def maker(pki):
    return open_key(pki["maker"].keyref), pki["maker"].certificate


@pytest.fixture()
def form():
    return load_form(EXAMPLE_FORM)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL 15 cluster on a unix socket; yields a function making fresh database URLs."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 binaries are not installed (Debian package postgresql)")
    root = Path(tempfile.mkdtemp(prefix="sealkit-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as a non-root user")
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
        os.chmod(root, 0o755)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        [*as_user, str(PG_BIN / "initdb"), "-A", "trust", "-U", "postgres", "-D", str(data)],
        check=True,
        capture_output=True,
    )
    options = f"-k {sock} -p {port} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        [
            *as_user,
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "-l",
            str(root / "log"),
            "start",
        ],
        check=True,
        capture_output=True,
    )
    counter = iter(range(1, 10_000))

    def new_database() -> str:
        name = f"reg{next(counter)}"
        subprocess.run(
            [
                *as_user,
                str(PG_BIN / "psql"),
                "-h",
                str(sock),
                "-p",
                str(port),
                "-U",
                "postgres",
                "-q",
                "-c",
                f"CREATE DATABASE {name}",
            ],
            check=True,
            capture_output=True,
        )
        return f"postgresql+psycopg://postgres@/{name}?host={sock}&port={port}"

    try:
        yield new_database
    finally:
        subprocess.run(
            [*as_user, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgres"])
def registry_url(request, tmp_path):
    """A fresh registry URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    return request.getfixturevalue("postgres_server")()


def wait_for_file(path: Path, process: subprocess.Popen, what: str) -> None:
    """Wait until ``path`` exists (the process reached a point), failing if the process ends first."""
    deadline = time.monotonic() + 60
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"{what} ended early: {process.stderr.read() if process.stderr else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never reached its pause point")
        time.sleep(0.05)
