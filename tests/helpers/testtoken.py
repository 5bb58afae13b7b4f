"""Build and drive sealkit's SM2 PKCS#11 test token (C sources in ``testtoken/``).

The module is compiled during the test run (``cc -shared -fPIC ... -lcrypto``) into a cache directory,
named by a hash of its sources and flags, so repeated runs reuse it. A token is a directory with a
``token.conf`` and one file per object; :class:`TestTokenDir` writes and edits it. The module reads
``SEALKIT_TESTTOKEN_DIR`` (one directory, or several joined with ``:`` for several slots) at
``C_Initialize``; :func:`load_testtoken` sets it and (re)initialises the module.

Typical use in a test::

    def test_x(testtoken_module, make_testtoken, open_testtoken):
        tok = make_testtoken(preset="luna")
        lib = open_testtoken(tok)
        token = lib.get_token(token_label=tok.label)

THIS TOKEN IS NOT SECURE (keys in clear in files): for tests only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pkcs11
import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCE_DIR = REPO / "testtoken"
SOURCES = ("sealkit_testtoken.c", "tt_store.c", "tt_crypto.c", "tt_functions.c")
HEADERS = ("tt.h",)
CFLAGS = ("-shared", "-fPIC", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-I/usr/include/p11-kit-1")
LIBS = ("-lcrypto", "-lpthread")
APT_PACKAGES = "gcc libssl-dev libp11-kit-dev"
ENV_DIR = "SEALKIT_TESTTOKEN_DIR"
ENV_BUILD_DIR = "SEALKIT_TESTTOKEN_BUILD_DIR"

DEFAULT_USER_PIN = "123456"
DEFAULT_SO_PIN = "12345678"


class TestTokenUnavailable(RuntimeError):
    """The test token cannot be built here (no compiler or missing headers)."""

    __test__ = False


# ---- presets (mirror of PRESETS in testtoken/tt_store.c) ---------------------------------------------


@dataclass(frozen=True)
class VendorCodes:
    """The vendor-defined codes of one preset. ``0`` = the preset has no such mechanism."""

    key_type: int
    keygen_mech: int
    sign_mech_with_z: int
    sign_mech_digest: int
    decrypt_mech: int
    sm3_mech: int
    sig_format_with_z: str
    sig_format_digest: str
    cipher_format: str


PRESETS: Mapping[str, VendorCodes] = {
    "sansec": VendorCodes(
        0x80000004, 0x80008001, 0x80008100, 0x80008104, 0x80008200, 0x80009001, "raw", "der", "c1c3c2"
    ),
    "luna": VendorCodes(0x80000016, 0x80000B20, 0x80000B22, 0x80000B21, 0, 0x80000B01, "raw", "raw", "der"),
    "ep11": VendorCodes(0x80050002, 0x8005000A, 0x8005000C, 0x8005000B, 0x8005000D, 0, "raw", "raw", "der"),
}


# ---- building -------------------------------------------------------------------------------------


def source_hash() -> str:
    """SHA-256 over the module's sources and compile flags: the cache key of a build."""
    h = hashlib.sha256()
    for name in (*SOURCES, *HEADERS):
        h.update(name.encode() + b"\0" + (SOURCE_DIR / name).read_bytes() + b"\0")
    h.update(" ".join((*CFLAGS, *LIBS)).encode())
    return h.hexdigest()


def default_build_dir() -> Path:
    """``$SEALKIT_TESTTOKEN_BUILD_DIR``, else ``build/testtoken`` in the repository (git-ignored)."""
    return Path(os.environ.get(ENV_BUILD_DIR) or REPO / "build" / "testtoken")


