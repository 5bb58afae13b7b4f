"""The OFD branches of ``sealkit sign`` and ``sealkit verify``/``file``: which inputs are OFD (by content,
a ZIP with OFD.xml — not by extension), and signing one with a registry seal (:func:`sealkit.ofd.sign_ofd`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sealkit_cli.common import emit, prompt_secret

from sealkit.errors import InvalidInput


def is_ofd_file(path: str | Path) -> bytes | None:
    """The file's bytes if it is an OFD, else None (unreadable files are left to the PDF path's errors)."""
    from sealkit.ofd import is_ofd

    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                return None
            handle.seek(0)
            data = handle.read()
    except OSError:
        return None
    return data if is_ofd(data) else None


def sign_ofd_command(
    config: Any,
    input_path: Path,
    output: Path | None,
    keyref: str | None,
    cert: Path | None,
    seal_id: str | None,
    registry_url: str | None,
    placement: Any,
    final: bool,
    tsa: Any,
    *,
    refused: list[str],
    as_json: bool,
    seal_makers: list[Path] | None = None,
    purpose: str = "contract",
    actor: str | None = None,
) -> None:
    """Sign the OFD ``input_path`` with the registry seal ``seal_id`` (SM2 only) and report it."""
    from sealkit.flows import signer_certificate
    from sealkit.ofd import require_sm2_key, sign_ofd_for_use
    from sealkit.seal import seal_use
    from sealkit.ukey import CallbackPinSource, open_key

    if refused:
        raise InvalidInput(
            f"{', '.join(refused)}: not for OFD (its seal signature is GB/T 38540: use --seal)"
        )
    keyref = keyref or config.default_key
    if not keyref:
        raise InvalidInput("no key: give --key or set [sign] key in the configuration")
    seal_id = seal_id or config.default_seal
    if not seal_id:
        raise InvalidInput("an OFD seal signature needs a GB/T 38540 seal from the registry: give --seal ID")
    cert = cert or config.default_cert
    output = output or input_path.with_name(input_path.stem + ".signed.ofd")
    with open_key(keyref, config=config, pin_source=CallbackPinSource(prompt_secret)) as key:
        require_sm2_key(key)
        url = registry_url or config.registry_url
        makers = seal_makers or None
        signer = signer_certificate(key, cert)
        with seal_use(
            seal_id, signer, url, config=config, purpose=purpose, actor=actor, maker_trust=makers
        ) as use:
            result = sign_ofd_for_use(
                use,
                input_path,
                output,
                key,
                cert=cert,
                placement=placement,
                final=final,
                timestamper=tsa,
            )
    stamps = ", ".join(f"page {s.page} {s.kind}" for s in result.stamps) or "invisible"
    emit(
        result.as_dict(),
        as_json,
        f"signed {result.output_path} (OFD signature {result.signature_id}, seal {result.seal_id}; {stamps}"
        f"{'; timestamped' if tsa else ''})",
    )
