/*
 * sealkit SM2 PKCS#11 test token: shared declarations.
 *
 * THIS IS A TEST TOKEN. Private keys are stored unencrypted in plain files and
 * PINs are stored in plain text or as an unsalted SHA-256. Never put a real key
 * on it. See README.md for the directory layout and token.conf keys.
 *
 * Files:
 *   sealkit_testtoken.c  PKCS#11 entry points, slots, sessions, login, objects
 *   tt_store.c           token.conf parsing and presets, object files, atomic writes
 *   tt_crypto.c          SM2/SM3 through OpenSSL 3 EVP, signature/ciphertext encodings
 */
#ifndef SEALKIT_TT_H
#define SEALKIT_TT_H

#include <stddef.h>
#include <sys/stat.h>
#include <p11-kit/pkcs11.h>
#include <openssl/evp.h>

#define TT_MAX_SLOTS 8

/* Only the C_* functions are exported; everything declared here stays inside the module. */
#pragma GCC visibility push(hidden)

/* DER of OID 1.2.156.10197.1.301 (the SM2 curve), the only CKA_EC_PARAMS we accept. */
extern const unsigned char TT_SM2_EC_PARAMS[10];

/* ---- token.conf ---------------------------------------------------------- */

enum tt_cipher_format { TT_CIPHER_DER = 0, TT_CIPHER_C1C3C2, TT_CIPHER_C1C2C3 };

typedef struct {
    char preset[16];
    char label[33];
    char serial[17];
    char manufacturer[33];
    char model[17];
    int has_user_pin, has_so_pin;
    unsigned char user_pin_hash[32], so_pin_hash[32]; /* SHA-256 of the PIN */
    int max_pin_tries;                                 /* 0 = unlimited */
    int user_pin_failures, so_pin_failures;            /* persisted counters */
    int removed;                                       /* 1 = token pulled out */
    int sig_raw_with_z, sig_raw_digest;                /* 1 = r||s (64 bytes), 0 = DER */
    int cipher_format;                                 /* enum tt_cipher_format */
    int protected_auth;      /* 1 = C_Login with a NULL PIN succeeds (PIN pad) */
    int always_authenticate; /* 1 = private keys need CKU_CONTEXT_SPECIFIC login */
    CK_KEY_TYPE key_type;
    CK_MECHANISM_TYPE keygen_mech, sign_mech_with_z, sign_mech_digest, decrypt_mech, sm3_mech;
} tt_conf;

/* Parse token.conf. Returns 0 on success, -1 with a message in err. */
int tt_conf_load(const char *path, tt_conf *c, char *err, size_t errlen);
/* Rewrite selected keys of token.conf atomically, keeping other lines.
 * keys[i] gets vals[i]; a NULL value deletes the key. Returns 0 or -1. */
int tt_conf_update(const char *path, const char *const *keys, const char *const *vals, size_t n);

/* ---- objects ------------------------------------------------------------- */

typedef struct {
    CK_ATTRIBUTE_TYPE type;
    CK_ULONG len;
    unsigned char *val;
} tt_attr;

typedef struct tt_object {
    struct tt_object *next;
    CK_OBJECT_HANDLE handle;
    CK_OBJECT_CLASS cls;
    int on_token;            /* CKA_TOKEN: persisted in a file */
    CK_SESSION_HANDLE owner; /* session objects: the owning session */
    char file[40];           /* token objects: file name in the token directory */
    tt_attr *attrs;
    size_t nattrs;
    EVP_PKEY *pkey; /* private keys: the key itself */
} tt_object;

tt_attr *tt_attr_find(const tt_object *o, CK_ATTRIBUTE_TYPE t);
int tt_attr_set(tt_object *o, CK_ATTRIBUTE_TYPE t, const void *val, CK_ULONG len);
int tt_attr_set_bool(tt_object *o, CK_ATTRIBUTE_TYPE t, CK_BBOOL v);
int tt_attr_set_ulong(tt_object *o, CK_ATTRIBUTE_TYPE t, CK_ULONG v);
int tt_attr_default_bool(tt_object *o, CK_ATTRIBUTE_TYPE t, CK_BBOOL v); /* only if absent */
int tt_attr_bool(const tt_object *o, CK_ATTRIBUTE_TYPE t, int dflt);
void tt_object_free(tt_object *o);

/* Write a token object to dir/o->file (choosing a new file name if empty). */
int tt_object_save(const char *dir, tt_object *o);
/* Load every *.obj file of dir; prepends to *list. Returns number of files that failed. */
int tt_objects_load(const char *dir, tt_object **list);

/* ---- crypto (tt_crypto.c) ------------------------------------------------ */

EVP_PKEY *tt_sm2_generate(void);
int tt_sm2_is_sm2(EVP_PKEY *k);
/* 65-byte uncompressed point 04||x||y. Returns 0 or -1. */
int tt_sm2_public_point(EVP_PKEY *k, unsigned char out[65]);
/* PKCS#8 DER of the private key (OPENSSL_free the result). */
int tt_sm2_to_pkcs8(EVP_PKEY *k, unsigned char **der, size_t *len);
EVP_PKEY *tt_sm2_from_pkcs8(const unsigned char *der, size_t len);

/* Signature with Z: returns an EVP_MD_CTX ready for EVP_DigestSignUpdate, and the
 * EVP_PKEY_CTX it borrows (free both with tt_sign_z_free). */
int tt_sign_z_init(EVP_PKEY *k, const unsigned char *id, size_t idlen, EVP_MD_CTX **md, EVP_PKEY_CTX **pctx);
void tt_sign_z_free(EVP_MD_CTX *md, EVP_PKEY_CTX *pctx);
/* Finish; *sig is OPENSSL_malloc'd in the requested format. */
int tt_sign_z_final(EVP_MD_CTX *md, int raw, unsigned char **sig, size_t *siglen);
/* Sign a 32-byte e directly. */
int tt_sign_e(EVP_PKEY *k, const unsigned char *e, size_t elen, int raw, unsigned char **sig, size_t *siglen);
/* Decrypt an SM2 ciphertext in the given format; *out is OPENSSL_malloc'd. */
int tt_sm2_decrypt(EVP_PKEY *k, int format, const unsigned char *in, size_t inlen, unsigned char **out,
                   size_t *outlen);

/* ---- helpers ------------------------------------------------------------- */

void tt_sha256(const void *data, size_t len, unsigned char out[32]);
void tt_hex(const unsigned char *in, size_t len, char *out); /* out: 2*len+1 */
/* Decode hex (ignores nothing); returns length or -1. *out is malloc'd. */
long tt_unhex(const char *in, unsigned char **out);
int tt_write_atomic(const char *path, const void *data, size_t len);
void tt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#pragma GCC visibility pop

#endif