def build_testtoken(out_dir: Path | None = None, *, cc: str | None = None) -> Path:
    """Compile the module into ``out_dir`` unless a build of the same sources is there; return its path.

    Raises :class:`TestTokenUnavailable` with the Debian packages to install when it cannot build.
    """
    out_dir = Path(out_dir) if out_dir is not None else default_build_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"sealkit_testtoken-{source_hash()[:16]}.so"
    if target.exists():
        return target
    compiler = cc or os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        raise TestTokenUnavailable(
            f"no C compiler to build the SM2 test token; apt-get install {APT_PACKAGES}"
        )
    tmp = out_dir / f".{target.name}.{os.getpid()}.tmp"
    cmd = [compiler, *CFLAGS, "-o", str(tmp), *(str(SOURCE_DIR / s) for s in SOURCES), *LIBS]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except OSError as exc:
        raise TestTokenUnavailable(f"cannot run {compiler}: {exc}; apt-get install {APT_PACKAGES}") from exc
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        missing = ""
        if "pkcs11.h" in proc.stderr:
            missing = " (p11-kit/pkcs11.h missing: libp11-kit-dev)"
        elif "openssl/" in proc.stderr or "-lcrypto" in proc.stderr:
            missing = " (OpenSSL 3 headers or libcrypto missing: libssl-dev)"
        raise TestTokenUnavailable(
            f"building the SM2 test token failed{missing}; needs apt-get install {APT_PACKAGES}\n"
            f"$ {' '.join(cmd)}\n{proc.stderr[-3000:]}"
        )
    os.replace(tmp, target)  # atomic: parallel builders (xdist workers) may race, any winner is fine
    return target


# ---- token directories ----------------------------------------------------------------------------


