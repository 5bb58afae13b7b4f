"""Private keys on PKCS#11 tokens: :class:`Pkcs11Key` and :func:`open_pkcs11_key`.

RSA signs with the token's hash-and-sign mechanisms (``CKM_SHA256_RSA_PKCS``, ``…_PSS``); ECDSA P-256 signs a
host-computed hash with ``CKM_ECDSA`` (r||s, returned as DER); SM2 follows the token's vendor
:class:`~sealkit.ukey.profiles.Profile` (sign with Z on the token, or over e = SM3(Z || M) computed here) and
is returned as DER. Decryption: RSA OAEP / PKCS#1 v1.5, SM2 by the vendor mechanism or through
``CKM_ECDH1_DERIVE`` (SoftHSM), finished by :mod:`sealkit.sm2`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

from asn1crypto import core as asn1_core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from pkcs11 import KDF, MGF, Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e

from sealkit.config import Config
from sealkit.errors import (
    DamagedEnvelope,
    InvalidInput,
    KeyNotFound,
    MechanismNotSupported,
    TokenError,
    TokenNotPresent,
    UnsupportedAlgorithm,
)
from sealkit.sm2.oids import DEFAULT_SM2_ID
from sealkit.sm2.signature import der_from_raw
from sealkit.ukey import _sm2, vendor_enums
from sealkit.ukey.base import KeyKind, PrivateKeyHandle, SignOptions
from sealkit.ukey.keyref import Pkcs11Ref
from sealkit.ukey.p11module import Pkcs11Module, TokenSession, get_module
from sealkit.ukey.pins import ChainedPinSource
from sealkit.ukey.profiles import Profile, all_profiles, detect_profile, get_profile

MODULE_ENV = "SEALKIT_PKCS11_MODULE"
P256_EC_PARAMS = bytes.fromhex("06082a8648ce3d030107")
_RSA_PKCS = {
    "sha256": Mechanism.SHA256_RSA_PKCS,
    "sha384": Mechanism.SHA384_RSA_PKCS,
    "sha512": Mechanism.SHA512_RSA_PKCS,
}
_RSA_PSS = {
    "sha256": (Mechanism.SHA256_RSA_PKCS_PSS, Mechanism.SHA256, MGF.SHA256, 32),
    "sha384": (Mechanism.SHA384_RSA_PKCS_PSS, Mechanism.SHA384, MGF.SHA384, 48),
    "sha512": (Mechanism.SHA512_RSA_PKCS_PSS, Mechanism.SHA512, MGF.SHA512, 64),
}
_OAEP = {
    "sha256": (Mechanism.SHA256, MGF.SHA256),
    "sha384": (Mechanism.SHA384, MGF.SHA384),
    "sha512": (Mechanism.SHA512, MGF.SHA512),
    "sha1": (Mechanism.SHA_1, MGF.SHA1),
}


class _AmbiguousFailure(Exception):
    """Internal: the token answered a decryption with CKR_GENERAL_ERROR / CKR_FUNCTION_FAILED."""


def register_profile(profile: Profile) -> None:
    """Make python-pkcs11 accept the profile's vendor codes (see :mod:`sealkit.ukey.vendor_enums`)."""
    if profile.key_type is not None:
        vendor_enums.key_type(profile.key_type, f"{profile.name.upper()}_SM2")
    for role in ("keygen", "sign_with_z", "sign_over_e", "decrypt"):
        code = getattr(profile, role)
        if code is not None:
            vendor_enums.mechanism(code, f"{profile.name.upper()}_SM2_{role.upper()}")


def resolve_module(ref: Pkcs11Ref, config: Config) -> tuple[str, str | None]:
    """(module path, configured profile name) for a reference."""
    tokens = config.tokens
    if "module-path" in ref.query:
        path = ref.query["module-path"]
        for entry in tokens.values():
            if (
                isinstance(entry, dict)
                and entry.get("module")
                and str(config.resolve_path(entry["module"])) == path
            ):
                return path, entry.get("profile")
        return path, None
    name = ref.query.get("module-name")
    if name is not None:
        named = tokens.get(name)
        if not isinstance(named, dict) or "module" not in named:
            raise InvalidInput(f"module-name={name!r}: no [tokens.{name}] with a module in the configuration")
        return str(config.resolve_path(named["module"])), named.get("profile")
    if config.env.get(MODULE_ENV):
        return config.env[MODULE_ENV], None
    raise InvalidInput(
        f"the pkcs11: reference names no module: add module-path=…, module-name=… or set {MODULE_ENV}"
    )


