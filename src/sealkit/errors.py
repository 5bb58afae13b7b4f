"""sealkit's one exception hierarchy.

Every error sealkit raises on purpose is a :class:`SealkitError` whose ``str()`` is a single line meant for
a person (what was wrong, what to do, the file named): no PIN, password or key material ever appears in
it. Callers that import sealkit catch ``SealkitError`` (or a narrower class). The exceptions carry no exit
codes: the CLI maps classes to exit codes (``sealkit.exit_codes``, documented in ``docs/errors.md``).
"""

from __future__ import annotations


class SealkitError(Exception):
    """Base class of every error sealkit raises deliberately."""

    #: Set when a command already printed its JSON report for this failure (then no JSON error follows).
    report_printed: bool = False

    def __init__(self, message: str = "") -> None:
        # Keep the message on one line: the CLI prints it as is.
        super().__init__(" ".join(str(message).split()) or self.__class__.__doc__ or "error")

    @property
    def message(self) -> str:
        return str(self.args[0])


# --- input ---


class InvalidInput(SealkitError):
    """The input (a file, an argument, a form) is not acceptable."""


class ConfigError(SealkitError):
    """The configuration file or an override is invalid."""


# --- cryptography ---


class InvalidSignature(SealkitError):
    """A signature did not verify."""


class InvalidKey(InvalidInput):
    """A key is malformed, of the wrong type, or its point is not on the curve."""


class DecodingError(InvalidInput):
    """DER/PEM data could not be decoded."""


class UnsupportedAlgorithm(SealkitError):
    """An algorithm or mechanism that sealkit (or the token) does not support."""


# --- verification ---


class VerificationFailed(SealkitError):
    """A document, seal or envelope failed verification (TOTAL-FAILED)."""


class VerificationIndeterminate(SealkitError):
    """Verification could not conclude (INDETERMINATE), e.g. no trusted chain."""


# --- tokens, keys and PINs ---


class TokenError(SealkitError):
    """A PKCS#11 token or key store failed."""


class ModuleLoadError(TokenError):
    """The PKCS#11 module could not be loaded."""


class TokenNotPresent(TokenError):
    """The token is absent or was removed."""


class KeyNotFound(TokenError):
    """No such key or certificate on the token or in the key store."""


class PinIncorrect(TokenError):
    """The PIN or password is wrong."""


class PinLocked(TokenError):
    """The PIN is locked."""


class PinRequired(TokenError):
    """A PIN or password is needed but none could be obtained."""


class MechanismNotSupported(TokenError):
    """The token does not support the mechanism."""


class SelfTestFailed(TokenError):
    """A token's signature did not verify in software with the certificate's key."""


# --- certificates ---


class CertificateError(SealkitError):
    """A certificate is unusable: expired, not yet valid, wrong key, bad chain."""


# --- seals ---


class SealError(SealkitError):
    """An electronic seal cannot be used or changed."""


class SealNotFound(SealError):
    """No seal with that ID."""


class SealRevoked(SealError):
    """The seal is revoked."""


class SealExpired(SealError):
    """The seal is expired or not yet valid."""


class SealDisabled(SealError):
    """The seal is disabled."""


class GrantRefused(SealError):
    """No live grant lets this signer use the seal now, for this purpose (用印授权)."""


class FormError(InvalidInput):
    """The unit form (附件3) has an invalid or missing field."""


# --- envelopes ---


class EnvelopeError(SealkitError):
    """A digital envelope could not be made or opened."""


class NotARecipient(EnvelopeError):
    """The key is not one of the envelope's recipients."""


class DamagedEnvelope(EnvelopeError):
    """The envelope is damaged, truncated or was tampered with."""


class NotYetOpen(EnvelopeError):
    """The bid opening time has not come."""


class NotAnEnvelope(EnvelopeError):
    """The file is not a CMS digital envelope (not CMS, or another CMS type)."""


# --- PDF ---


class PdfError(SealkitError):
    """A PDF could not be read or signed."""


class PdfPasswordRequired(PdfError):
    """The PDF is encrypted and needs its password."""


class TextNotFound(PdfError):
    """The anchor text for seal placement is not in the document."""


class SigningOrderError(PdfError):
    """The signature field is not next in the signing order, or is already signed."""


class FieldRequirementError(PdfError):
    """The prepared field requires an electronic seal (or a given unit's) that the signature would lack."""


# --- OFD ---


class OfdError(SealkitError):
    """An OFD document could not be read or signed (or its package is refused as hostile)."""


class OfdStructureError(OfdError):
    """An OFD package whose ZIP readers could read two ways (``reason``: a ``structure.zip-*`` code)."""

    def __init__(self, message: str = "", reason: str = "structure.zip-layout") -> None:
        super().__init__(message)
        self.reason = reason


# --- registry ---


class RegistryError(SealkitError):
    """The seal registry failed."""


class AuditChainBroken(RegistryError):
    """The registry's audit hash chain does not verify."""


class RegistryCertificateMissing(ConfigError, AuditChainBroken):
    """The registry's audit chain is signed, but no registry certificate (``[registry] signing_cert``) is
    configured to check it: a configuration problem (exit code 11), and the chain is not trusted."""


class NotAuthorised(RegistryError):
    """A registry change needs an administrator's signed approval that was not given or does not verify."""


# --- services ---


class ServiceError(SealkitError):
    """A network service (TSA, OCSP, CRL) failed or is unreachable."""
