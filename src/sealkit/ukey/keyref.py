"""Key references: the one string that says where a key lives.

* ``file:/path/key.pem`` — a key file (PEM/DER PKCS#8, encrypted PKCS#8, SEC1, PKCS#12), with optional
  ``?cert=/path.pem&chain=/ca.pem&pin-source=file:/secret`` (``chain`` may repeat);
* ``keystore:NAME`` — a key in sealkit's software key store (``$SEALKIT_HOME/keys/NAME``), optional
  ``?pin-source=…``;
* ``pkcs11:token=…;object=…;id=%01%02;type=private?module-path=…&pin-source=file:…`` — RFC 7512.

Values are percent-decoded. A ``pin-value`` attribute is refused: a PIN written into a reference ends up in
shell history, process lists and configuration files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, unquote_to_bytes

from sealkit.errors import InvalidInput

PIN_VALUE_REFUSED = (
    "pin-value in a key reference is refused: a PIN in a URI leaks into shell history, process lists and "
    "configuration files; use pin-source=file:… or SEALKIT_PIN"
)

#: RFC 7512 path attributes (plus sealkit's ``profile``), and the query attributes sealkit understands.
PKCS11_PATH_ATTRS = frozenset(
    {
        "token",
        "manufacturer",
        "serial",
        "model",
        "library-manufacturer",
        "library-description",
        "library-version",
        "object",
        "type",
        "id",
        "slot-description",
        "slot-manufacturer",
        "slot-id",
        "profile",
        "x-profile",
    }
)
PKCS11_QUERY_ATTRS = frozenset({"pin-source", "module-name", "module-path", "profile", "x-profile"})
OBJECT_TYPES = frozenset({"private", "public", "cert", "secret-key", "data"})


@dataclass
class FileRef:
    """A ``file:`` reference."""

    path: str
    cert: str | None = None
    chain: list[str] = field(default_factory=list)
    pin_source: str | None = None


@dataclass
class KeystoreRef:
    """A ``keystore:NAME`` reference."""

    name: str
    pin_source: str | None = None


@dataclass
class Pkcs11Ref:
    """An RFC 7512 ``pkcs11:`` reference, decoded."""

    attrs: dict[str, str] = field(default_factory=dict)
    key_id: bytes | None = None
    query: dict[str, str] = field(default_factory=dict)

    @property
    def token(self) -> str | None:
        return self.attrs.get("token")

    @property
    def object(self) -> str | None:
        return self.attrs.get("object")

    @property
    def slot_id(self) -> int | None:
        value = self.attrs.get("slot-id")
        if value is None:
            return None
        if not value.isdigit():
            raise InvalidInput(f"slot-id must be a number, not {value!r}")
        return int(value)

    @property
    def profile(self) -> str | None:
        for source in (self.query, self.attrs):
            for key in ("profile", "x-profile"):
                if key in source:
                    return source[key]
        return None

    @property
    def pin_source(self) -> str | None:
        return self.query.get("pin-source")

    def describe(self) -> str:
        """A short name for messages: token/object (no query attributes)."""
        parts = [f"token {self.token!r}" if self.token else "the first token"]
        if self.object:
            parts.append(f"object {self.object!r}")
        if self.key_id is not None:
            parts.append(f"id {self.key_id.hex()}")
        return ", ".join(parts)

    def to_uri(self) -> str:
        """Re-encode (without the query) — for listings."""
        parts = [f"{k}={_pct(v.encode())}" for k, v in self.attrs.items()]
        if self.key_id is not None:
            parts.append("id=" + "".join(f"%{b:02x}" for b in self.key_id))
        return "pkcs11:" + ";".join(parts)


KeyRef = FileRef | KeystoreRef | Pkcs11Ref


def parse_keyref(text: str) -> KeyRef:
    """Parse a key reference; :class:`InvalidInput` with the reason when it is not one."""
    text = text.strip()
    scheme, sep, rest = text.partition(":")
    if not sep:
        raise InvalidInput(f"not a key reference: {_safe(text)!r} (use file:, keystore: or pkcs11:)")
    scheme = scheme.lower()
    if scheme == "pkcs11":
        return _parse_pkcs11(rest)
    if scheme == "file":
        path_part, query = _split_query(rest)
        if path_part.startswith("//"):
            host, _, path_part = path_part[2:].partition("/")
            if host not in ("", "localhost"):
                raise InvalidInput("file: references must be local (no host)")
            path_part = "/" + path_part
        path = unquote(path_part)
        if not path:
            raise InvalidInput("file: reference names no file")
        ref = FileRef(path=path)
        for key, value in query:
            if key == "cert":
                ref.cert = value
            elif key == "chain":
                ref.chain.append(value)
            elif key == "pin-source":
                ref.pin_source = value
            else:
                raise InvalidInput(f"unknown attribute {key!r} in a file: reference")
        return ref
    if scheme == "keystore":
        name_part, query = _split_query(rest)
        name = unquote(name_part)
        _check_store_name(name)
        kref = KeystoreRef(name=name)
        for key, value in query:
            if key == "pin-source":
                kref.pin_source = value
            else:
                raise InvalidInput(f"unknown attribute {key!r} in a keystore: reference")
        return kref
    raise InvalidInput(f"unknown key reference scheme {scheme!r}: use file:, keystore: or pkcs11:")


def _check_store_name(name: str) -> None:
    if not name or not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
        raise InvalidInput(f"invalid key store name {name!r}: use letters, digits, '-', '_' and '.'")


def _split_query(rest: str) -> tuple[str, list[tuple[str, str]]]:
    main, _, query = rest.partition("?")
    pairs: list[tuple[str, str]] = []
    for item in query.split("&") if query else []:
        if not item:
            continue
        key, eq, value = item.partition("=")
        key = unquote(key).lower()
        if key == "pin-value":
            raise InvalidInput(PIN_VALUE_REFUSED)
        if not eq:
            raise InvalidInput(f"attribute {key!r} has no value")
        pairs.append((key, unquote(value)))
    return main, pairs


def _parse_pkcs11(rest: str) -> Pkcs11Ref:
    path, query = _split_query(rest)
    ref = Pkcs11Ref()
    for item in path.split(";") if path else []:
        if not item:
            continue
        key, eq, raw = item.partition("=")
        key = unquote(key).lower()
        if key == "pin-value":
            raise InvalidInput(PIN_VALUE_REFUSED)
        if not eq:
            raise InvalidInput(f"pkcs11: attribute {key!r} has no value")
        if key not in PKCS11_PATH_ATTRS:
            raise InvalidInput(f"unknown pkcs11: attribute {key!r}")
        if key in ref.attrs or (key == "id" and ref.key_id is not None):
            raise InvalidInput(f"pkcs11: attribute {key!r} given twice")
        if key == "id":
            ref.key_id = unquote_to_bytes(raw)
        else:
            ref.attrs[key] = unquote(raw, errors="strict")
    for key, value in query:
        if key not in PKCS11_QUERY_ATTRS:
            raise InvalidInput(f"unknown pkcs11: query attribute {key!r}")
        ref.query[key] = value
    if "type" in ref.attrs and ref.attrs["type"] not in OBJECT_TYPES:
        raise InvalidInput(f"pkcs11: type must be one of {', '.join(sorted(OBJECT_TYPES))}")
    if "module-path" in ref.query and "module-name" in ref.query:
        raise InvalidInput("give module-path or module-name, not both")
    return ref


def _pct(raw: bytes) -> str:
    safe = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
    return "".join(chr(b) if b in safe else f"%{b:02X}" for b in raw)


def _safe(text: str) -> str:
    """A reference shortened for an error message, query (which may name secret files) cut."""
    return text.split("?", 1)[0][:120]
