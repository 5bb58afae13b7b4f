"""The fast SM2 backend: OpenSSL 3's system ``libcrypto.so.3`` through cffi in ABI mode.

Why this way:

* pyca/cryptography has no SM2 (its ``load_pem_private_key`` raises ``UnsupportedAlgorithm`` for the curve);
* gmssl is pure Python, ~30× slower, draws nonces from ``random`` and does not check C3 when decrypting;
* libcrypto is well maintained, uses a constant-time ladder for secret scalars, and is already on every
  Debian/Ubuntu machine; ABI mode (``ffi.dlopen``) needs no compiler at install time.

Signing hands the 32-byte e = SM3(Z || M) (computed by the caller) to ``EVP_PKEY_sign`` on an SM2
``EVP_PKEY``: in OpenSSL 3.0 the SM2 signature provider signs ``tbs`` as e directly
(``ossl_sm2_internal_sign``, constant-time ladder for k·G) — checked at load time against the GB/T 32918
vector. Each private key keeps its ``EVP_PKEY`` (built once with ``EVP_PKEY_fromdata``) and one initialised
``EVP_PKEY_CTX`` per thread, so there is no per-call key construction.

Verification needs only public values, so it does the GB/T 32918.2 check itself with one
``EC_POINT_mul(s·G + t·P)`` on an ``EC_GROUP`` with precomputed multiples of G (wNAF — the same algorithm
``EVP_PKEY_verify`` uses, minus the per-call context set-up and plus the precomputation), which is faster
than ``openssl speed``'s verify. Scalar multiplications for encryption/decryption and public-key derivation
also use ``EC_POINT_mul`` (deprecated in 3.0 but exported; a single secret scalar always takes the
constant-time ladder). Everything is freed through ``ffi.gc``.

:func:`load` returns None when the library is missing, too old, or fails the self-test.
"""

from __future__ import annotations

import threading
from typing import Any

from sealkit.sm2 import curve
from sealkit.sm2.curve import Point

_CDEF = """
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_pkey_ctx_st EVP_PKEY_CTX;
typedef struct ossl_param_st OSSL_PARAM;
typedef struct ossl_param_bld_st OSSL_PARAM_BLD;
typedef struct bignum_st BIGNUM;
typedef struct ec_group_st EC_GROUP;
typedef struct ec_point_st EC_POINT;

unsigned long OpenSSL_version_num(void);
void ERR_clear_error(void);

EVP_PKEY_CTX *EVP_PKEY_CTX_new_from_name(void *libctx, const char *name, const char *propquery);
EVP_PKEY_CTX *EVP_PKEY_CTX_new_from_pkey(void *libctx, EVP_PKEY *pkey, const char *propquery);
void EVP_PKEY_CTX_free(EVP_PKEY_CTX *ctx);
int EVP_PKEY_fromdata_init(EVP_PKEY_CTX *ctx);
int EVP_PKEY_fromdata(EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey, int selection, OSSL_PARAM *params);
void EVP_PKEY_free(EVP_PKEY *pkey);
int EVP_PKEY_sign_init(EVP_PKEY_CTX *ctx);
int EVP_PKEY_sign(EVP_PKEY_CTX *ctx, unsigned char *sig, size_t *siglen,
                  const unsigned char *tbs, size_t tbslen);

OSSL_PARAM_BLD *OSSL_PARAM_BLD_new(void);
int OSSL_PARAM_BLD_push_utf8_string(OSSL_PARAM_BLD *bld, const char *key, const char *buf, size_t bsize);
int OSSL_PARAM_BLD_push_octet_string(OSSL_PARAM_BLD *bld, const char *key, const void *buf, size_t bsize);
int OSSL_PARAM_BLD_push_BN(OSSL_PARAM_BLD *bld, const char *key, const BIGNUM *bn);
OSSL_PARAM *OSSL_PARAM_BLD_to_param(OSSL_PARAM_BLD *bld);
void OSSL_PARAM_BLD_free(OSSL_PARAM_BLD *bld);
void OSSL_PARAM_free(OSSL_PARAM *p);

BIGNUM *BN_bin2bn(const unsigned char *s, int len, BIGNUM *ret);
void BN_clear_free(BIGNUM *a);
BIGNUM *BN_new(void);
void BN_free(BIGNUM *a);
void BN_set_flags(BIGNUM *b, int n);

EC_GROUP *EC_GROUP_new_by_curve_name(int nid);
void EC_GROUP_free(EC_GROUP *group);
EC_POINT *EC_POINT_new(const EC_GROUP *group);
void EC_POINT_free(EC_POINT *point);
int EC_POINT_oct2point(const EC_GROUP *group, EC_POINT *p, const unsigned char *buf, size_t len, void *ctx);
size_t EC_POINT_point2oct(const EC_GROUP *group, const EC_POINT *p, int form,
                          unsigned char *buf, size_t len, void *ctx);
int EC_POINT_mul(const EC_GROUP *group, EC_POINT *r, const BIGNUM *n, const EC_POINT *q,
                 const BIGNUM *m, void *ctx);
int EC_POINT_is_at_infinity(const EC_GROUP *group, const EC_POINT *p);
int EC_GROUP_precompute_mult(EC_GROUP *group, void *ctx);
"""

