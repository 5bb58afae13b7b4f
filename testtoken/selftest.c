/*
 * A C driver for the test token, to run it under valgrind without Python's noise:
 *     make selftest && valgrind --leak-check=full --error-exitcode=1 ./selftest ./sealkit_testtoken.so DIR
 * DIR must be an empty directory; the driver writes its token.conf. It exercises key generation,
 * the sign/decrypt/digest mechanisms (one-shot, multi-part, length queries), objects, PINs, removal
 * and 4 threads signing at once. Exit status 0 = all checks passed.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <p11-kit/pkcs11.h>

static CK_FUNCTION_LIST_PTR f;
static CK_OBJECT_HANDLE priv, pub;
static int failures;

#define CHECK(expr, want)                                                                                    \
    do {                                                                                                     \
        CK_RV r_ = (expr);                                                                                   \
        if (r_ != (want)) {                                                                                  \
            fprintf(stderr, "%s:%d: %s = 0x%lx, want 0x%lx\n", __FILE__, __LINE__, #expr, (unsigned long)r_,    \
                    (unsigned long)(want));                                                                  \
            failures++;                                                                                      \
        }                                                                                                    \
    } while (0)

static void write_conf(const char *dir, const char *extra)
{
    char path[4200], tmp[4300];
    FILE *fp;
    snprintf(path, sizeof path, "%s/token.conf", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fp = fopen(tmp, "w");
    if (!fp) {
        perror(tmp);
        exit(2);
    }
    fprintf(fp, "preset=sansec\nlabel=SELFTEST\nuser_pin=123456\nso_pin=12345678\nmax_pin_tries=3\n%s", extra);
    fclose(fp);
    rename(tmp, path); /* atomically, as the module expects */
}

static void *signer(void *arg)
{
    CK_SESSION_HANDLE s;
    CK_MECHANISM m = {0x80008100UL, NULL, 0};
    unsigned char sig[80];
    (void)arg;
    CHECK(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
    for (int i = 0; i < 200; i++) {
        CK_ULONG len = sizeof sig;
        CHECK(f->C_SignInit(s, &m, priv), CKR_OK);
        CHECK(f->C_Sign(s, (CK_BYTE_PTR) "thread", 6, sig, &len), CKR_OK);
    }
    CHECK(f->C_CloseSession(s), CKR_OK);
    return NULL;
}

/* Mutex callbacks, for C_Initialize with application locking (no CKF_OS_LOCKING_OK). */
static int app_locks;
static CK_RV create_mutex(CK_VOID_PTR_PTR m)
{
    pthread_mutex_t *p = malloc(sizeof *p);
    if (p == NULL)
        return CKR_HOST_MEMORY;
    pthread_mutex_init(p, NULL);
    *m = p;
    return CKR_OK;
}
static CK_RV destroy_mutex(CK_VOID_PTR m)
{
    pthread_mutex_destroy(m);
    free(m);
    return CKR_OK;
}
static CK_RV lock_mutex(CK_VOID_PTR m)
{
    pthread_mutex_lock(m);
    app_locks++; /* under the lock */
    return CKR_OK;
}
static CK_RV unlock_mutex(CK_VOID_PTR m)
{
    pthread_mutex_unlock(m);
    return CKR_OK;
}

/* SM2-encrypt with the public point, for the decryption check (DER ciphertext). */
static size_t encrypt(const unsigned char *point, const unsigned char *pt, size_t ptlen, unsigned char *out)
{
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL), *ec;
    EVP_PKEY *k = NULL;
    size_t len = 512;
    OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0);
    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point, 65);
    params = OSSL_PARAM_BLD_to_param(b);
    if (EVP_PKEY_fromdata_init(c) <= 0 || EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        len = 0;
    ec = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
    if (!ec || EVP_PKEY_encrypt_init(ec) <= 0 || EVP_PKEY_encrypt(ec, out, &len, pt, ptlen) <= 0)
        len = 0;
    EVP_PKEY_CTX_free(ec);
    EVP_PKEY_free(k);
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(b);
    return len;
}