def token_mechanisms(state: TokenSession) -> set[int]:
    with state.module.guard(f"listing mechanisms of {state.label!r}"):
        return {int(m) for m in state.token.slot.get_mechanisms()}


def choose_profile(state: TokenSession, explicit: str | None, config: Config) -> Profile | None:
    """The SM2 profile: explicit (reference or configuration), else detected from the mechanism list."""
    if explicit:
        return get_profile(explicit, config.profiles)
    return detect_profile(token_mechanisms(state), state.token.manufacturer_id, config.profiles)


def open_pkcs11_key(ref: Pkcs11Ref, *, config: Config, pins: ChainedPinSource) -> Pkcs11Key:
    """Open the private key a ``pkcs11:`` reference names (logging in once per token)."""
    if ref.attrs.get("type", "private") != "private":
        raise InvalidInput("a signing key reference needs type=private (or no type)")
    if ref.object is None and ref.key_id is None:
        raise InvalidInput("the pkcs11: reference names no key: add object=… or id=…")
    path, configured = resolve_module(ref, config)
    for known in all_profiles(config.profiles).values():
        register_profile(known)
    module = get_module(path)
    state = module.token_session(module.find_token(ref))
    profile = choose_profile(state, ref.profile or configured, config)
    return Pkcs11Key(state, ref, pins, profile)


def _template(ref: Pkcs11Ref, cls: ObjectClass) -> dict[Attribute, Any]:
    attrs: dict[Attribute, Any] = {Attribute.CLASS: cls}
    if ref.object is not None:
        attrs[Attribute.LABEL] = ref.object
    if ref.key_id is not None:
        attrs[Attribute.ID] = ref.key_id
    return attrs


def _find_one(session: Any, attrs: dict[Attribute, Any]) -> Any | None:
    found = list(session.get_objects(attrs))
    if len(found) > 1:
        raise InvalidInput("the reference matches several objects; add id= or object=")
    return found[0] if found else None


def ec_spki(ec_params: bytes, ec_point: bytes) -> asn1_keys.PublicKeyInfo:
    """SubjectPublicKeyInfo of an EC key from CKA_EC_PARAMS and CKA_EC_POINT (DER OCTET STRING or raw)."""
    point = ec_point
    if point[:1] == b"\x04" and len(point) != 65:
        point = asn1_core.OctetString.load(point).native
    curve = asn1_core.ObjectIdentifier.load(ec_params).dotted
    return asn1_keys.PublicKeyInfo(
        {"algorithm": {"algorithm": "ec", "parameters": ("named", curve)}, "public_key": point}
    )


