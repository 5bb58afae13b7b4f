"""Signing an OFD with a registry seal's reserved use (:func:`sealkit.seal.custody.seal_use` or
``reserved_use``) and filing the result in the use register — one place for the CLI and the demo. Each OFD
seal signature is named in the register by the SHA-256 of its SignedValue.dat (:func:`signed_values`), as a
PDF signature is by its signed revision.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sealkit.ofd.sign import OfdSignResult, sign_ofd
from sealkit.ofd.verify import signed_values
from sealkit.ukey.base import PrivateKeyHandle


def sign_ofd_for_use(
    use: Any,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    key: PrivateKeyHandle,
    **options: Any,
) -> OfdSignResult:
    """:func:`sign_ofd` with ``use``'s seal (``options`` as for it), then the register entry; without its
    entry the signed document does not stay."""
    from sealkit.seal.custody import signed_document

    output = Path(output_path)
    result = sign_ofd(input_path, output, key, seal=use.seal.seseal_der, **options)
    try:
        revisions = signed_values(output.read_bytes())
        use.record(signed_document(output, result.signature_id, result.stamps, revisions=revisions))
    except BaseException:
        output.unlink(missing_ok=True)
        raise
    return result
