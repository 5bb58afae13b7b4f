"""Lazy package exports (PEP 562), so that importing a subpackage costs only what the caller uses.

``sealkit.pdf`` re-exports signing *and* verification (pyHanko's validation stack), ``sealkit.seal`` the
registry (SQLAlchemy): a command that signs should not pay for importing what verifies or files. A package
declares ``name -> "submodule"`` (or ``"submodule:attribute"``) and gets ``__getattr__``/``__dir__``; type
checkers see the same names through an ``if TYPE_CHECKING:`` import block in the package.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` that import each export on first use."""

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module_name, _, attribute = target.partition(":")
        value = getattr(importlib.import_module(f"{package}.{module_name}"), attribute or name)
        importlib.import_module(package).__dict__[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
