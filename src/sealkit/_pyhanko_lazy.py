"""Run ``pyhanko/sign/__init__.py`` on first use of the package's own names, not on import of a submodule.

Why: in Python, importing ``pyhanko.sign.validation`` first executes ``pyhanko/sign/__init__.py``, and that
file re-exports the *signing* API: ``pyhanko.sign.signers`` → ``signers.functions`` →
``pyhanko.sign.timestamps`` → ``aiohttp``, whose connector builds SSL contexts (loading the system CA
bundle) at import time. Verifying a PDF offline needs none of it, yet ``sealkit verify`` paid ~0.6 s of
~1.4 s for it. pyHanko offers no import path to its validation code that avoids that ``__init__``, and
pyhanko-certvalidator's fetcher-free API does not help: the cost is in ``pyhanko.sign`` itself.

How: :func:`install` puts the real ``pyhanko.sign`` module object into ``sys.modules`` — created by the
import system from pyHanko's own spec (same ``__file__``, ``__path__``, ``__spec__``, ``__loader__``) — with
its ``__init__`` not yet executed, and a PEP 562 ``__getattr__``/``__dir__`` that executes it (same loader,
same module object) the first time anyone asks the package for a name it does not have yet. Submodule
imports (``import pyhanko.sign.validation``, ``from pyhanko.sign.fields import X``) work as before: the
import system only needs the package's ``__path__``. Whatever reads the package's re-exports
(``from pyhanko.sign import signers``, ``pyhanko.sign.PdfSigner``, ``import *``, ``dir()``) runs
``__init__`` first and sees what it would always have seen; then the hooks are removed, and the module is
indistinguishable from one imported normally. Only *when* pyHanko's signing modules are imported changes;
no pyHanko code is replaced or skipped (the library never installs it: the tests verify without it, the
CLI tests with it, and compare the reports).

One thing the signing modules did on import matters to verification: registering OIDs with asn1crypto (CMS
attributes such as signature-policy-identifier, commitment-type and content-time-stamp, the ISO 32004 PDF
MAC types, the qcStatements extension), which decides how a signature's attributes and a certificate's
extensions are parsed. The validation core imports the small pyHanko modules that do that itself
(:mod:`sealkit.validation.context`), so verification parses alike whether or not anything signed first
(a test compares the registries both ways).

Order: pyHanko's signing modules import each other in cycles that its ``__init__``'s order resolves. Until
``__init__`` has run, the package answers a name that is one of its submodules (``from pyhanko.sign import
general``) as a partly initialised package does — not yet bound — so the import system imports that
submodule instead of running ``__init__`` in the middle of the caller's chain (which failed with a circular
import when a timestamped signature imported ``pyhanko.sign.timestamps`` first); a test imports each signing
entry point first.

Scope: the console script installs it for the commands that only verify (``verify``, ``file``), through the
public :func:`sealkit.defer_signing_imports`, before the command imports pyHanko; if ``pyhanko.sign`` is
already imported it does nothing. Concurrent first uses are serialised by a lock; a nested use from inside
``__init__`` itself (a circular import) gets the ``AttributeError`` of a partially initialised module; if
``__init__`` raises, the error propagates and the next use retries.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from types import ModuleType
from typing import Any

PACKAGE = "pyhanko.sign"


def _is_submodule(locations: Any, name: str) -> bool:
    """Whether ``name`` is a module or package inside the package directories ``locations``."""
    return any(
        os.path.isfile(os.path.join(folder, f"{name}.py")) or os.path.isdir(os.path.join(folder, name))
        for folder in locations or ()
    )


def install() -> bool:
    """Defer ``pyhanko.sign``'s ``__init__``; True if installed now, False if the package was imported."""
    if PACKAGE in sys.modules:
        return False
    spec = importlib.util.find_spec(PACKAGE)  # imports the (small) parent package ``pyhanko``
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader
    lock = threading.RLock()
    state = {"done": False, "running": False}

    def load() -> None:
        with lock:
            if state["done"]:
                return
            if state["running"]:  # a circular import inside __init__ itself
                raise AttributeError(f"partially initialized module {PACKAGE!r}")
            state["running"] = True
            try:
                loader.exec_module(module)
                state["done"] = True
                for hook in ("__getattr__", "__dir__"):
                    module.__dict__.pop(hook, None)
            finally:
                state["running"] = False

    def __getattr__(name: str) -> Any:
        if not state["done"] and _is_submodule(spec.submodule_search_locations, name):
            # what a package whose __init__ has not bound the name yet answers: the import system then
            # imports the submodule (``from pyhanko.sign import fields``), in the order the caller asked
            raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")
        load()
        try:
            return module.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}") from None

    def __dir__() -> list[str]:
        load()
        return sorted(module.__dict__)

    module.__dict__.update(__getattr__=__getattr__, __dir__=__dir__)
    sys.modules[PACKAGE] = module
    parent: ModuleType = sys.modules["pyhanko"]
    parent.sign = module  # type: ignore[attr-defined]  # as the import system binds a submodule
    return True
