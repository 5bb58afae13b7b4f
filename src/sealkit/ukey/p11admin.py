"""Token administration over PKCS#11: list tokens and keys, generate keys, import certificates.

Generated private keys are always ``CKA_SENSITIVE`` and not ``CKA_EXTRACTABLE``. SM2 keys use the profile's
vendor key-generation mechanism, or (SoftHSM) ``CKM_EC_KEY_PAIR_GEN`` on the SM2 curve, whose keys can only
decrypt (through ECDH).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass, TokenFlag

from sealkit.certs import load_certificates
from sealkit.config import Config
from sealkit.errors import InvalidInput, KeyNotFound, MechanismNotSupported, TokenNotPresent
from sealkit.ukey import _sm2, vendor_enums
from sealkit.ukey.base import KeyInfo, KeyKind
from sealkit.ukey.keyref import Pkcs11Ref, parse_keyref
from sealkit.ukey.keystore import key_kind
from sealkit.ukey.p11module import TokenSession, get_module
from sealkit.ukey.pins import PinSource, pin_chain
from sealkit.ukey.pkcs11 import (
    P256_EC_PARAMS,
    Pkcs11Key,
    choose_profile,
    open_pkcs11_key,
    register_profile,
    resolve_module,
)
from sealkit.ukey.profiles import all_profiles, detect_profile
from sealkit.ukey.software import check_certificate_matches

_PRIVATE = {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.PRIVATE: True}


def _ref(keyref: str) -> Pkcs11Ref:
    ref = parse_keyref(keyref)
    if not isinstance(ref, Pkcs11Ref):
        raise InvalidInput("this command needs a pkcs11: reference")
    return ref


def _token(ref: Pkcs11Ref, config: Config) -> tuple[TokenSession, str | None]:
    path, configured = resolve_module(ref, config)
    for profile in all_profiles(config.profiles).values():
        register_profile(profile)
    module = get_module(path)
    return module.token_session(module.find_token(ref)), configured


def list_tokens(module_path: str | os.PathLike[str], config: Config | None = None) -> list[dict[str, Any]]:
    """Every slot of a module: token label, serial, flags, detected SM2 profile, mechanisms (vendor names)."""
    config = config or Config()
    for profile in all_profiles(config.profiles).values():
        register_profile(profile)
    module = get_module(Path(module_path))
    out: list[dict[str, Any]] = []
    for slot in module.slots():
        entry: dict[str, Any] = {
            "slot_id": slot.slot_id,
            "slot": slot.slot_description.strip(),
            "token": None,
        }
        with module.guard(f"reading slot {slot.slot_id}"):
            try:
                token = slot.get_token()
            except TokenNotPresent:
                out.append(entry)
                continue
            except Exception as exc:  # noqa: BLE001 - no token in the slot
                if type(exc).__name__ in ("TokenNotPresent", "DeviceRemoved"):
                    out.append(entry)
                    continue
                raise
            mechanisms = sorted(int(m) for m in slot.get_mechanisms())
        flags = TokenFlag(token.flags)
        detected = detect_profile(set(mechanisms), token.manufacturer_id, config.profiles)
        entry["token"] = {
            "label": token.label.strip(),
            "serial": token.serial.decode(errors="replace").strip(),
            "manufacturer": token.manufacturer_id.strip(),
            "model": token.model.strip(),
            "flags": [f.name for f in TokenFlag if f.name and f in flags],
            "profile": detected.name if detected else None,
            "uri": Pkcs11Ref(attrs={"token": token.label.strip()}).to_uri() + f"?module-path={module.path}",
            "mechanisms": [vendor_enums.mechanism_name(m) for m in mechanisms],
        }
        out.append(entry)
    return out


def list_token_keys(
    keyref: str, *, config: Config | None = None, pin_source: PinSource | None = None
) -> list[KeyInfo]:
    """The private keys and certificates on the token a reference names (logs in to see private objects)."""
    config = config or Config()
    ref = _ref(keyref)
    state, _ = _token(ref, config)
    pins = pin_chain(ref.pin_source, pin_source, config.env)

    def collect(session: Any) -> list[KeyInfo]:
        certs = {
            bytes(c[Attribute.ID] or b"")
            for c in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})
        }
        infos = []
        for obj in session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}):
            key_id = bytes(obj[Attribute.ID] or b"")
            label = str(obj[Attribute.LABEL] or "")
            uri = Pkcs11Ref(attrs={"token": state.label, "object": label}, key_id=key_id).to_uri()
            code = int(obj[Attribute.KEY_TYPE])
            kind = KeyKind.RSA if code == KeyType.RSA else None
            infos.append(KeyInfo(label, key_id, kind, key_id in certs, uri, {"key_type": f"0x{code:x}"}))
        return infos

    infos: list[KeyInfo] = state.run(f"listing keys on {state.label!r}", collect, pins)
    for info in infos:  # fill in EC/SM2 kinds through the key loader
        if info.kind is None:
            try:
                key = open_pkcs11_key(_ref(info.uri + _query(ref)), config=config, pins=pins)
                info.kind = key.kind
            except Exception:  # noqa: BLE001 - listing must not fail on one odd key
                info.kind = None
    return infos


def _query(ref: Pkcs11Ref) -> str:
    return "?" + "&".join(f"{k}={v}" for k, v in ref.query.items()) if ref.query else ""


def generate_token_key(
    keyref: str,
    type_name: str,
    *,
    key_id: bytes | None = None,
    config: Config | None = None,
    pin_source: PinSource | None = None,
) -> KeyInfo:
    """Generate a key pair on the token, labelled by the reference's ``object`` (and ``id``, or random)."""
    config = config or Config()
    ref = _ref(keyref)
    if not ref.object:
        raise InvalidInput("keygen needs object=LABEL in the reference")
    kind = key_kind(type_name)
    key_id = key_id if key_id is not None else (ref.key_id or os.urandom(8))
    state, configured = _token(ref, config)
    pins = pin_chain(ref.pin_source, pin_source, config.env)
    profile = choose_profile(state, ref.profile or configured, config) if kind is KeyKind.SM2 else None
    common: dict[str, Any] = {
        "id": key_id,
        "label": ref.object,
        "store": True,
        "private_template": dict(_PRIVATE),
    }

    def generate(session: Any) -> None:
        if list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: ref.object})):
            raise InvalidInput(f"a key labelled {ref.object!r} already exists on {state.label!r}")
        if kind is KeyKind.RSA:
            session.generate_keypair(KeyType.RSA, 2048, **common)
            return
        if kind is KeyKind.P256 or profile is None or profile.keygen is None:
            if kind is KeyKind.SM2 and (profile is None or not profile.decrypt_via_ecdh):
                raise MechanismNotSupported(f"token {state.label!r} has no SM2 key generation")
            params = P256_EC_PARAMS if kind is KeyKind.P256 else _sm2.SM2_EC_PARAMS
            caps = MechanismFlag.SIGN | MechanismFlag.VERIFY | MechanismFlag.DERIVE
            session.generate_keypair(
                KeyType.EC,
                mechanism=Mechanism.EC_KEY_PAIR_GEN,
                capabilities=caps,
                public_template={Attribute.EC_PARAMS: params},
                **common,
            )
            return
        assert profile.key_type is not None
        caps = MechanismFlag.SIGN | MechanismFlag.VERIFY | MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT
        session.generate_keypair(
            KeyType(profile.key_type),
            256,
            mechanism=Mechanism(profile.keygen),
            capabilities=caps,
            public_template={Attribute.EC_PARAMS: _sm2.SM2_EC_PARAMS},
            **{**common, "private_template": {**_PRIVATE, Attribute.EC_PARAMS: _sm2.SM2_EC_PARAMS}},
        )

    state.run(f"generating a {kind} key on {state.label!r}", generate, pins)
    key = open_pkcs11_key(Pkcs11Ref(dict(ref.attrs), key_id, dict(ref.query)), config=config, pins=pins)
    extra: dict[str, object] = {}
    if kind is KeyKind.SM2 and profile is not None and not profile.can_sign:
        extra["warning"] = (
            f"token {state.label!r} (profile {profile.name}) cannot make SM2 signatures: this key can open "
            "bid envelopes but not sign; sign with a UKey whose vendor profile signs SM2"
        )
    uri = Pkcs11Ref(dict(ref.attrs), key_id).to_uri()
    return KeyInfo(ref.object, key_id, key.kind, False, uri, extra)


