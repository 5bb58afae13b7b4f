"""PKCS#11 modules and tokens under one lock per module, with errors mapped to :mod:`sealkit.errors`.

python-pkcs11 initialises modules with ``C_Initialize(NULL)`` (no locking inside the module) and releases the
GIL, so two threads in one module can crash the process. Every call into a module — session open and close,
login, search, sign, decrypt — therefore runs under that module's :attr:`Pkcs11Module.lock` (a re-entrant
lock, so one handle's multi-step operation holds it throughout).

A token gets one :class:`TokenSession`: one read-write session, logged in once and shared by every handle on
that token, with a cache of found objects. A failed ``C_Login`` leaks python-pkcs11's half-open session; the
module is then re-initialised (closing every session) and every :class:`TokenSession` of the module is marked
stale, so the next operation reopens (and logs in again).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pkcs11
from pkcs11 import TokenFlag
from pkcs11 import exceptions as p11e

from sealkit.errors import (
    DamagedEnvelope,
    InvalidInput,
    KeyNotFound,
    MechanismNotSupported,
    ModuleLoadError,
    PinIncorrect,
    PinLocked,
    PinRequired,
    TokenError,
    TokenNotPresent,
)
from sealkit.ukey.keyref import Pkcs11Ref
from sealkit.ukey.pins import ChainedPinSource

_REMOVED = (p11e.DeviceRemoved, p11e.TokenNotPresent, p11e.SessionHandleInvalid, p11e.SessionClosed)
_UNSUPPORTED = (
    p11e.MechanismInvalid,
    p11e.MechanismParamInvalid,
    p11e.FunctionNotSupported,
    p11e.ArgumentsBad,
)
_BAD_DATA = (p11e.EncryptedDataInvalid, p11e.EncryptedDataLenRange, p11e.DataInvalid, p11e.DataLenRange)


def translate(exc: BaseException, what: str, *, decrypting: bool = False) -> Exception:
    """The sealkit error for a python-pkcs11 exception raised while doing ``what``."""
    if isinstance(exc, (*_REMOVED, p11e.NoSuchToken)):
        return TokenNotPresent(f"{what}: the token is absent or was removed")
    if isinstance(exc, p11e.PinLocked):
        return PinLocked(f"{what}: the PIN is locked; ask the security officer to unblock it")
    if isinstance(exc, p11e.PinIncorrect | p11e.PinInvalid | p11e.PinLenRange):
        return PinIncorrect(f"{what}: wrong PIN")
    if isinstance(exc, p11e.UserNotLoggedIn):
        return PinRequired(f"{what}: the token needs a login")
    if isinstance(exc, _UNSUPPORTED):
        return MechanismNotSupported(f"{what}: the token rejected the mechanism or its parameters")
    if isinstance(exc, p11e.NoSuchKey):
        return KeyNotFound(f"{what}: no such key")
    if isinstance(exc, p11e.MultipleObjectsReturned):
        return InvalidInput(f"{what}: the reference matches several objects; add id= or object=")
    if decrypting and isinstance(exc, _BAD_DATA):
        return DamagedEnvelope("decryption failed")
    return TokenError(f"{what}: PKCS#11 error {type(exc).__name__}")


class Pkcs11Module:
    """A loaded module. Get it with :func:`get_module`; never construct two for one path."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.generation = 0
        self.sessions: dict[tuple[int, str], TokenSession] = {}
        try:
            self.lib = pkcs11.lib(_loaded_alias(path))
        except p11e.PKCS11Error as exc:
            raise ModuleLoadError(f"cannot load the PKCS#11 module {path}: {exc}") from None

    @contextlib.contextmanager
    def guard(self, what: str, *, decrypting: bool = False) -> Iterator[None]:
        """Hold the module lock and turn python-pkcs11 errors into sealkit errors."""
        with self.lock:
            try:
                yield
            except p11e.PKCS11Error as exc:
                raise translate(exc, what, decrypting=decrypting) from None

    def reinitialize(self) -> None:
        """C_Finalize + C_Initialize: closes every session (e.g. one leaked by a failed login)."""
        with self.lock:
            with contextlib.suppress(p11e.PKCS11Error):
                self.lib.reinitialize()
            self.generation += 1

    def slots(self) -> list[Any]:
        with self.guard("listing slots"):
            return list(self.lib.get_slots(token_present=False))

    def find_token(self, ref: Pkcs11Ref) -> Any:
        """The one token matching the reference's token/serial/model/manufacturer/slot-id attributes."""
        with self.guard(f"finding {ref.describe()}"):
            matches = []
            for slot in self.lib.get_slots(token_present=True):
                if ref.slot_id is not None and slot.slot_id != ref.slot_id:
                    continue
                try:
                    token = slot.get_token()
                except _REMOVED:
                    continue
                if _token_matches(token, ref.attrs):
                    matches.append(token)
        if not matches:
            raise TokenNotPresent(f"no token matches {ref.describe()} in {self.path}")
        if len(matches) > 1 and not ref.token and ref.slot_id is None:
            labels = ", ".join(repr(t.label) for t in matches)
            raise InvalidInput(f"several tokens in {self.path} ({labels}): add token=… or slot-id=…")
        return matches[0]

    def token_session(self, token: Any) -> TokenSession:
        key = (token.slot.slot_id, token.serial.decode(errors="replace"))
        with self.lock:
            state = self.sessions.get(key)
            if state is None:
                state = self.sessions[key] = TokenSession(self, token)
            return state


