"""Vendor SM2 profiles: which PKCS#11 codes a UKey uses for SM2 and how its outputs are shaped.

PKCS#11 defines no SM2 mechanisms, so every vendor picks its own ``CKM_VENDOR_DEFINED`` values, and they
collide (shared/notes/pkcs11-sm2.md). A :class:`Profile` names one vendor's set: the SM2 key type,
the key-generation mechanism, the mechanism that hashes with Z itself (and whether it takes the user ID as
its parameter), the mechanism that signs a host-computed e = SM3(Z || M), the decryption mechanism and the
formats of signatures (``der`` or ``raw`` r||s) and ciphertexts.

A profile is chosen, first match wins, by the key reference (``profile=NAME`` query attribute), the
configuration (``[tokens.NAME] profile = "…"`` for that module), or by detection from the token's mechanism
list. Users add profiles without code in the configuration file::

    [profiles.myvendor]
    key_type = 0x80000004        # CKK_* of SM2 keys (omit: EC keys on the SM2 curve)
    keygen = 0x80008001
    sign_with_z = 0x80008100     # token hashes with Z
    id_as_parameter = true       # the SM2 user ID goes as that mechanism's parameter
    sign_over_e = 0x80008104     # token signs e = SM3(Z || M) computed by sealkit
    decrypt = 0x80008200
    signature_format = "raw"     # or "der"
    e_signature_format = "der"   # format of sign_over_e (defaults to signature_format)
    ciphertext_format = "c1c3c2" # der, c1c3c2, c1c2c3, c1c3c2-raw, c1c2c3-raw
    detect = [0x80008001]        # mechanisms whose presence selects this profile
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from sealkit.errors import ConfigError

SIGNATURE_FORMATS = ("der", "raw")
CIPHERTEXT_FORMATS = ("der", "c1c3c2", "c1c2c3", "c1c3c2-raw", "c1c2c3-raw")
#: Standard mechanism codes sealkit uses around the profiles.
CKM_EC_KEY_PAIR_GEN = 0x1040
CKM_ECDH1_DERIVE = 0x1050


@dataclass(frozen=True)
class Profile:
    """One vendor's SM2 codes and formats. ``None`` means "not available on this token"."""

    name: str
    key_type: int | None = None  # None: SM2 keys are CKK_EC keys on the SM2 curve
    keygen: int | None = None  # None: CKM_EC_KEY_PAIR_GEN with the SM2 curve
    sign_with_z: int | None = None
    id_as_parameter: bool = True
    sign_over_e: int | None = None
    decrypt: int | None = None
    decrypt_via_ecdh: bool = False  # CKM_ECDH1_DERIVE gives x2, sealkit finishes the decryption
    signature_format: str = "der"
    e_signature_format: str | None = None
    ciphertext_format: str = "der"
    detect: tuple[int, ...] = field(default_factory=tuple)
    manufacturer: str | None = None  # detection also requires this token manufacturer, when set

    def __post_init__(self) -> None:
        if self.signature_format not in SIGNATURE_FORMATS or (
            self.e_signature_format is not None and self.e_signature_format not in SIGNATURE_FORMATS
        ):
            raise ConfigError(f"profile {self.name!r}: signature_format must be 'der' or 'raw'")
        if self.ciphertext_format not in CIPHERTEXT_FORMATS:
            raise ConfigError(f"profile {self.name!r}: ciphertext_format must be one of {CIPHERTEXT_FORMATS}")

    @property
    def over_e_format(self) -> str:
        return self.e_signature_format or self.signature_format

    @property
    def can_sign(self) -> bool:
        return self.sign_with_z is not None or self.sign_over_e is not None

    @property
    def can_decrypt(self) -> bool:
        return self.decrypt is not None or self.decrypt_via_ecdh

    def codes(self) -> dict[str, int]:
        """The vendor codes by role (for registration and listings)."""
        roles = ("key_type", "keygen", "sign_with_z", "sign_over_e", "decrypt")
        return {r: getattr(self, r) for r in roles if getattr(self, r) is not None}


