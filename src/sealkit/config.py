"""sealkit's one configuration file, and how flags and environment variables override it.

The file is TOML, found at ``$SEALKIT_CONFIG``, else ``./sealkit.toml``, else
``~/.config/sealkit/config.toml`` (the first that exists). Precedence, highest first: command-line flags,
environment variables, the file, built-in defaults. Example::

    home = "~/.local/share/sealkit"        # SEALKIT_HOME: registry, caches, demo output

    [sign]
    key = "pkcs11:token=Supplier;object=sign?module-path=/usr/lib/x.so"   # SEALKIT_KEY
    cert = "supplier.pem"
    chain = ["ca.pem"]
    seal = "SEAL-ID"                        # default seal from the registry
    subfilter = "ETSI.CAdES.detached"

    [trust]
    anchors = ["root-sm2.pem", "root-rsa.pem"]   # signers (PDF signatures, TSAs)
    seal_makers = ["seal-authority-ca.pem"]      # seal makers (制章者) and revocation lists, never signers

    [tsa]
    url = "http://tsa.example/"             # SEALKIT_TSA

    [registry]
    url = "sqlite:////var/lib/sealkit/seals.db"   # SEALKIT_REGISTRY; or postgresql://...
    signing_key = "pkcs11:token=Registry;object=head"   # signs the audit chain's head (token or keystore:)
    signing_cert = "registry.pem"                 # checks it; needed by everyone who reads the registry
    grants_required = true                        # a seal without a grant (用印授权) cannot be used
    admin_certs = ["seal-admin.pem"]              # only these may issue, extend, revoke, grant, withdraw

    [time]
    zone = "+08:00"                         # times written without a zone (default: Beijing time)

    [seal]
    font = "/usr/share/fonts/truetype/arphic/uming.ttc"   # the font seal images are drawn with

    [verify]
    require_seal = true                     # every signature must carry an electronic seal (--require-seal)

    [report]                                # the verifier key signing report PDFs (verify --report)
    key = "pkcs11:token=Verifier;object=report"
    cert = "verifier.pem"
    chain = ["ca.pem"]

    [tokens.budget]                         # named PKCS#11 modules
    module = "/usr/lib/vendor/libukey.so"
    profile = "sansec"

    [profiles.myvendor]                     # extra vendor SM2 profiles (see sealkit.ukey.profiles)
    key_type = 0x80000004
    sign_with_z = 0x80008100

Relative paths in the file are resolved against the file's directory. A key sealkit does not know is an
error that names the closest known key (a misspelt ``kye`` must not be ignored silently).

Library calls never read a configuration file on their own: :func:`load_config` is the explicit call, and a
function that takes ``config=None`` uses ``Config()`` (defaults and the environment only).
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sealkit.errors import ConfigError

CONFIG_ENV = "SEALKIT_CONFIG"
HOME_ENV = "SEALKIT_HOME"

#: The keys sealkit reads: a table's known keys, or None for a table of free-form named tables.
SCHEMA: dict[str, set[str] | None] = {
    "home": set(),
    "sign": {"key", "cert", "chain", "seal", "subfilter"},
    "trust": {"anchors", "seal_makers"},
    "tsa": {"url"},
    "registry": {"url", "signing_key", "signing_cert", "grants_required", "admin_certs"},
    "time": {"zone"},
    "seal": {"font"},
    "report": {"key", "cert", "chain"},
    "verify": {"require_seal"},
    "tokens": None,  # [tokens.NAME] with module, profile
    "profiles": None,  # [profiles.NAME], checked by sealkit.ukey.profiles
    "service": None,  # [service] and its tables, checked by sealkit.service.settings
}
TOKEN_KEYS = {"module", "profile"}


@dataclass
class Config:
    """The merged configuration. ``raw`` keeps every section for the modules that own them."""

    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    # --- general -----------------------------------------------------------------------------------

    def section(self, name: str) -> dict[str, Any]:
        value = self.raw.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] in {self.path} must be a table")
        return value

    def resolve_path(self, value: str) -> Path:
        """Resolve a path from the file: ``~`` expanded, relative to the file's directory."""
        path = Path(value).expanduser()
        if not path.is_absolute() and self.path is not None:
            path = self.path.parent / path
        return path

    @property
    def home(self) -> Path:
        if self.env.get(HOME_ENV):
            return Path(self.env[HOME_ENV]).expanduser()
        if "home" in self.raw:
            return self.resolve_path(str(self.raw["home"]))
        return Path("~/.local/share/sealkit").expanduser()

    # --- signing --------------------------------------------------------------------------------------

    @property
    def default_key(self) -> str | None:
        return self.env.get("SEALKIT_KEY") or self.section("sign").get("key")

    def _sign_path(self, name: str) -> Path | None:
        value = self.section("sign").get(name)
        return self.resolve_path(value) if value else None

    @property
    def default_cert(self) -> Path | None:
        return self._sign_path("cert")

    @property
    def default_chain(self) -> list[Path]:
        return [self.resolve_path(p) for p in self.section("sign").get("chain", [])]

    @property
    def default_seal(self) -> str | None:
        return self.env.get("SEALKIT_SEAL") or self.section("sign").get("seal")

    # --- trust, services, registry ------------------------------------------------------------------

    @property
    def trust_anchors(self) -> list[Path]:
        return [self.resolve_path(p) for p in self.section("trust").get("anchors", [])]

    @property
    def seal_maker_anchors(self) -> list[Path]:
        """The seal makers' own trust anchors ([trust] seal_makers), separate from the signers'."""
        return [self.resolve_path(p) for p in self.section("trust").get("seal_makers", [])]

    @property
    def tsa_url(self) -> str | None:
        return self.env.get("SEALKIT_TSA") or self.section("tsa").get("url")

    @property
    def time_zone(self) -> dt.tzinfo:
        """The zone of times written without one (``[time] zone``; default Beijing time, UTC+8)."""
        from sealkit import timefmt

        zone = self.section("time").get("zone")
        return timefmt.BEIJING if zone is None else timefmt.parse_zone(str(zone))

    @property
    def registry_url(self) -> str:
        url = self.env.get("SEALKIT_REGISTRY") or self.section("registry").get("url")
        return url or f"sqlite:///{self.home / 'registry.sqlite3'}"

    @property
    def registry_signing_key(self) -> str | None:
        """Key reference of the registry key that signs the audit chain's head."""
        value = self.section("registry").get("signing_key")
        return str(value) if value else None

    @property
    def registry_signing_cert(self) -> Path | None:
        value = self.section("registry").get("signing_cert")
        return self.resolve_path(str(value)) if value else None

    @property
    def registry_grants_required(self) -> bool:
        """``[registry] grants_required``: refuse seals that have no grant (default: grants are enforced
        only for seals that have some)."""
        value = self.section("registry").get("grants_required", False)
        if not isinstance(value, bool):
            raise ConfigError(f"[registry] grants_required in {self.path} must be true or false")
        return value

    @property
    def registry_admin_certs(self) -> list[Path]:
        """``[registry] admin_certs``: the administrators' certificates (empty: no administrator needed)."""
        value = self.section("registry").get("admin_certs", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"[registry] admin_certs in {self.path} must be a list of certificate files")
        return [self.resolve_path(v) for v in value]

    # --- verification -------------------------------------------------------------------------------------

    @property
    def verify_require_seal(self) -> bool:
        """``[verify] require_seal``: every signature must carry an electronic seal (default false: only
        the fields a contract prepared for seals require one)."""
        value = self.section("verify").get("require_seal", False)
        if not isinstance(value, bool):
            raise ConfigError(f"[verify] require_seal in {self.path} must be true or false")
        return value

    # --- verification reports -------------------------------------------------------------------------

    @property
    def report_key(self) -> str | None:
        """Key reference of the verifier key that signs report PDFs (``[report] key``)."""
        value = self.section("report").get("key")
        return str(value) if value else None

    @property
    def report_cert(self) -> Path | None:
        value = self.section("report").get("cert")
        return self.resolve_path(str(value)) if value else None

    @property
    def report_chain(self) -> list[Path]:
        return [self.resolve_path(str(p)) for p in self.section("report").get("chain", [])]

    # --- tokens -----------------------------------------------------------------------------------------

    @property
    def tokens(self) -> dict[str, dict[str, Any]]:
        return self.section("tokens")

    @property
    def profiles(self) -> dict[str, dict[str, Any]]:
        return self.section("profiles")


