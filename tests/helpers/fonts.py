"""The CJK face extracted once per test session, shared through SEALKIT_CJK_FONT (each test has its own
SEALKIT_HOME, where sealkit would otherwise extract it again)."""

import os
from pathlib import Path


def extract_cjk_font(home: Path) -> Path:
    """Extract the CJK face into ``home`` (a session temporary directory) and return its path."""
    from sealkit.fonts import cjk_font_path

    old = os.environ.get("SEALKIT_HOME")
    os.environ["SEALKIT_HOME"] = str(home)
    try:
        return Path(cjk_font_path())
    finally:
        if old is None:
            os.environ.pop("SEALKIT_HOME")
        else:
            os.environ["SEALKIT_HOME"] = old
