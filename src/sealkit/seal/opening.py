"""Opening the seal registry as the configuration says: its URL, the key and certificate of its signed audit
head, whether grants are required, and its administrators (``[registry]`` of :mod:`sealkit.config`)."""

from __future__ import annotations

from sealkit.config import Config
from sealkit.errors import ConfigError
from sealkit.seal.lifecycle import SealRegistry
from sealkit.seal.registry import HeadSigner
from sealkit.seal.roles import AdminKey, Roles


def open_registry(
    url: str | None = None,
    *,
    config: Config | None = None,
    actor: str | None = None,
    read_only: bool = False,
    admin: AdminKey | None = None,
) -> SealRegistry:
    """The registry of ``config`` (or ``url``) with its head-signing set up: ``[registry] signing_cert``
    checks the signed audit head; a writable registry also opens ``[registry] signing_key`` (a token or key
    store reference, through :func:`sealkit.ukey.open_key`) to re-sign it. ``read_only`` is for readers:
    verifying with a seal. ``[registry] grants_required`` refuses seals without grants;
    ``[registry] admin_certs`` makes the administrator's changes need ``admin`` (:mod:`sealkit.seal.roles`).
    """
    config = config or Config()
    from sealkit.certs import load_certificate

    cert_path = config.registry_signing_cert
    cert = None
    if cert_path is not None:
        cert = load_certificate(cert_path, what="the registry signing certificate ([registry] signing_cert)")
    signer = None
    if not read_only and config.registry_signing_key:
        if cert is None:
            raise ConfigError("[registry] signing_key needs [registry] signing_cert, its certificate")
        from sealkit.ukey import open_key

        keyref = config.registry_signing_key
        signer = HeadSigner(lambda: open_key(keyref, config=config), cert, owned=True)  # opened on a change
    admins = [
        load_certificate(path, what="an administrator certificate ([registry] admin_certs)")
        for path in config.registry_admin_certs
    ]
    roles = Roles(admins, admin) if admins or admin else None
    registry = SealRegistry(
        url or config.registry_url,
        actor=actor,
        read_only=read_only,
        signer=signer,
        head_cert=cert,
        approve=roles.approve if roles else None,
    )
    registry.grants_required = config.registry_grants_required
    return registry