_NID_SM2 = 1172
_BN_FLG_CONSTTIME = 0x04
_POINT_CONVERSION_UNCOMPRESSED = 4
_EVP_PKEY_KEYPAIR = 0x87
_SIG_MAX = 72


class OpenSSLKey:
    """Private-key state: an SM2 ``EVP_PKEY`` plus one initialised signing context per thread."""

    def __init__(self, backend: OpenSSLBackend, pkey: Any, point: Point) -> None:
        self.backend = backend
        self.pkey = pkey
        self.point = point
        self._tls = threading.local()

    def sign_ctx(self) -> Any:
        ctx = getattr(self._tls, "ctx", None)
        if ctx is None:
            ctx = self._tls.ctx = self.backend._new_sign_ctx(self.pkey)
        return ctx


class OpenSSLPublicKey:
    """Public-key state: the point as an ``EC_POINT`` on the (precomputed) SM2 group."""

    def __init__(self, ec_point: Any, point: Point) -> None:
        self.ec_point = ec_point
        self.point = point


class _Scratch:
    """Per-thread reusable BIGNUMs, point and buffers: for verification, and for the (public) signature."""

    def __init__(self, backend: OpenSSLBackend) -> None:
        ffi, lib = backend.ffi, backend.lib
        self.bn_s = ffi.gc(lib.BN_new(), lib.BN_free)
        self.bn_t = ffi.gc(lib.BN_new(), lib.BN_free)
        self.point = ffi.gc(lib.EC_POINT_new(backend.group), lib.EC_POINT_free)
        self.buf = ffi.new("unsigned char[]", 65)
        self.sig = ffi.new("unsigned char[]", _SIG_MAX)
        self.siglen = ffi.new("size_t *", _SIG_MAX)
        if ffi.NULL in (self.bn_s, self.bn_t, self.point):
            raise MemoryError("libcrypto allocation failed")