def _token_matches(token: Any, attrs: dict[str, str]) -> bool:
    checks = {
        "token": token.label,
        "serial": token.serial.decode(errors="replace").strip(),
        "model": token.model,
        "manufacturer": token.manufacturer_id,
    }
    return all(attrs[k] == v.strip() for k, v in checks.items() if k in attrs)


def _loaded_alias(path: str) -> str:
    """The spelling under which python-pkcs11 already loaded this file (e.g. through a symlink), else
    ``path``: loading one module twice runs C_Initialize twice, which fails."""
    loaded: dict[str, Any] = getattr(pkcs11, "_loaded", {})
    for other in loaded:
        with contextlib.suppress(OSError):
            if os.path.samefile(other, path):
                return other
    return path


_modules: dict[str, Pkcs11Module] = {}
_modules_lock = threading.Lock()


def get_module(path: str | Path) -> Pkcs11Module:
    """The process-wide :class:`Pkcs11Module` for ``path`` (loaded once)."""
    resolved = str(Path(path).expanduser().resolve())
    if not Path(resolved).is_file():
        raise ModuleLoadError(f"the PKCS#11 module {path} does not exist")
    with _modules_lock:
        module = _modules.get(resolved)
        if module is None:
            module = _modules[resolved] = Pkcs11Module(resolved)
        return module