def import_token_cert(
    keyref: str, cert_path: str | Path, *, config: Config | None = None, pin_source: PinSource | None = None
) -> KeyInfo:
    """Store a certificate on the token with the CKA_ID of the key it certifies (checked to match)."""
    config = config or Config()
    ref = _ref(keyref)
    pins = pin_chain(ref.pin_source, pin_source, config.env)
    key: Pkcs11Key = open_pkcs11_key(ref, config=config, pins=pins)
    cert = load_certificates(cert_path)[0]
    check_certificate_matches(cert, key.public_key_info(), key.label)
    state = key._state

    def create(session: Any) -> None:
        existing = list(
            session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.ID: key.key_id})
        )
        for obj in existing:
            obj.destroy()
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.CERTIFICATE,
                Attribute.CERTIFICATE_TYPE: 0,  # CKC_X_509
                Attribute.TOKEN: True,
                Attribute.PRIVATE: False,
                Attribute.ID: key.key_id,
                Attribute.LABEL: ref.object or key.label,
                Attribute.SUBJECT: cert.subject.dump(),
                Attribute.ISSUER: cert.issuer.dump(),
                Attribute.SERIAL_NUMBER: cert["tbs_certificate"]["serial_number"].dump(),
                Attribute.VALUE: cert.dump(),
            }
        )

    state.run(f"importing a certificate to {state.label!r}", create, pins)
    if not key.key_id:
        raise KeyNotFound("the key has no CKA_ID to attach a certificate to")
    return KeyInfo(key.label, key.key_id, key.kind, True, Pkcs11Ref(dict(ref.attrs), key.key_id).to_uri())