def find_config_file(env: Mapping[str, str] | None = None) -> Path | None:
    """The configuration file in effect, or None."""
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV]).expanduser()
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV} names {path}, which does not exist")
        return path
    for candidate in (Path("sealkit.toml"), Path("~/.config/sealkit/config.toml").expanduser()):
        if candidate.is_file():
            return candidate.resolve()
    return None


def load_config(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load the configuration from ``path`` (or the usual places); a missing file gives the defaults."""
    env = dict(os.environ if env is None else env)
    file = Path(path).expanduser() if path is not None else find_config_file(env)
    if file is None:
        return Config(path=None, raw={}, env=env)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {file} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    check_keys(raw, file)
    return Config(path=file.resolve(), raw=raw, env=env)


def check_keys(raw: dict[str, Any], file: Path) -> None:
    """:class:`ConfigError` for the first key sealkit does not know, naming the closest known one."""

    def unknown(key: str, known: set[str], where: str) -> ConfigError:
        close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(sorted(known))}"
        return ConfigError(f"{file}: unknown key {key!r} in {where}: {hint}")

    for key, value in raw.items():
        if key not in SCHEMA:
            raise unknown(key, set(SCHEMA), "the top level")
        known = SCHEMA[key]
        if not isinstance(value, dict) or known is None:
            if key == "tokens" and isinstance(value, dict):
                for name, table in value.items():
                    for sub in table if isinstance(table, dict) else ():
                        if sub not in TOKEN_KEYS:
                            raise unknown(sub, TOKEN_KEYS, f"[tokens.{name}]")
            continue
        for sub in value:
            if sub not in known:
                raise unknown(sub, known, f"[{key}]")