class Pkcs11Key(PrivateKeyHandle):
    """A private key on a token; every operation is serialised through the token's module lock."""

    def __init__(
        self, state: TokenSession, ref: Pkcs11Ref, pins: ChainedPinSource, profile: Profile | None
    ) -> None:
        self._state = state
        self._module: Pkcs11Module = state.module
        self._ref = ref
        self._pins = pins
        self.profile = profile
        self.label = f"{state.label}/{ref.object or (ref.key_id or b'').hex()}"
        self._software_oaep: set[tuple[str, str]] = set()
        self._session: Any = None
        self._z_cache: dict[bytes, bytes] = {}
        self._sm2_mechs: dict[int, Mechanism] = {}
        state.run(f"finding key {self.label!r}", self._load, pins)

    def _load(self, session: Any) -> None:
        priv = _find_one(session, _template(self._ref, ObjectClass.PRIVATE_KEY))
        if priv is None:
            raise KeyNotFound(f"no private key {self._ref.describe()} on token {self._state.label!r}")
        self.key_id = bytes(priv[Attribute.ID] or b"")
        key_type = int(priv[Attribute.KEY_TYPE])
        self.always_authenticate = bool(_attr(priv, Attribute.ALWAYS_AUTHENTICATE, False))
        certs = (
            list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.ID: self.key_id}))
            if self.key_id
            else []
        )
        self._cert = asn1_x509.Certificate.load(bytes(certs[0][Attribute.VALUE])) if certs else None
        pub = (
            _find_one(session, {Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.ID: self.key_id})
            if self.key_id
            else None
        )
        if key_type == KeyType.RSA:
            self.kind = KeyKind.RSA
            src = pub or priv
            modulus, exponent = (
                int.from_bytes(bytes(src[a]), "big") for a in (Attribute.MODULUS, Attribute.PUBLIC_EXPONENT)
            )
            rsa_pub = asn1_keys.RSAPublicKey({"modulus": modulus, "public_exponent": exponent})
            self._spki = asn1_keys.PublicKeyInfo({"algorithm": {"algorithm": "rsa"}, "public_key": rsa_pub})
        else:
            sm2_codes = {p.key_type for p in all_profiles().values() if p.key_type is not None}
            if self.profile is not None and self.profile.key_type is not None:
                sm2_codes.add(self.profile.key_type)
            params = bytes(
                _attr(priv, Attribute.EC_PARAMS, b"") or (pub and _attr(pub, Attribute.EC_PARAMS, b"")) or b""
            )
            if key_type in sm2_codes or params == _sm2.SM2_EC_PARAMS:
                self.kind = KeyKind.SM2
                params = _sm2.SM2_EC_PARAMS
            elif key_type == KeyType.EC and params == P256_EC_PARAMS:
                self.kind = KeyKind.P256
            else:
                raise UnsupportedAlgorithm(f"key {self.label!r}: unsupported key type 0x{key_type:x}")
            if self._cert is not None:
                self._spki = self._cert.public_key
            elif pub is not None:
                self._spki = ec_spki(params, bytes(pub[Attribute.EC_POINT]))
            else:
                raise KeyNotFound(f"key {self.label!r}: no certificate or public key object with the same id")
        self._priv = priv
        self._session = session

    # --- PrivateKeyHandle -------------------------------------------------------------------------------

    def public_key_info(self) -> asn1_keys.PublicKeyInfo:
        return self._spki

    def certificate(self) -> asn1_x509.Certificate | None:
        return self._cert

    def _pin(self) -> str | None:
        return self._pins.require(f"PIN for key {self.label!r}") if self.always_authenticate else None

    def _token_sign(self, data: bytes, mech: Mechanism, param: Any, pin: str | None) -> bytes:
        """C_Sign with the key: the hot path of every signature, so one lock and no extra layers."""
        state = self._state
        with self._module.lock:
            session = state.current(self._pins)
            if session is not self._session:
                self._load(session)  # the session was reopened: object handles are new
            try:
                return bytes(self._priv.sign(data, mechanism=mech, mechanism_param=param, pin=pin))
            except (p11e.PKCS11Error, TokenNotPresent) as exc:
                raise state.failed(exc, f"signing with {self.label!r}") from None

    def _op(self, what: str, fn: Any, *, ambiguous: bool = False, decrypting: bool = False) -> bytes:
        """``fn(private key object)`` on the token, under the module lock."""
        state = self._state
        with self._module.lock:
            session = state.current(self._pins)
            if session is not self._session:
                self._load(session)
            try:
                return bytes(fn(self._priv))
            except (p11e.GeneralError, p11e.FunctionFailed) as exc:
                if ambiguous:
                    raise _AmbiguousFailure from None
                raise state.failed(exc, f"{what} with {self.label!r}", decrypting=decrypting) from None
            except (p11e.PKCS11Error, TokenNotPresent) as exc:
                raise state.failed(exc, f"{what} with {self.label!r}", decrypting=decrypting) from None

    def sign(self, data: bytes, options: SignOptions | None = None) -> bytes:
        options = options or _DEFAULT_OPTIONS
        pin = self._pins.require(f"PIN for key {self.label!r}") if self.always_authenticate else None
        kind = self.kind
        if kind is KeyKind.P256:
            hasher = _HASHLIB.get(options.digest)
            if hasher is None:
                raise UnsupportedAlgorithm(f"digest {options.digest!r} is not supported (sha256/384/512)")
            return raw_to_der(self._token_sign(hasher(data).digest(), Mechanism.ECDSA, None, pin))
        if kind is KeyKind.RSA:
            if options.rsa_padding == "pkcs1v15" and options.digest in _RSA_PKCS:
                return self._token_sign(data, _RSA_PKCS[options.digest], None, pin)
            if options.rsa_padding == "pss" and options.digest in _RSA_PSS:
                mech, h, mgf, salt = _RSA_PSS[options.digest]
                return self._token_sign(data, mech, (h, mgf, salt), pin)
            raise UnsupportedAlgorithm(f"RSA {options.rsa_padding}/{options.digest} is not supported")
        return self.sign_sm2(data, options.sm2_uid, pin=pin)

    def _mechanism(self, code: int) -> Mechanism:
        """The (vendor) mechanism ``code`` as python-pkcs11's enum member, resolved once per key."""
        mech = self._sm2_mechs.get(code)
        if mech is None:
            mech = self._sm2_mechs[code] = Mechanism(code)
        return mech

    def sign_sm2(
        self, data: bytes, uid: bytes, *, pin: str | None = None, variant: str | None = None
    ) -> bytes:
        """SM2 per the profile: with Z on the token when it can take this ID, else over e. ``variant``
        (``"z"`` or ``"e"``) forces one path (self-check)."""
        profile = self.profile
        if profile is None or not profile.can_sign:
            name = profile.name if profile else "none detected"
            raise MechanismNotSupported(
                f"token {self._state.label!r} (SM2 profile {name}) cannot make SM2 signatures"
            )
        use_z = profile.sign_with_z is not None and (profile.id_as_parameter or uid == _DEFAULT_UID)
        if variant is not None:
            use_z = variant == "z"
        if use_z:
            if profile.sign_with_z is None:
                raise MechanismNotSupported(f"profile {profile.name}: no sign-with-Z mechanism")
            param = uid if profile.id_as_parameter else None
            raw = self._token_sign(data, self._mechanism(profile.sign_with_z), param, pin)
            return normalise(raw, profile.signature_format)
        if profile.sign_over_e is None:
            raise MechanismNotSupported(
                f"profile {profile.name}: no sign-over-e mechanism for user ID {uid!r}"
            )
        z = self._z_cache.get(uid)
        if z is None:
            z = self._z_cache[uid] = _sm2.digest_z(self._spki, uid)
        raw = self._token_sign(_sm2.e_from_z(z, data), self._mechanism(profile.sign_over_e), None, pin)
        return normalise(raw, profile.over_e_format)

    def decrypt(
        self,
        ciphertext: bytes,
        *,
        rsa_padding: str = "oaep",
        oaep_hash: str = "sha256",
        mgf_hash: str | None = None,
    ) -> bytes:
        pin = self._pin()
        if self.kind is KeyKind.RSA:
            return self._rsa_decrypt(ciphertext, rsa_padding, oaep_hash, mgf_hash or oaep_hash, pin)
        if self.kind is not KeyKind.SM2:
            raise MechanismNotSupported(f"key {self.label!r} ({self.kind}) cannot decrypt")
        from sealkit.sm2.encryption import CiphertextFormat, SM2Ciphertext, decrypt_with_shared_x

        profile = self.profile
        if profile is not None and profile.decrypt is not None:
            fmt = CiphertextFormat(profile.ciphertext_format)
            native = SM2Ciphertext.decode(ciphertext, CiphertextFormat.DER).encode(fmt)

            def sm2_probe() -> tuple[bytes, bytes]:
                from sealkit import sm2

                secret = os.urandom(16)
                encrypted = sm2.load_der_public_key(self._spki.dump()).encrypt(secret)
                return secret, SM2Ciphertext.decode(encrypted, CiphertextFormat.DER).encode(fmt)

            return self._token_decrypt(
                "SM2 decrypting", Mechanism(profile.decrypt), None, native, pin, sm2_probe
            )
        if profile is None or not profile.decrypt_via_ecdh:
            raise MechanismNotSupported(f"token {self._state.label!r}: no SM2 decryption in its profile")

        def shared_x(c1: bytes) -> bytes:
            def derive(k: Any) -> bytes:
                secret = k.derive_key(
                    KeyType.GENERIC_SECRET,
                    256,
                    mechanism=Mechanism.ECDH1_DERIVE,
                    mechanism_param=(KDF.NULL, None, c1),
                    template={Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True},
                )
                try:
                    return bytes(secret[Attribute.VALUE])
                finally:
                    secret.destroy()

            return self._op("SM2 decrypting (ECDH)", derive, decrypting=True)

        return decrypt_with_shared_x(ciphertext, shared_x)

    def _rsa_decrypt(
        self, ciphertext: bytes, rsa_padding: str, oaep_hash: str, mgf_hash: str, pin: str | None
    ) -> bytes:
        """RSA on the token: PKCS#1 v1.5, or OAEP by the token's mechanism, else by raw RSA on the token with
        the OAEP padding removed here (tokens without OAEP-SHA-256, e.g. SoftHSM 2.6)."""
        from cryptography.hazmat.primitives.asymmetric import padding
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        pad: padding.AsymmetricPadding
        if rsa_padding == "pkcs1v15":
            mech, param, pad = Mechanism.RSA_PKCS, None, padding.PKCS1v15()
        elif rsa_padding == "oaep" and oaep_hash in _OAEP and mgf_hash in _OAEP:
            if (oaep_hash, mgf_hash) in self._software_oaep:
                return self._raw_oaep_decrypt(ciphertext, oaep_hash, mgf_hash, pin)
            from sealkit.ukey.software import oaep_hash_algorithm

            mech, param = Mechanism.RSA_PKCS_OAEP, (_OAEP[oaep_hash][0], _OAEP[mgf_hash][1], None)
            pad = padding.OAEP(
                mgf=padding.MGF1(oaep_hash_algorithm(mgf_hash)),
                algorithm=oaep_hash_algorithm(oaep_hash),
                label=None,
            )
        else:
            raise UnsupportedAlgorithm(f"RSA {rsa_padding}/{oaep_hash} decryption is not supported")

        def rsa_probe() -> tuple[bytes, bytes]:
            secret = os.urandom(16)
            return secret, load_der_public_key(self._spki.dump()).encrypt(secret, pad)  # type: ignore[union-attr]

        try:
            return self._token_decrypt("decrypting", mech, param, ciphertext, pin, rsa_probe)
        except MechanismNotSupported:
            if mech is not Mechanism.RSA_PKCS_OAEP:
                raise
        plain = self._raw_oaep_decrypt(ciphertext, oaep_hash, mgf_hash, pin)
        self._software_oaep.add(
            (oaep_hash, mgf_hash)
        )  # raw RSA works here: skip the refused mechanism from now on
        return plain

    def _raw_oaep_decrypt(self, ciphertext: bytes, oaep_hash: str, mgf_hash: str, pin: str | None) -> bytes:
        from sealkit.ukey._oaep import oaep_decode

        public = self._spki["public_key"].parsed
        n, e = public["modulus"].native, public["public_exponent"].native
        size = (n.bit_length() + 7) // 8
        if len(ciphertext) != size or int.from_bytes(ciphertext, "big") >= n:
            raise DamagedEnvelope("RSA decryption failed")  # made for another (larger) key

        def raw_probe() -> tuple[bytes, bytes]:
            secret = b"\x01" + os.urandom(size - 1)  # < n, and no leading zero a token might drop
            return secret, pow(int.from_bytes(secret, "big"), e, n).to_bytes(size, "big")

        try:
            block = self._token_decrypt(
                "decrypting (raw RSA)", Mechanism.RSA_X_509, None, ciphertext, pin, raw_probe
            )
        except MechanismNotSupported:
            raise MechanismNotSupported(
                f"token {self._state.label!r} does RSA-OAEP with {oaep_hash} neither itself nor as raw RSA; "
                "encrypt to this key with PKCS#1 v1.5 (rsa_padding='pkcs1v15')"
            ) from None
        return oaep_decode(block, size, oaep_hash, mgf_hash=mgf_hash)

    def _token_decrypt(
        self,
        what: str,
        mech: Mechanism,
        param: Any,
        data: bytes,
        pin: str | None,
        probe: Callable[[], tuple[bytes, bytes]],
    ) -> bytes:
        """C_Decrypt on the token. Some tokens (SoftHSM) answer a ciphertext made for another key or damaged
        with CKR_GENERAL_ERROR; then a ciphertext made here with the key's public key (``probe``: (plain,
        ciphertext)) tells a bad ciphertext (:class:`DamagedEnvelope`, so the next recipient is tried) from
        a failing token (:class:`TokenError`)."""

        def decrypt(payload: bytes) -> Callable[[Any], bytes]:
            return lambda k: k.decrypt(payload, mechanism=mech, mechanism_param=param, pin=pin)

        try:
            return self._op(what, decrypt(data), decrypting=True, ambiguous=True)
        except _AmbiguousFailure:
            pass
        secret, check = probe()
        try:
            healthy = self._op(f"{what} (check)", decrypt(check), decrypting=True, ambiguous=True) == secret
        except (_AmbiguousFailure, DamagedEnvelope):
            healthy = False
        if healthy:
            raise DamagedEnvelope("decryption failed")
        raise TokenError(f"{what} with {self.label!r}: the token failed (CKR_GENERAL_ERROR), even on a check")

    def close(self) -> None:
        """Handles share the token session; it stays open for other handles and is closed at exit."""


_DEFAULT_UID = DEFAULT_SM2_ID
_DEFAULT_OPTIONS = SignOptions()
_HASHLIB = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


def _attr(obj: Any, attr: Attribute, default: Any) -> Any:
    try:
        return obj[attr]
    except Exception:  # noqa: BLE001 - attribute absent or sensitive: use the default
        return default


def raw_to_der(raw: bytes) -> bytes:
    """r||s (two equal halves) from a token as DER SEQUENCE{r, s}."""
    try:
        return der_from_raw(raw)
    except ValueError:
        raise MechanismNotSupported(f"the token returned a {len(raw)}-byte signature, not r||s") from None


def normalise(signature: bytes, fmt: str) -> bytes:
    return raw_to_der(signature) if fmt == "raw" else bytes(signature)


def random_bytes(n: int) -> bytes:
    return os.urandom(n)
