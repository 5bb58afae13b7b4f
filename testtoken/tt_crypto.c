/*
 * sealkit SM2 PKCS#11 test token: SM2 and SM3 through OpenSSL 3 EVP.
 *
 * OpenSSL 3.0 facts this relies on (checked against 3.0.x):
 *  - EVP_PKEY_Q_keygen(NULL, NULL, "SM2") makes a key of type "SM2", and a PKCS#8
 *    key on the SM2 curve decodes back to type "SM2", so the SM2 signature and
 *    cipher implementations are used (not ECDSA/ECIES).
 *  - Signing with Z: EVP_PKEY_CTX_set1_id on a context from EVP_PKEY_CTX_new, attached
 *    with EVP_MD_CTX_set_pkey_ctx before EVP_DigestSignInit(..., EVP_sm3(), ...). The
 *    EVP_MD_CTX does not take ownership of that EVP_PKEY_CTX.
 *  - EVP_PKEY_sign on an SM2 key signs the given 32-byte digest e as is.
 *  - EVP_PKEY_decrypt on an SM2 key takes the GM/T 0009 DER ciphertext
 *    SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING, ciphertext OCTET STRING }.
 */
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "tt.h"

static const char SM2_DEFAULT_ID[] = "1234567812345678";

EVP_PKEY *tt_sm2_generate(void)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
    if (k == NULL)
        ERR_clear_error();
    return k;
}

int tt_sm2_is_sm2(EVP_PKEY *k)
{
    return k != NULL && EVP_PKEY_is_a(k, "SM2");
}

int tt_sm2_public_point(EVP_PKEY *k, unsigned char out[65])
{
    size_t len = 0;
    if (!EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, out, 65, &len) || len != 65 ||
        out[0] != 0x04) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int tt_sm2_to_pkcs8(EVP_PKEY *k, unsigned char **der, size_t *len)
{
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k);
    int n;
    *der = NULL;
    if (p8 == NULL)
        goto fail;
    n = i2d_PKCS8_PRIV_KEY_INFO(p8, der);
    PKCS8_PRIV_KEY_INFO_free(p8);
    if (n <= 0)
        goto fail;
    *len = (size_t)n;
    return 0;
fail:
    ERR_clear_error();
    return -1;
}

EVP_PKEY *tt_sm2_from_pkcs8(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    EVP_PKEY *k = d2i_AutoPrivateKey(NULL, &p, (long)len);
    if (k == NULL)
        ERR_clear_error();
    return k;
}

/* ---- signatures ---------------------------------------------------------- */

/* Convert OpenSSL's DER ECDSA-Sig-Value to the requested output. Takes ownership of der. */
static int finish_signature(unsigned char *der, size_t derlen, int raw, unsigned char **sig, size_t *siglen)
{
    const unsigned char *p = der;
    ECDSA_SIG *s;
    const BIGNUM *r, *sv;
    unsigned char *out;

    if (!raw) {
        *sig = der;
        *siglen = derlen;
        return 0;
    }
    s = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    OPENSSL_free(der);
    if (s == NULL)
        goto fail;
    ECDSA_SIG_get0(s, &r, &sv);
    out = OPENSSL_malloc(64);
    if (out == NULL || BN_bn2binpad(r, out, 32) != 32 || BN_bn2binpad(sv, out + 32, 32) != 32) {
        OPENSSL_free(out);
        ECDSA_SIG_free(s);
        goto fail;
    }
    ECDSA_SIG_free(s);
    *sig = out;
    *siglen = 64;
    return 0;
fail:
    ERR_clear_error();
    return -1;
}

int tt_sign_z_init(EVP_PKEY *k, const unsigned char *id, size_t idlen, EVP_MD_CTX **md, EVP_PKEY_CTX **pctx)
{
    if (id == NULL || idlen == 0) {
        id = (const unsigned char *)SM2_DEFAULT_ID;
        idlen = strlen(SM2_DEFAULT_ID);
    }
    *md = EVP_MD_CTX_new();
    *pctx = EVP_PKEY_CTX_new(k, NULL);
    if (*md == NULL || *pctx == NULL || EVP_PKEY_CTX_set1_id(*pctx, id, idlen) <= 0)
        goto fail;
    EVP_MD_CTX_set_pkey_ctx(*md, *pctx);
    if (EVP_DigestSignInit(*md, NULL, EVP_sm3(), NULL, k) <= 0)
        goto fail;
    return 0;
fail:
    tt_sign_z_free(*md, *pctx);
    *md = NULL;
    *pctx = NULL;
    ERR_clear_error();
    return -1;
}

void tt_sign_z_free(EVP_MD_CTX *md, EVP_PKEY_CTX *pctx)
{
    EVP_MD_CTX_free(md); /* does not free pctx: it was attached with set_pkey_ctx */
    EVP_PKEY_CTX_free(pctx);
}

int tt_sign_z_final(EVP_MD_CTX *md, int raw, unsigned char **sig, size_t *siglen)
{
    size_t len = 0;
    unsigned char *der;
    if (EVP_DigestSignFinal(md, NULL, &len) <= 0 || (der = OPENSSL_malloc(len)) == NULL) {
        ERR_clear_error();
        return -1;
    }
    if (EVP_DigestSignFinal(md, der, &len) <= 0) {
        OPENSSL_free(der);
        ERR_clear_error();
        return -1;
    }
    return finish_signature(der, len, raw, sig, siglen);
}

