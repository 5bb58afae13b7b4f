"""Content ciphers of envelopes (AES-256-GCM, AES-CBC, SM4-CBC) and their streaming encryption/decryption.

Data flows through preallocated buffers with ``update_into``: memory stays flat whatever the file size.
CBC padding (PKCS#7) is added and checked here, so the ``cryptography`` contexts run without padding; the GCM
tag is checked when the last block is decrypted. :class:`PlainStream` is the decrypted plaintext as a stream,
read by the envelope reader (and by the inner SignedData parser) without holding more than one chunk.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from asn1crypto import algos, core
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sealkit.errors import DamagedEnvelope, InvalidInput, UnsupportedAlgorithm

#: Bytes read, encrypted and written per step. 1 MiB keeps the input and output buffers in the CPU caches
#: between the read, the cipher and the write; 4 MiB buffers were ~10% slower (SM4-CBC, 1 GiB).
CHUNK = 1 << 20
_BLOCK = 16


class GcmParams(core.Sequence):  # type: ignore[misc]
    """RFC 5084 ``GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER DEFAULT 12 }``."""

    _fields = [("aes_nonce", core.OctetString), ("aes_icvlen", core.Integer, {"default": 12})]


for _name in ("aes128_gcm", "aes192_gcm", "aes256_gcm"):
    algos.EncryptionAlgorithm._oid_specs.setdefault(_name, GcmParams)


@dataclass(frozen=True)
class ContentCipher:
    """A content-encryption algorithm: its CLI name, asn1crypto name, key size and mode."""

    name: str
    oid_name: str
    key_size: int
    aead: bool
    sm4: bool = False

    def algorithm(self, key: bytes) -> algorithms.AES | algorithms.SM4:
        return algorithms.SM4(key) if self.sm4 else algorithms.AES(key)


CIPHERS: dict[str, ContentCipher] = {
    "aes-256-gcm": ContentCipher("aes-256-gcm", "aes256_gcm", 32, True),
    "aes-256-cbc": ContentCipher("aes-256-cbc", "aes256_cbc", 32, False),
    "sm4-cbc": ContentCipher("sm4-cbc", "sm4_cbc", 16, False, sm4=True),
}

#: What is accepted on read, by asn1crypto name (``sm4``: the bare OID CFCA writes for SM4-CBC).
READABLE: dict[str, ContentCipher] = {
    **{c.oid_name: c for c in CIPHERS.values()},
    "aes128_gcm": ContentCipher("aes-128-gcm", "aes128_gcm", 16, True),
    "aes192_gcm": ContentCipher("aes-192-gcm", "aes192_gcm", 24, True),
    "aes128_cbc": ContentCipher("aes-128-cbc", "aes128_cbc", 16, False),
    "aes192_cbc": ContentCipher("aes-192-cbc", "aes192_cbc", 24, False),
    "sm4": ContentCipher("sm4-cbc", "sm4", 16, False, sm4=True),
}


def cipher_by_name(name: str) -> ContentCipher:
    """The writable cipher ``name`` (``aes-256-gcm``, ``aes-256-cbc`` or ``sm4-cbc``)."""
    try:
        return CIPHERS[name.lower()]
    except KeyError:
        raise InvalidInput(f"unknown content cipher {name!r}: use one of {', '.join(CIPHERS)}") from None


@dataclass(frozen=True)
class ContentParameters:
    """A cipher with its IV (CBC) or nonce and tag length (GCM)."""

    cipher: ContentCipher
    iv: bytes
    tag_length: int = 16

    def algorithm_identifier(self) -> algos.EncryptionAlgorithm:
        if self.cipher.aead:
            params: Any = GcmParams({"aes_nonce": self.iv, "aes_icvlen": self.tag_length})
        else:
            params = core.OctetString(self.iv)
        return algos.EncryptionAlgorithm({"algorithm": self.cipher.oid_name, "parameters": params})

    def ciphertext_length(self, plaintext_length: int) -> int:
        if self.cipher.aead:
            return plaintext_length
        return (plaintext_length // _BLOCK + 1) * _BLOCK


def new_parameters(cipher: ContentCipher) -> ContentParameters:
    """Fresh random IV (16 bytes) or GCM nonce (12 bytes) for ``cipher``."""
    return ContentParameters(cipher, os.urandom(12 if cipher.aead else _BLOCK))


def parse_parameters(alg: algos.EncryptionAlgorithm) -> ContentParameters:
    """The cipher and parameters of a content-encryption AlgorithmIdentifier read from a file."""
    oid = alg["algorithm"].dotted
    cipher = READABLE.get(alg["algorithm"].native)
    if cipher is None:
        raise UnsupportedAlgorithm(f"unsupported content-encryption algorithm {oid}")
    try:
        params = alg["parameters"]
        if cipher.aead:
            nonce = bytes(params["aes_nonce"].native)
            tag_length = int(params["aes_icvlen"].native)
            if not nonce or not 12 <= tag_length <= 16:
                raise ValueError("GCM parameters")
            return ContentParameters(cipher, nonce, tag_length)
        iv = params.native
        if not isinstance(iv, bytes) or len(iv) != _BLOCK:
            raise ValueError("IV")
        return ContentParameters(cipher, iv)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise DamagedEnvelope(
            f"the parameters of the content-encryption algorithm {oid} are malformed"
        ) from None


class StreamEncryptor:
    """Encrypt a stream whose total length is known; adds the PKCS#7 padding for CBC."""

    def __init__(self, params: ContentParameters, key: bytes) -> None:
        self.params = params
        mode = modes.GCM(params.iv) if params.cipher.aead else modes.CBC(params.iv)
        self._ctx: Any = Cipher(params.cipher.algorithm(key), mode).encryptor()
        self._total = 0

    def update_into(self, data: bytes | memoryview, out: bytearray) -> int:
        """Encrypt ``data`` into ``out`` (len(out) ≥ len(data) + 15); returns the bytes written."""
        self._total += len(data)
        return int(self._ctx.update_into(data, out))

    def finalize(self) -> bytes:
        """The last ciphertext bytes (CBC: the padded final block)."""
        tail = b""
        if not self.params.cipher.aead:
            pad = _BLOCK - self._total % _BLOCK
            tail = self._ctx.update(bytes([pad]) * pad)
        return bytes(tail + self._ctx.finalize())

    @property
    def tag(self) -> bytes:
        return bytes(self._ctx.tag[: self.params.tag_length])