def _conf_value(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) and (key.endswith("_mech") or key == "key_type"):
        return f"0x{value:08X}"
    return str(value)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class TestTokenDir:
    """A token directory: ``token.conf`` plus ``*.obj`` object files (format in testtoken/README.md)."""

    __test__ = False  # not a pytest test class

    def __init__(self, path: Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"TestTokenDir({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    @property
    def conf_path(self) -> Path:
        return self.path / "token.conf"

    @classmethod
    def create(
        cls,
        path: Path,
        *,
        preset: str = "sansec",
        label: str = "SEALKIT TEST",
        user_pin: str | None = DEFAULT_USER_PIN,
        so_pin: str | None = DEFAULT_SO_PIN,
        max_pin_tries: int = 3,
        **overrides: object,
    ) -> TestTokenDir:
        """Make a fresh token directory; ``overrides`` are further token.conf keys (README)."""
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; one of {sorted(PRESETS)}")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        values: dict[str, object] = {"preset": preset, "label": label, "max_pin_tries": max_pin_tries}
        if user_pin is not None:
            values["user_pin"] = user_pin
        if so_pin is not None:
            values["so_pin"] = so_pin
        values.update(overrides)
        lines = ["# sealkit SM2 test token (NOT SECURE: for tests only)"]
        lines += [f"{k}={_conf_value(k, v)}" for k, v in values.items() if v is not None]
        _write_atomic(path / "token.conf", ("\n".join(lines) + "\n").encode())
        return cls(path)

    def config(self) -> dict[str, str]:
        """token.conf as a dict (the module's own updates, e.g. PIN counters, included)."""
        out: dict[str, str] = {}
        for line in self.conf_path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
        return out

    def set_config(self, **values: object) -> None:
        """Change token.conf keys atomically (``None`` deletes a key). The module notices on its next call."""
        kept = []
        for line in self.conf_path.read_text().splitlines():
            key = line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith("#") else None
            if key not in values:
                kept.append(line)
        kept += [f"{k}={_conf_value(k, v)}" for k, v in values.items() if v is not None]
        _write_atomic(self.conf_path, ("\n".join(kept) + "\n").encode())

    @property
    def label(self) -> str:
        return self.config().get("label", "SEALKIT TEST")

    @property
    def preset(self) -> VendorCodes:
        """The vendor codes in force (preset plus overrides in token.conf)."""
        conf = self.config()
        base = PRESETS[conf.get("preset", "sansec")]
        fields = {f: getattr(base, f) for f in base.__dataclass_fields__}
        for key in (
            "key_type",
            "keygen_mech",
            "sign_mech_with_z",
            "sign_mech_digest",
            "decrypt_mech",
            "sm3_mech",
        ):
            if key in conf:
                fields[key] = int(conf[key], 0)
        if "sig_format" in conf:
            fields["sig_format_with_z"] = fields["sig_format_digest"] = conf["sig_format"]
        for key in ("sig_format_with_z", "sig_format_digest", "cipher_format"):
            if key in conf:
                fields[key] = conf[key]
        return VendorCodes(**fields)

    def remove(self) -> None:
        """Pull the token out: the slot shows no token, sessions fail with CKR_DEVICE_REMOVED."""
        self.set_config(removed=True)

    def insert(self) -> None:
        """Put the token back (objects are re-read from the directory, old sessions stay dead)."""
        self.set_config(removed=False)

    def object_files(self) -> list[Path]:
        return sorted(self.path.glob("*.obj"))

    def import_private_key(
        self,
        pkcs8_der: bytes,
        *,
        label: str,
        key_id: bytes,
        public_point: bytes | None = None,
        sign: bool = True,
        decrypt: bool = True,
    ) -> None:
        """Put an SM2 private key (PKCS#8 DER) on the token, as a CA's key manager would (escrowed keys).

        With ``public_point`` (65-byte ``04||x||y``) a public-key object is written too. Like a key pulled
        from a real UKey's import path, it is not CKA_LOCAL. Write before the module is loaded, or
        :meth:`remove`/:meth:`insert` around it: objects are read when the token is inserted.
        """
        stem = hashlib.sha256(pkcs8_der).hexdigest()[:16]
        common = {0x3: label.encode(), 0x102: key_id}  # CKA_LABEL, CKA_ID
        priv = {**common, 0x108: bytes([sign]), 0x105: bytes([decrypt])}  # CKA_SIGN, CKA_DECRYPT
        self._write_object(f"imp-{stem}-priv.obj", 0x3, priv, pkcs8_der)
        if public_point is not None:
            point = bytes([0x04, len(public_point)]) + public_point  # DER OCTET STRING
            pub = {**common, 0x181: point}  # CKA_EC_POINT
            self._write_object(f"imp-{stem}-pub.obj", 0x2, pub, None)

    def _write_object(self, name: str, cls: int, attrs: Mapping[int, bytes], pkcs8: bytes | None) -> None:
        lines = [
            "# sealkit test token object. NOT SECURE: private keys are stored in clear.",
            f"class=0x{cls:x}",
        ]
        lines += [f"attr.0x{t:x}={v.hex()}" for t, v in attrs.items()]
        lines += ["attr.0x1=01"]  # CKA_TOKEN
        if pkcs8 is not None:
            lines.append(f"pkcs8={pkcs8.hex()}")
        _write_atomic(self.path / name, ("\n".join(lines) + "\n").encode())


# ---- loading the module ---------------------------------------------------------------------------


def load_testtoken(module: Path, *token_dirs: TestTokenDir | Path):
    """Point the module at ``token_dirs`` (slot i = directory i) and (re)initialise it; a ``pkcs11.lib``.

    python-pkcs11 keeps one ``lib`` per path, so this finalises and re-initialises it: Session objects from
    before are dead afterwards (their handles are never reused by the module).
    """
    os.environ[ENV_DIR] = ":".join(str(Path(d)) for d in token_dirs)
    lib = pkcs11.lib(str(module))
    lib.reinitialize()
    return lib


# ---- pytest fixtures ------------------------------------------------------------------------------


def _unavailable(exc: Exception) -> None:
    if os.environ.get("CI") or os.environ.get("SEALKIT_REQUIRE_TESTTOKEN"):
        pytest.fail(str(exc), pytrace=False)
    pytest.skip(str(exc))


@pytest.fixture(scope="session")
def testtoken_module() -> Path:
    """The built module (skips, or fails under CI / SEALKIT_REQUIRE_TESTTOKEN=1, when it cannot build)."""
    try:
        return build_testtoken()
    except TestTokenUnavailable as exc:
        _unavailable(exc)
        raise


@pytest.fixture
def make_testtoken(tmp_path: Path) -> Callable[..., TestTokenDir]:
    """Factory: ``make_testtoken(preset="luna", label=..., **token_conf_keys) -> TestTokenDir``."""
    count = 0

    def make(**kwargs: object) -> TestTokenDir:
        nonlocal count
        count += 1
        return TestTokenDir.create(tmp_path / f"token{count}", **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def open_testtoken(
    testtoken_module: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., object]]:
    """Factory: ``open_testtoken(*token_dirs) -> pkcs11.lib``; the module is finalised after the test."""
    monkeypatch.setenv(ENV_DIR, "")
    libs = []

    def open_(*token_dirs: TestTokenDir | Path):
        lib = load_testtoken(testtoken_module, *token_dirs)
        libs.append(lib)
        return lib

    yield open_
    for lib in libs[-1:]:
        with contextlib.suppress(pkcs11.PKCS11Error):  # already finalised
            lib.finalize()