int main(int argc, char **argv)
{
    void *h;
    CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
    CK_SESSION_HANDLE s;
    CK_SLOT_ID slots[4];
    CK_ULONG n = 4, len;
    CK_BBOOL yes = CK_TRUE;
    CK_OBJECT_CLASS cert_cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE x509 = CKC_X_509;
    CK_MECHANISM keygen = {0x80008001UL, NULL, 0}, with_z = {0x80008100UL, (CK_VOID_PTR) "ALICE", 5},
                 over_e = {0x80008104UL, NULL, 0}, dec = {0x80008201UL, NULL, 0}, sm3 = {0x80009001UL, NULL, 0};
    CK_ATTRIBUTE pubt[] = {{CKA_TOKEN, &yes, 1}, {CKA_LABEL, "k", 1}};
    CK_ATTRIBUTE privt[] = {{CKA_TOKEN, &yes, 1}, {CKA_LABEL, "k", 1}, {CKA_ID, "\x01", 1}};
    CK_ATTRIBUTE certt[] = {{CKA_CLASS, &cert_cls, sizeof cert_cls},
                            {CKA_CERTIFICATE_TYPE, &x509, sizeof x509},
                            {CKA_TOKEN, &yes, 1},
                            {CKA_VALUE, "\x30\x00", 2}};
    unsigned char buf[600], point[67], ct[600], e[32] = {1};
    CK_ATTRIBUTE get_attrs[] = {{CKA_EC_POINT, point, sizeof point}, {CKA_VALUE, buf, sizeof buf}};
    CK_OBJECT_HANDLE found[8], cert;
    pthread_t th[4];
    char env[4200];

    if (argc != 3) {
        fprintf(stderr, "usage: %s MODULE EMPTY_DIR\n", argv[0]);
        return 2;
    }
    write_conf(argv[2], "");
    snprintf(env, sizeof env, "SEALKIT_TESTTOKEN_DIR=%s", argv[2]);
    putenv(env);
    if ((h = dlopen(argv[1], RTLD_NOW)) == NULL || (get = (CK_RV(*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(h, "C_GetFunctionList")) == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 2;
    }
    CHECK(get(&f), CKR_OK);
    CHECK(f->C_Initialize(NULL), CKR_OK);
    CHECK(f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    CHECK(f->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), CKR_OK);
    CHECK(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "000000", 6), CKR_PIN_INCORRECT);
    CHECK(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "123456", 6), CKR_OK);
    CHECK(f->C_GenerateKeyPair(s, &keygen, pubt, 2, privt, 3, &pub, &priv), CKR_OK);
    CHECK(f->C_GetAttributeValue(s, pub, get_attrs, 1), CKR_OK);
    CHECK(f->C_GetAttributeValue(s, priv, get_attrs + 1, 1), CKR_ATTRIBUTE_SENSITIVE);

    /* sign with Z: length query, short buffer, then the signature */
    CHECK(f->C_SignInit(s, &with_z, priv), CKR_OK);
    CHECK(f->C_Sign(s, (CK_BYTE_PTR) "msg", 3, NULL, &len), CKR_OK);
    len = 10;
    CHECK(f->C_Sign(s, (CK_BYTE_PTR) "msg", 3, buf, &len), CKR_BUFFER_TOO_SMALL);
    CHECK(f->C_Sign(s, (CK_BYTE_PTR) "msg", 3, buf, &len), CKR_OK);
    /* multi-part, then abandoned operations (cancel by NULL mechanism, close with an active op) */
    CHECK(f->C_SignInit(s, &with_z, priv), CKR_OK);
    CHECK(f->C_SignUpdate(s, (CK_BYTE_PTR) "ab", 2), CKR_OK);
    len = sizeof buf;
    CHECK(f->C_SignFinal(s, buf, &len), CKR_OK);
    CHECK(f->C_SignInit(s, &over_e, priv), CKR_OK);
    CHECK(f->C_SignInit(s, NULL, priv), CKR_OK);
    CHECK(f->C_SignInit(s, &over_e, priv), CKR_OK);
    len = sizeof buf;
    CHECK(f->C_Sign(s, e, 31, buf, &len), CKR_DATA_LEN_RANGE);
    CHECK(f->C_SignInit(s, &over_e, priv), CKR_OK);
    CHECK(f->C_Sign(s, e, 32, buf, &len), CKR_OK);

    /* decrypt a DER ciphertext (cipher_format is c1c3c2 for sansec: switch to der) */
    write_conf(argv[2], "cipher_format=der\ndecrypt_mech=0x80008201\n");
    len = encrypt(point + 2, (const unsigned char *)"secret", 6, ct);
    CHECK(len > 0 ? CKR_OK : CKR_GENERAL_ERROR, CKR_OK);
    CHECK(f->C_DecryptInit(s, &dec, priv), CKR_OK);
    {
        CK_ULONG outlen = sizeof buf;
        CHECK(f->C_Decrypt(s, ct, len, buf, &outlen), CKR_OK);
        CHECK(outlen == 6 && memcmp(buf, "secret", 6) == 0 ? CKR_OK : CKR_GENERAL_ERROR, CKR_OK);
        CHECK(f->C_DecryptInit(s, &dec, priv), CKR_OK);
        ct[len - 1] ^= 1;
        CHECK(f->C_Decrypt(s, ct, len, buf, &outlen), CKR_ENCRYPTED_DATA_INVALID);
    }
    /* digest */
    CHECK(f->C_DigestInit(s, &sm3), CKR_OK);
    len = sizeof buf;
    CHECK(f->C_Digest(s, (CK_BYTE_PTR) "abc", 3, buf, &len), CKR_OK);
    CHECK(f->C_DigestInit(s, &sm3), CKR_OK); /* left active: freed at close */

    /* objects */
    CHECK(f->C_CreateObject(s, certt, 4, &cert), CKR_OK);
    CHECK(f->C_FindObjectsInit(s, privt + 1, 1), CKR_OK);
    CHECK(f->C_FindObjects(s, found, 8, &n), CKR_OK);
    CHECK(f->C_FindObjectsFinal(s), CKR_OK);
    CHECK(f->C_FindObjectsInit(s, NULL, 0), CKR_OK); /* left active */
    CHECK(f->C_DestroyObject(s, cert), CKR_OK);

    /* threads */
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, signer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);

    /* removal: the session dies, the slot is empty; re-insertion reloads the objects */
    write_conf(argv[2], "removed=1\n");
    CHECK(f->C_SignInit(s, &with_z, priv), CKR_DEVICE_REMOVED);
    n = 4;
    CHECK(f->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    CHECK(n == 0 ? CKR_OK : CKR_GENERAL_ERROR, CKR_OK);
    write_conf(argv[2], "");
    CHECK(f->C_CloseSession(s), CKR_OK);
    CHECK(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
    CHECK(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "123456", 6), CKR_OK);
    CHECK(f->C_FindObjectsInit(s, privt + 1, 1), CKR_OK);
    CHECK(f->C_FindObjects(s, found, 8, &n), CKR_OK);
    CHECK(n == 2 ? CKR_OK : CKR_GENERAL_ERROR, CKR_OK);
    CHECK(f->C_Finalize(NULL), CKR_OK); /* with an open session and an active search */

    /* again with the application's mutex callbacks: they must be used */
    {
        CK_C_INITIALIZE_ARGS args = {create_mutex, destroy_mutex, lock_mutex, unlock_mutex, 0, NULL};
        CHECK(f->C_Initialize(&args), CKR_OK);
        CHECK(f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
        CHECK(f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "123456", 6), CKR_OK);
        CHECK(f->C_FindObjectsInit(s, privt + 2, 1), CKR_OK); /* CKA_ID 01: the private key */
        CHECK(f->C_FindObjects(s, &priv, 1, &n), CKR_OK);
        CHECK(f->C_FindObjectsFinal(s), CKR_OK);
        for (int i = 0; i < 4; i++)
            pthread_create(&th[i], NULL, signer, NULL);
        for (int i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        CHECK(app_locks > 800 ? CKR_OK : CKR_GENERAL_ERROR, CKR_OK);
        CHECK(f->C_Finalize(NULL), CKR_OK);
    }
    dlclose(h);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    else
        printf("selftest: all checks passed\n");
    return failures != 0;
}