int tt_sign_e(EVP_PKEY *k, const unsigned char *e, size_t elen, int raw, unsigned char **sig, size_t *siglen)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
    unsigned char *der = NULL;
    size_t len = 0;
    if (c == NULL || EVP_PKEY_sign_init(c) <= 0 || EVP_PKEY_sign(c, NULL, &len, e, elen) <= 0 ||
        (der = OPENSSL_malloc(len)) == NULL || EVP_PKEY_sign(c, der, &len, e, elen) <= 0) {
        OPENSSL_free(der);
        EVP_PKEY_CTX_free(c);
        ERR_clear_error();
        return -1;
    }
    EVP_PKEY_CTX_free(c);
    return finish_signature(der, len, raw, sig, siglen);
}

/* ---- decryption ---------------------------------------------------------- */

/* Append a DER length. */
static size_t der_len(unsigned char *p, size_t n)
{
    if (n < 0x80) {
        p[0] = (unsigned char)n;
        return 1;
    }
    if (n < 0x100) {
        p[0] = 0x81;
        p[1] = (unsigned char)n;
        return 2;
    }
    if (n < 0x10000) {
        p[0] = 0x82;
        p[1] = (unsigned char)(n >> 8);
        p[2] = (unsigned char)n;
        return 3;
    }
    p[0] = 0x83;
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
    return 4;
}

/* DER INTEGER from a 32-byte unsigned big-endian value. */
static size_t der_uint32b(unsigned char *p, const unsigned char *v)
{
    size_t skip = 0, n, o = 0;
    while (skip < 31 && v[skip] == 0)
        skip++;
    n = 32 - skip;
    p[o++] = 0x02;
    if (v[skip] & 0x80) {
        p[o++] = (unsigned char)(n + 1);
        p[o++] = 0x00;
    } else {
        p[o++] = (unsigned char)n;
    }
    memcpy(p + o, v + skip, n);
    return o + n;
}

/* Raw 04||x||y||C3||C2 (or C1||C2||C3) to GM/T 0009 DER. *der is OPENSSL_malloc'd. */
static int raw_to_der(int format, const unsigned char *in, size_t inlen, unsigned char **der, size_t *derlen)
{
    const unsigned char *x = in + 1, *y = in + 33, *c3, *c2;
    size_t c2len, bodylen, o = 0;
    unsigned char ints[2 * 35], *out;
    size_t ilen;

    if (inlen < 1 + 64 + 32 + 1 || in[0] != 0x04 || inlen > 0xFFFF00)
        return -1;
    c2len = inlen - 97;
    if (format == TT_CIPHER_C1C3C2) {
        c3 = in + 65;
        c2 = in + 97;
    } else {
        c2 = in + 65;
        c3 = in + 65 + c2len;
    }
    ilen = der_uint32b(ints, x);
    ilen += der_uint32b(ints + ilen, y);
    bodylen = ilen + 2 + 32 + 1 + 4 + c2len; /* upper bound on the C2 header */
    out = OPENSSL_malloc(bodylen + 8);
    if (out == NULL)
        return -1;
    /* The body length is exact once the C2 length header size is known. */
    {
        unsigned char tmp[4];
        bodylen = ilen + 2 + 32 + 1 + der_len(tmp, c2len) + c2len;
    }
    out[o++] = 0x30;
    o += der_len(out + o, bodylen);
    memcpy(out + o, ints, ilen);
    o += ilen;
    out[o++] = 0x04;
    out[o++] = 32;
    memcpy(out + o, c3, 32);
    o += 32;
    out[o++] = 0x04;
    o += der_len(out + o, c2len);
    memcpy(out + o, c2, c2len);
    o += c2len;
    *der = out;
    *derlen = o;
    return 0;
}

int tt_sm2_decrypt(EVP_PKEY *k, int format, const unsigned char *in, size_t inlen, unsigned char **out,
                   size_t *outlen)
{
    unsigned char *der = NULL, *pt = NULL;
    const unsigned char *ct = in;
    size_t ctlen = inlen, len = 0;
    EVP_PKEY_CTX *c = NULL;
    int ok = -1;

    if (format != TT_CIPHER_DER) {
        if (raw_to_der(format, in, inlen, &der, &ctlen) != 0)
            return -1;
        ct = der;
    }
    c = EVP_PKEY_CTX_new(k, NULL);
    if (c == NULL || EVP_PKEY_decrypt_init(c) <= 0 || EVP_PKEY_decrypt(c, NULL, &len, ct, ctlen) <= 0)
        goto done;
    pt = OPENSSL_malloc(len ? len : 1);
    if (pt == NULL || EVP_PKEY_decrypt(c, pt, &len, ct, ctlen) <= 0)
        goto done;
    *out = pt;
    *outlen = len;
    pt = NULL;
    ok = 0;
done:
    OPENSSL_free(pt);
    OPENSSL_free(der);
    EVP_PKEY_CTX_free(c);
    ERR_clear_error();
    return ok;
}

void tt_sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL))
        memset(out, 0, 32);
}
