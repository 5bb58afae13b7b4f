"""Digital envelopes for bid files (CMS, RFC 5652/5083, and GM/T 0010): encrypt at upload, open at 开标.

::

    from sealkit.envelope import encrypt_file, decrypt_file, inspect, load_certificates

    bidder = load_certificates("bidder-enc.pem")[0]
    encrypt_file("bid.pdf", "bid.p7m", [bidder], signer=signing_key)      # AES-256-GCM, signed
    info = inspect("bid.p7m")                                             # recipients, algorithms, sizes
    result = decrypt_file("bid.p7m", "bid-opened.pdf", encryption_key,    # checks tag + signature first
                          trust=[ca], signers=[bidder_sign])              # signature then required

Importing this package registers the SM OIDs with asn1crypto (via :mod:`sealkit.sm2`). See docs/envelopes.md.
"""

from __future__ import annotations

from sealkit.certs import load_certificates
from sealkit.envelope.ciphers import CIPHERS
from sealkit.envelope.model import DecryptResult, EnvelopeInfo, Progress, RecipientSummary, SignerSummary
from sealkit.envelope.reader import decrypt_file, inspect
from sealkit.envelope.recipients import PROFILES
from sealkit.envelope.writer import MIXED_FAMILIES, encrypt_file

#: The content ciphers ``encrypt_file`` writes.
CONTENT_CIPHERS = tuple(CIPHERS)

__all__ = [
    "CONTENT_CIPHERS",
    "MIXED_FAMILIES",
    "PROFILES",
    "DecryptResult",
    "EnvelopeInfo",
    "Progress",
    "RecipientSummary",
    "SignerSummary",
    "decrypt_file",
    "encrypt_file",
    "inspect",
    "load_certificates",
]