class TokenSession:
    """The shared, logged-in session of one token (used only under the module lock)."""

    def __init__(self, module: Pkcs11Module, token: Any) -> None:
        self.module = module
        self.token = token
        self.label = token.label.strip()
        self.session: Any = None
        self.logged_in = False
        self.generation = module.generation
        self.objects: dict[tuple[Any, ...], Any] = {}

    def fresh_flags(self) -> TokenFlag:
        """Token flags read now (PIN counters change after failures)."""
        with self.module.guard(f"reading token {self.label!r}"):
            return TokenFlag(self.token.slot.get_token().flags)

    def _drop(self) -> None:
        self.session = None
        self.logged_in = False
        self.objects.clear()

    def get(self, pins: ChainedPinSource | None, *, login: bool = True) -> Any:
        """The token's session, opened (and logged in when ``login``) if needed. Call under the lock."""
        if self.generation != self.module.generation:
            self._drop()  # the module was re-initialised: our session handle is gone
            self.generation = self.module.generation
        what = f"token {self.label!r}"
        if self.session is None:
            with self.module.guard(f"opening {what}"):
                self.session = self.token.open(rw=True)
        if login and not self.logged_in:
            self._login(pins, what)
        return self.session

    def _login(self, pins: ChainedPinSource | None, what: str) -> None:
        flags = self.fresh_flags()
        if flags & TokenFlag.USER_PIN_LOCKED:
            raise PinLocked(f"{what}: the user PIN is locked")
        if not flags & TokenFlag.LOGIN_REQUIRED:
            self.logged_in = True
            return
        if flags & TokenFlag.PROTECTED_AUTHENTICATION_PATH:
            pin: Any = pkcs11.PROTECTED_AUTH
        else:
            if pins is None:
                raise PinRequired(f"{what}: a PIN is needed")
            pin = pins.require(f"PIN for {what}")
        # Close our unauthenticated session first: the login session replaces it.
        with self.module.guard(f"opening {what}"):
            if self.session is not None:
                with contextlib.suppress(p11e.PKCS11Error):
                    self.session.close()
                self.session = None
        try:
            with self.module.lock:
                self.session = self.token.open(rw=True, user_pin=pin)
        except p11e.UserAlreadyLoggedIn:
            with self.module.guard(f"opening {what}"):
                self.session = self.token.open(rw=True)
        except p11e.PKCS11Error as exc:
            self.module.reinitialize()  # python-pkcs11 leaked the session it opened for C_Login
            self._drop()
            self.generation = self.module.generation
            raise self._login_error(exc, what) from None
        self.logged_in = True

    def _login_error(self, exc: p11e.PKCS11Error, what: str) -> Exception:
        if not isinstance(exc, p11e.PinIncorrect):
            return translate(exc, f"logging in to {what}")
        try:
            flags = self.fresh_flags()
        except TokenError:
            return PinIncorrect(f"{what}: wrong PIN")
        if flags & TokenFlag.USER_PIN_LOCKED:
            return PinLocked(f"{what}: wrong PIN; the PIN is now locked")
        if flags & TokenFlag.USER_PIN_FINAL_TRY:
            return PinIncorrect(f"{what}: wrong PIN; final try: one more failure locks the PIN")
        if flags & TokenFlag.USER_PIN_COUNT_LOW:
            return PinIncorrect(f"{what}: wrong PIN; retry count low")
        return PinIncorrect(f"{what}: wrong PIN")

    def current(self, pins: ChainedPinSource | None) -> Any:
        """The logged-in session; the hot path of every operation. Call under the module lock."""
        session = self.session
        if session is None or not self.logged_in or self.generation != self.module.generation:
            session = self.get(pins)
        return session

    def failed(self, exc: BaseException, what: str, *, decrypting: bool = False) -> Exception:
        """The sealkit error for ``exc`` raised in an operation; a removed token drops the session (the next
        operation reopens it). Call under the module lock."""
        error = translate(exc, what, decrypting=decrypting) if isinstance(exc, p11e.PKCS11Error) else exc
        if isinstance(error, TokenNotPresent):
            self._drop()
        assert isinstance(error, Exception)
        return error

    def run(
        self, what: str, fn: Callable[[Any], Any], pins: ChainedPinSource | None, *, decrypting: bool = False
    ) -> Any:
        """``fn(session)`` under the lock; a removed token drops the session (the next call reopens)."""
        with self.module.lock:
            session = self.current(pins)
            try:
                return fn(session)
            except (p11e.PKCS11Error, TokenNotPresent) as exc:
                raise self.failed(exc, what, decrypting=decrypting) from None

    def close(self) -> None:
        with self.module.lock:
            if self.session is not None and self.generation == self.module.generation:
                with contextlib.suppress(p11e.PKCS11Error):
                    self.session.close()
            self._drop()


def close_all_sessions() -> None:
    """Log out of and close every shared token session (the next operation logs in again)."""
    with _modules_lock:
        modules = list(_modules.values())
    for module in modules:
        with module.lock:
            for state in module.sessions.values():
                state.close()