# Sansec swpkcs11.h (TASS similar): CKM_SM3_SM2 returns r||s, CKM_SM2_SIGN (over e) returns DER.
SANSEC = Profile(
    "sansec",
    key_type=0x80000004,
    keygen=0x80008001,
    sign_with_z=0x80008100,
    sign_over_e=0x80008104,
    decrypt=0x80008200,
    signature_format="raw",
    e_signature_format="der",
    ciphertext_format="c1c3c2",
    detect=(0x80008001, 0x80008100),
)

BUILTIN: dict[str, Profile] = {
    p.name: p
    for p in (
        SANSEC,
        # Thales Luna: SM3_SM2DSA (with Z) and SM2DSA (over e), r||s; no SM2 decryption.
        Profile(
            "luna",
            key_type=0x80000016,
            keygen=0x80000B20,
            sign_with_z=0x80000B22,
            sign_over_e=0x80000B21,
            signature_format="raw",
            detect=(0x80000B20, 0x80000B21),
        ),
        # IBM EP11: SM2_SM3 (with Z), SM2 (over e), r||s; SM2_ENCRYPT decrypts GM/T 0009 DER.
        Profile(
            "ep11",
            key_type=0x80050002,
            keygen=0x8005000A,
            sign_with_z=0x8005000C,
            sign_over_e=0x8005000B,
            decrypt=0x8005000D,
            signature_format="raw",
            detect=(0x8005000A, 0x8005000B),
        ),
        # The project's C test token in its default preset (Sansec codes), recognised by its manufacturer.
        replace(SANSEC, name="sealkit-testtoken", manufacturer="sealkit"),
        # SoftHSM2: EC keys on the SM2 curve; no SM2 signing (ECDSA is not SM2); decryption through ECDH.
        Profile("softhsm", decrypt_via_ecdh=True, detect=(CKM_ECDH1_DERIVE,), manufacturer="SoftHSM project"),
    )
}

_INT_FIELDS = {"key_type", "keygen", "sign_with_z", "sign_over_e", "decrypt"}


def profile_from_config(name: str, table: dict[str, Any]) -> Profile:
    """A profile from a ``[profiles.NAME]`` table (unknown keys are an error, to catch typos)."""
    known = {f.name for f in fields(Profile)} - {"name"}
    unknown = set(table) - known - {"base"}
    if unknown:
        raise ConfigError(f"[profiles.{name}]: unknown keys {', '.join(sorted(unknown))}")
    base = BUILTIN.get(str(table.get("base", "")))
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == "base":
            continue
        if key in _INT_FIELDS and not isinstance(value, int):
            raise ConfigError(f"[profiles.{name}] {key} must be an integer (e.g. 0x80008100)")
        values[key] = tuple(value) if key == "detect" else value
    if base is not None:
        return replace(base, name=name, **values)
    return Profile(name=name, **values)


def all_profiles(config_profiles: dict[str, dict[str, Any]] | None = None) -> dict[str, Profile]:
    """Built-in profiles plus the configuration's (which may override a built-in name)."""
    profiles = dict(BUILTIN)
    for name, table in (config_profiles or {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"[profiles.{name}] must be a table")
        profiles[name] = profile_from_config(name, table)
    return profiles


def get_profile(name: str, config_profiles: dict[str, dict[str, Any]] | None = None) -> Profile:
    profiles = all_profiles(config_profiles)
    try:
        return profiles[name]
    except KeyError:
        raise ConfigError(f"unknown SM2 profile {name!r}: known are {', '.join(sorted(profiles))}") from None


def detect_profile(
    mechanisms: set[int], manufacturer: str = "", config_profiles: dict[str, dict[str, Any]] | None = None
) -> Profile | None:
    """The profile whose ``detect`` mechanisms the token has (user profiles first, then most specific)."""
    profiles = all_profiles(config_profiles)
    user = [p for n, p in profiles.items() if n in (config_profiles or {})]
    builtin = [p for n, p in profiles.items() if n not in (config_profiles or {})]
    for group in (user, builtin):
        matches = [
            p
            for p in group
            if p.detect
            and set(p.detect) <= mechanisms
            and (p.manufacturer is None or manufacturer.strip().startswith(p.manufacturer))
        ]
        if matches:
            return max(matches, key=lambda p: (p.manufacturer is not None, len(p.detect)))
    return None