class OpenSSLBackend:
    """SM2 curve math in libcrypto. Create with :func:`load`."""

    name = "openssl"

    def __init__(self, ffi: Any, lib: Any) -> None:
        self.ffi = ffi
        self.lib = lib
        self._tls = threading.local()
        group = lib.EC_GROUP_new_by_curve_name(_NID_SM2)
        if group == ffi.NULL:
            raise OSError("libcrypto has no SM2 curve")
        self.group = ffi.gc(group, lib.EC_GROUP_free)
        # Precomputed multiples of G speed up s·G + t·P in verification (wNAF; public inputs only).
        # Secret single-scalar multiplications always take OpenSSL's constant-time ladder regardless.
        if not lib.EC_GROUP_precompute_mult(self.group, ffi.NULL):
            lib.ERR_clear_error()

    # --- helpers ----------

    def _bn(self, value: int, secret: bool) -> Any:
        raw = value.to_bytes(curve.SIZE, "big")
        bn = self.lib.BN_bin2bn(raw, len(raw), self.ffi.NULL)
        if bn == self.ffi.NULL:
            raise MemoryError("BN_bin2bn failed")
        if secret:
            self.lib.BN_set_flags(bn, _BN_FLG_CONSTTIME)
        return self.ffi.gc(bn, self.lib.BN_clear_free)

    def _point(self, point: Point) -> Any:
        raw = curve.encode_point(point)
        pt = self.ffi.gc(self.lib.EC_POINT_new(self.group), self.lib.EC_POINT_free)
        if not self.lib.EC_POINT_oct2point(self.group, pt, raw, len(raw), self.ffi.NULL):
            self.lib.ERR_clear_error()
            raise ValueError("EC_POINT_oct2point failed")
        return pt

    def _mul(self, k: int, point: Point | None) -> Point:
        lib, ffi = self.lib, self.ffi
        result = ffi.gc(lib.EC_POINT_new(self.group), lib.EC_POINT_free)
        scalar = self._bn(k % curve.N, secret=True)
        if point is None:
            ok = lib.EC_POINT_mul(self.group, result, scalar, ffi.NULL, ffi.NULL, ffi.NULL)
        else:
            ok = lib.EC_POINT_mul(self.group, result, ffi.NULL, self._point(point), scalar, ffi.NULL)
        if not ok or lib.EC_POINT_is_at_infinity(self.group, result):
            lib.ERR_clear_error()
            raise ValueError("EC_POINT_mul failed or gave infinity")
        buf = ffi.new("unsigned char[]", 65)
        if (
            lib.EC_POINT_point2oct(self.group, result, _POINT_CONVERSION_UNCOMPRESSED, buf, 65, ffi.NULL)
            != 65
        ):
            lib.ERR_clear_error()
            raise ValueError("EC_POINT_point2oct failed")
        raw = bytes(ffi.buffer(buf, 65))
        return (int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big"))

    def _fromdata(self, point: Point, d: int) -> Any:
        lib, ffi = self.lib, self.ffi
        bld = ffi.gc(lib.OSSL_PARAM_BLD_new(), lib.OSSL_PARAM_BLD_free)
        pub = curve.encode_point(point)
        ok = lib.OSSL_PARAM_BLD_push_utf8_string(bld, b"group", b"SM2", 0)
        ok = ok and lib.OSSL_PARAM_BLD_push_octet_string(bld, b"pub", pub, len(pub))
        bn = self._bn(d, secret=True)
        ok = ok and lib.OSSL_PARAM_BLD_push_BN(bld, b"priv", bn)
        if not ok:
            raise MemoryError("OSSL_PARAM_BLD failed")
        params = ffi.gc(lib.OSSL_PARAM_BLD_to_param(bld), lib.OSSL_PARAM_free)
        ctx = ffi.gc(lib.EVP_PKEY_CTX_new_from_name(ffi.NULL, b"SM2", ffi.NULL), lib.EVP_PKEY_CTX_free)
        ppkey = ffi.new("EVP_PKEY **")
        if (
            ctx == ffi.NULL
            or lib.EVP_PKEY_fromdata_init(ctx) <= 0
            or lib.EVP_PKEY_fromdata(ctx, ppkey, _EVP_PKEY_KEYPAIR, params) <= 0
        ):
            lib.ERR_clear_error()
            raise ValueError("EVP_PKEY_fromdata failed for SM2")
        del bn
        return ffi.gc(ppkey[0], lib.EVP_PKEY_free)

    def _new_sign_ctx(self, pkey: Any) -> Any:
        lib, ffi = self.lib, self.ffi
        ctx = lib.EVP_PKEY_CTX_new_from_pkey(ffi.NULL, pkey, ffi.NULL)
        if ctx == ffi.NULL:
            lib.ERR_clear_error()
            raise MemoryError("EVP_PKEY_CTX_new_from_pkey failed")
        ctx = ffi.gc(ctx, lib.EVP_PKEY_CTX_free)
        if lib.EVP_PKEY_sign_init(ctx) <= 0:
            lib.ERR_clear_error()
            raise ValueError("EVP_PKEY_sign_init failed for SM2")
        return ctx

    # --- the backend interface ----------

    def multiply_base(self, k: int) -> Point:
        """k·G."""
        return self._mul(k, None)

    def multiply(self, k: int, point: Point) -> Point:
        """k·point (point already validated)."""
        return self._mul(k, point)

    def load_private(self, d: int) -> OpenSSLKey:
        point = self._mul(d, None)
        return OpenSSLKey(self, self._fromdata(point, d), point)

    def load_public(self, point: Point) -> OpenSSLPublicKey:
        return OpenSSLPublicKey(self._point(point), point)

    def sign_digest(self, key: OpenSSLKey, e: bytes) -> bytes:
        w = self._scratch()
        w.siglen[0] = _SIG_MAX
        if self.lib.EVP_PKEY_sign(key.sign_ctx(), w.sig, w.siglen, e, len(e)) <= 0:
            self.lib.ERR_clear_error()
            raise ValueError("EVP_PKEY_sign failed")
        return bytes(self.ffi.buffer(w.sig, w.siglen[0]))

    def _scratch(self) -> _Scratch:
        scratch: _Scratch | None = getattr(self._tls, "scratch", None)
        if scratch is None:
            scratch = self._tls.scratch = _Scratch(self)
        return scratch

    def verify_digest(self, key: OpenSSLPublicKey, e: bytes, signature: bytes, r: int, s: int) -> bool:
        """GB/T 32918.2 §7.1 with the curve part in libcrypto: (x1, y1) = s·G + t·P, accept iff
        (e + x1) mod n == r. r and s are already range-checked by the caller."""
        lib = self.lib
        t = (r + s) % curve.N
        if t == 0:
            return False
        w = self._scratch()
        lib.BN_bin2bn(s.to_bytes(32, "big"), 32, w.bn_s)
        lib.BN_bin2bn(t.to_bytes(32, "big"), 32, w.bn_t)
        ok = lib.EC_POINT_mul(self.group, w.point, w.bn_s, key.ec_point, w.bn_t, self.ffi.NULL)
        if (
            not ok
            or lib.EC_POINT_is_at_infinity(self.group, w.point)
            or lib.EC_POINT_point2oct(
                self.group, w.point, _POINT_CONVERSION_UNCOMPRESSED, w.buf, 65, self.ffi.NULL
            )
            != 65
        ):
            lib.ERR_clear_error()
            return False
        x1 = int.from_bytes(self.ffi.buffer(w.buf, 33)[1:], "big")
        return (int.from_bytes(e, "big") + x1) % curve.N == r


# GB/T 32918.5 Annex A (shared/vectors): d, message, signature with the default user ID.
_VECTOR_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
_VECTOR_MSG = b"message digest"
_VECTOR_SIG = bytes.fromhex(
    "3046022100f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
    "022100b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
)


def load(path: str | None = None) -> OpenSSLBackend | None:
    """Open libcrypto (``path`` or ``libcrypto.so.3``) and self-test; None if it cannot be used."""
    try:
        import cffi

        ffi = cffi.FFI()
        ffi.cdef(_CDEF)
        lib: Any = ffi.dlopen(path or "libcrypto.so.3")
        if lib.OpenSSL_version_num() < 0x30000000:
            return None
        backend = OpenSSLBackend(ffi, lib)
        # Self-test: e must be taken as is (not hashed again) and the key built correctly.
        from sealkit.sm2.signature import compute_e, compute_z_from_point, decode_signature

        key = backend.load_private(_VECTOR_D)
        pub = backend.load_public(key.point)
        e = compute_e(compute_z_from_point(*key.point), _VECTOR_MSG)
        r, s = decode_signature(_VECTOR_SIG)
        if not backend.verify_digest(pub, e, _VECTOR_SIG, r, s):
            return None
        sig = backend.sign_digest(key, e)
        r, s = decode_signature(sig)
        if not backend.verify_digest(pub, e, sig, r, s):
            return None
        return backend
    except Exception:  # noqa: BLE001 - any failure means "use the Python backend"
        return None