class CiphertextSource(Protocol):
    """Where :class:`PlainStream` reads ciphertext from: ``readinto`` returns 0 at the end."""

    def readinto(self, buffer: memoryview, /) -> int: ...


Sink = Callable[[memoryview], object]


class PlainStream:
    """The plaintext of a ciphertext source, decrypted chunk by chunk.

    ``read(n)`` for small structures, ``pump(n, sink)`` / ``pump_all(sink)`` for bulk data (memoryviews of
    the internal buffer, valid only during the call). For CBC the last block is held back until the padding
    is checked; for GCM ``tag`` is checked when the source ends. Any failure raises DamagedEnvelope.
    """

    def __init__(
        self,
        source: CiphertextSource,
        params: ContentParameters,
        key: bytes,
        *,
        tag: bytes | None = None,
        aad: bytes | None = None,
        chunk: int = CHUNK,
        on_chunk: Callable[[int], None] | None = None,
    ) -> None:
        self._source = source
        self._params = params
        if params.cipher.aead:
            if tag is None or len(tag) != params.tag_length:
                raise DamagedEnvelope("the envelope's authentication tag is missing or has the wrong length")
            mode: Any = modes.GCM(params.iv, tag, min_tag_length=params.tag_length)
        else:
            mode = modes.CBC(params.iv)
        try:
            self._ctx: Any = Cipher(params.cipher.algorithm(key), mode).decryptor()
        except ValueError:
            raise DamagedEnvelope("the content-encryption key has the wrong length") from None
        if aad:
            self._ctx.authenticate_additional_data(aad)
        self._in = bytearray(chunk)
        self._out = bytearray(chunk + 3 * _BLOCK)
        self._start = 0  # next byte to hand out
        self._ready = 0  # end of the bytes that may be handed out
        self._filled = 0  # end of the decrypted bytes (ready + held-back block)
        self._done = False
        self._on_chunk = on_chunk
        self.ciphertext_read = 0

    @property
    def finished(self) -> bool:
        """True when every byte was decrypted, checked and handed out."""
        return self._done and self._start == self._ready

    def _refill(self) -> None:
        held = self._filled - self._ready
        out = self._out
        if held:
            out[:held] = out[self._ready : self._filled]
        self._start = self._ready = 0
        self._filled = held
        while not self._done:
            n = self._source.readinto(memoryview(self._in))
            if not n:
                self._finish()
                return
            self.ciphertext_read += n
            if self._on_chunk:
                self._on_chunk(n)
            self._filled += self._ctx.update_into(memoryview(self._in)[:n], memoryview(out)[self._filled :])
            self._ready = self._filled if self._params.cipher.aead else max(0, self._filled - _BLOCK)
            if self._ready:
                return

    def _finish(self) -> None:
        self._done = True
        try:
            tail = self._ctx.finalize()
        except InvalidTag:
            raise DamagedEnvelope(
                "the envelope was tampered with or damaged: the GCM tag does not match"
            ) from None
        except ValueError:
            raise DamagedEnvelope("the encrypted content is damaged (not a whole number of blocks)") from None
        if tail:  # pragma: no cover - no-padding contexts give nothing here
            raise DamagedEnvelope("the encrypted content is damaged")
        end = self._filled
        if not self._params.cipher.aead:
            if end < _BLOCK or self.ciphertext_read % _BLOCK:
                raise DamagedEnvelope("the encrypted content is damaged (not a whole number of blocks)")
            pad = self._out[end - 1]
            if not 1 <= pad <= _BLOCK or self._out[end - pad : end] != bytes([pad]) * pad:
                raise DamagedEnvelope("the encrypted content is damaged or the key is wrong (bad padding)")
            end -= pad
        self._ready = self._filled = end

    def _available(self) -> int:
        if self._start == self._ready and not self._done:
            self._refill()
        return self._ready - self._start

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes, or fewer at the end of the plaintext."""
        parts = []
        while n:
            avail = self._available()
            if not avail:
                break
            take = min(n, avail)
            parts.append(bytes(self._out[self._start : self._start + take]))
            self._start += take
            n -= take
        return b"".join(parts)

    def pump(self, n: int, sink: Sink) -> int:
        """Hand the next ``n`` bytes (fewer at the end) to ``sink``; returns how many were handed."""
        done = 0
        view = memoryview(self._out)
        while done < n:
            avail = self._available()
            if not avail:
                break
            take = min(n - done, avail)
            sink(view[self._start : self._start + take])
            self._start += take
            done += take
        return done

    def pump_all(self, sink: Sink) -> int:
        """Hand every remaining byte to ``sink`` (one call per decrypted chunk); returns how many."""
        return self.pump(sys.maxsize, sink)

    def peek_eof(self) -> bool:
        return self._available() == 0

    def drain(self) -> None:
        """Decrypt (and discard) the rest, so that a GCM tag or CBC padding error surfaces."""
        while self._available():
            self._start = self._ready
