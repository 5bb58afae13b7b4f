"""Where PINs and passwords come from: the environment, a file, or an interactive callback — never argv.

A :class:`PinSource` answers "what is the secret for this prompt?" or ``None`` when it has none to give.
:func:`pin_chain` combines the places a key reference may get its secret from, in the one order sealkit uses:

1. the reference's own ``pin-source=file:…`` attribute;
2. a non-interactive source the caller passes (e.g. :class:`FixedPin` from a server's secret store);
3. the ``SEALKIT_PIN`` environment variable;
4. an interactive source the caller passes (the CLI's terminal prompt).

Secrets never appear in ``repr()``, in logs or in exception text.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote

from sealkit.errors import InvalidInput, PinRequired

PIN_ENV = "SEALKIT_PIN"


class PinSource(abc.ABC):
    """Something that can supply a PIN or password."""

    #: True when the source asks a person (tried last).
    interactive: bool = False

    @abc.abstractmethod
    def get_pin(self, prompt: str) -> str | None:
        """The secret for ``prompt`` (e.g. "PIN for token 'Supplier'"), or None if this source has none."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class FixedPin(PinSource):
    """A secret the calling program already holds (from its own vault). Never built from argv."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def get_pin(self, prompt: str) -> str | None:
        return self._secret


class EnvPinSource(PinSource):
    """The ``SEALKIT_PIN`` environment variable (or another name)."""

    def __init__(self, variable: str = PIN_ENV, env: Mapping[str, str] | None = None) -> None:
        self.variable = variable
        self._env = env

    def get_pin(self, prompt: str) -> str | None:
        env = os.environ if self._env is None else self._env
        return env.get(self.variable) or None

    def __repr__(self) -> str:
        return f"EnvPinSource({self.variable!r})"


class FilePinSource(PinSource):
    """A file holding the secret (first line; trailing newline ignored), as RFC 7512 ``pin-source``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()

    @classmethod
    def from_uri(cls, value: str) -> FilePinSource:
        """``file:/path``, ``file:///path`` or a plain path (percent-decoded)."""
        value = unquote(value)
        if value.startswith("file://"):
            value = value[len("file://") :]
        elif value.startswith("file:"):
            value = value[len("file:") :]
        elif ":" in value.split("/", 1)[0]:
            raise InvalidInput("pin-source must be a file: URI or a path")
        if not value:
            raise InvalidInput("pin-source names no file")
        return cls(value)

    def get_pin(self, prompt: str) -> str | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PinRequired(f"cannot read the pin-source file {self.path}: {exc.strerror}") from None
        lines = text.splitlines()
        return lines[0] if lines and lines[0] else None

    def __repr__(self) -> str:
        return f"FilePinSource({str(self.path)!r})"


class CallbackPinSource(PinSource):
    """Ask a callback (a terminal prompt, a GUI dialog). Interactive unless told otherwise."""

    def __init__(self, callback: Callable[[str], str | None], *, interactive: bool = True) -> None:
        self._callback = callback
        self.interactive = interactive

    def get_pin(self, prompt: str) -> str | None:
        return self._callback(prompt)


class ChainedPinSource(PinSource):
    """The first answer of several sources, in order."""

    def __init__(self, sources: Sequence[PinSource]) -> None:
        self.sources = list(sources)
        self.interactive = any(s.interactive for s in self.sources)

    def get_pin(self, prompt: str) -> str | None:
        for source in self.sources:
            value = source.get_pin(prompt)
            if value is not None:
                return value
        return None

    def require(self, prompt: str) -> str:
        """The secret, or :class:`PinRequired` naming the ways to provide one."""
        value = self.get_pin(prompt)
        if value is None:
            raise PinRequired(
                f"{prompt} needed: set {PIN_ENV}, add pin-source=file:… to the key reference,"
                " or run on a terminal"
            )
        return value

    def __repr__(self) -> str:
        return f"ChainedPinSource({self.sources!r})"


def pin_chain(
    uri_pin_source: str | None,
    caller: PinSource | None,
    env: Mapping[str, str] | None = None,
) -> ChainedPinSource:
    """The sources for one key reference in sealkit's order (see the module docstring)."""
    sources: list[PinSource] = []
    if uri_pin_source:
        sources.append(FilePinSource.from_uri(uri_pin_source))
    if caller is not None and not caller.interactive:
        sources.append(caller)
    sources.append(EnvPinSource(env=env))
    if caller is not None and caller.interactive:
        sources.append(caller)
    return ChainedPinSource(sources)
