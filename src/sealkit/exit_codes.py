"""The exit code of every sealkit error — one table for the CLI, the batch runner and the HTTP service
(library exceptions carry no exit codes).

The table is documented in ``docs/errors.md``; a test checks that both agree. An error class not listed
takes the code of its nearest listed base class.
"""

from __future__ import annotations

from sealkit import errors

GENERAL = 1
USAGE = 2
INTERNAL = 70
INTERRUPTED = 130
#: ``sealkit seal expiring``: seals are due (they expire within the window); not an error.
SEALS_EXPIRING = 14

#: Base class -> exit code. Subclasses inherit their base's code.
EXIT_CODES: dict[type[errors.SealkitError], int] = {
    errors.SealkitError: GENERAL,
    errors.InvalidInput: USAGE,
    errors.UnsupportedAlgorithm: USAGE,
    errors.InvalidSignature: 3,
    errors.VerificationFailed: 3,
    errors.VerificationIndeterminate: 4,
    errors.TokenError: 5,
    errors.CertificateError: 6,
    errors.SealError: 7,
    errors.EnvelopeError: 8,
    errors.PdfError: 9,
    errors.OfdError: 9,
    errors.RegistryError: 10,
    errors.ConfigError: 11,
    errors.ServiceError: 12,
    errors.GrantRefused: 13,
    errors.NotAuthorised: 15,
}


def exit_code_for(error: BaseException) -> int:
    """The exit code of ``error``: its class's, or its nearest listed base class's."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return INTERNAL
