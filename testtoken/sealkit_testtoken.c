/*
 * sealkit SM2 PKCS#11 test token: PKCS#11 v2.40 entry points.
 *
 * A small software token for sealkit's tests, with SM2 mechanisms under the vendor
 * codes of Sansec/TASS, Thales Luna or IBM EP11 style modules (token.conf "preset=").
 * NOT SECURE: keys live unencrypted in files. See README.md.
 *
 * Slots: SEALKIT_TESTTOKEN_DIR, read at C_Initialize, is one token directory or
 * several separated by ':' (slot i = directory i). Each call that touches a slot
 * stats its token.conf and re-reads it when it changed, so a test can edit the file
 * (e.g. removed=1) while the module is loaded.
 *
 * Locking: one global lock around every call: the application's mutex callbacks when
 * it gives them without CKF_OS_LOCKING_OK, a pthread mutex otherwise (also when
 * C_Initialize gets NULL, as python-pkcs11 does).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "tt.h"

#define PIN_MIN 4
#define PIN_MAX 64
#define MAX_ID_LEN 1024 /* SM2 ID (mechanism parameter) */
#define TT_MAX_INPUT (1024 * 1024)

enum { OP_NONE = 0, OP_SIGN_Z = 1, OP_SIGN_E = 2, OP_DECRYPT = 4, OP_DIGEST = 8 };
#define OP_SIGN (OP_SIGN_Z | OP_SIGN_E)

typedef struct {
    char dir[4096];
    char conf_path[4200];
    tt_conf conf;
    struct stat sig; /* of token.conf when last read; st_ino 0 = none */
    int present;
    tt_object *objects;
    int logged_in;
    CK_USER_TYPE user;
} tt_slot;

typedef struct tt_session {
    struct tt_session *next;
    CK_SESSION_HANDLE handle;
    tt_slot *slot;
    CK_FLAGS flags;
    int dead; /* the token was removed under it */
    /* C_FindObjects */
    int finding;
    CK_OBJECT_HANDLE *found;
    size_t nfound, pos;
    /* the one active crypto operation */
    int op;
    int need_ctx_login; /* CKA_ALWAYS_AUTHENTICATE: C_Login(CKU_CONTEXT_SPECIFIC) pending */
    EVP_PKEY *pkey;     /* up-ref'd key of the operation */
    EVP_MD_CTX *md;
    EVP_PKEY_CTX *pctx;
    unsigned char *in; /* accumulated input (sign over e, decrypt) */
    size_t inlen;
    unsigned char *out; /* computed result, kept until the caller has fetched it */
    size_t outlen;
    int have_out;
} tt_session;

static struct {
    int initialized;
    tt_slot *slots;
    size_t nslots;
    tt_session *sessions;
    CK_C_INITIALIZE_ARGS args; /* app mutex callbacks, when used */
    int app_locking;
    void *app_mutex;
} g;

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Handles are never reused, not even after C_Finalize + C_Initialize, so that a stale handle
 * held by an application fails instead of reaching a new object or session. */
static CK_SESSION_HANDLE next_session;
static CK_OBJECT_HANDLE next_object;

static void lock(void)
{
    if (g.app_locking)
        g.args.LockMutex(g.app_mutex);
    else
        pthread_mutex_lock(&g_mutex);
}

static void unlock(void)
{
    if (g.app_locking)
        g.args.UnlockMutex(g.app_mutex);
    else
        pthread_mutex_unlock(&g_mutex);
}

#define ENTER()                                                                                              \
    CK_RV rv;                                                                                                \
    if (!g.initialized)                                                                                      \
        return CKR_CRYPTOKI_NOT_INITIALIZED;                                                                 \
    lock()
#define LEAVE()                                                                                              \
    unlock();                                                                                                \
    return rv

static void pad(CK_UTF8CHAR *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    memset(dst, ' ', cap);
    memcpy(dst, src, n < cap ? n : cap);
}

/* ---- operations and sessions -------------------------------------------- */

static void op_end(tt_session *s)
{
    if (s->md || s->pctx) {
        if (s->op == OP_SIGN_Z)
            tt_sign_z_free(s->md, s->pctx);
        else {
            EVP_MD_CTX_free(s->md);
            EVP_PKEY_CTX_free(s->pctx);
        }
    }
    EVP_PKEY_free(s->pkey);
    if (s->in)
        OPENSSL_clear_free(s->in, s->inlen);
    OPENSSL_free(s->out);
    s->md = NULL;
    s->pctx = NULL;
    s->pkey = NULL;
    s->in = s->out = NULL;
    s->inlen = s->outlen = 0;
    s->have_out = s->need_ctx_login = 0;
    s->op = OP_NONE;
}

static void find_end(tt_session *s)
{
    free(s->found);
    s->found = NULL;
    s->nfound = s->pos = 0;
    s->finding = 0;
}

static CK_RV append_input(tt_session *s, const unsigned char *data, CK_ULONG len)
{
    unsigned char *n;
    if (len == 0)
        return CKR_OK;
    if (data == NULL)
        return CKR_ARGUMENTS_BAD;
    if (s->inlen + len > TT_MAX_INPUT)
        return CKR_DATA_LEN_RANGE;
    n = OPENSSL_realloc(s->in, s->inlen + len);
    if (n == NULL)
        return CKR_HOST_MEMORY;
    memcpy(n + s->inlen, data, len);
    s->in = n;
    s->inlen += len;
    return CKR_OK;
}

/* Hand out s->out with the usual PKCS#11 length-query protocol. */
static CK_RV deliver(tt_session *s, CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
    if (outlen == NULL) {
        op_end(s);
        return CKR_ARGUMENTS_BAD;
    }
    if (out == NULL) {
        *outlen = s->outlen;
        return CKR_OK;
    }
    if (*outlen < s->outlen) {
        *outlen = s->outlen;
        return CKR_BUFFER_TOO_SMALL;
    }
    memcpy(out, s->out, s->outlen);
    *outlen = s->outlen;
    op_end(s);
    return CKR_OK;
}

static void object_unlink(tt_slot *sl, tt_object *o)
{
    tt_object **pp = &sl->objects;
    while (*pp && *pp != o)
        pp = &(*pp)->next;
    if (*pp)
        *pp = o->next;
}

/* Destroy the session objects of session h (all of them when h == 0). */
static void destroy_session_objects(tt_slot *sl, CK_SESSION_HANDLE h, int only_private)
{
    tt_object **pp = &sl->objects;
    while (*pp) {
        tt_object *o = *pp;
        if (!o->on_token && (h == 0 || o->owner == h) && (!only_private || tt_attr_bool(o, CKA_PRIVATE, 0))) {
            *pp = o->next;
            tt_object_free(o);
        } else {
            pp = &o->next;
        }
    }
}

static void logout(tt_slot *sl)
{
    sl->logged_in = 0;
    /* Handles to private objects become invalid and private session objects are destroyed. */
    destroy_session_objects(sl, 0, 1);
    for (tt_object *o = sl->objects; o; o = o->next)
        if (tt_attr_bool(o, CKA_PRIVATE, 0))
            o->handle = ++next_object;
    for (tt_session *s = g.sessions; s; s = s->next)
        if (s->slot == sl && s->op != OP_DIGEST)
            op_end(s);
}

/* The token was removed: its sessions die, its objects are forgotten. */
static void slot_pull(tt_slot *sl)
{
    for (tt_session *s = g.sessions; s; s = s->next)
        if (s->slot == sl && !s->dead) {
            op_end(s);
            find_end(s);
            s->dead = 1;
        }
    while (sl->objects) {
        tt_object *o = sl->objects;
        sl->objects = o->next;
        tt_object_free(o);
    }
    sl->logged_in = 0;
    sl->present = 0;
}

static int object_defaults(tt_object *o);

/* The token was inserted: read its objects. Files written by hand (TestTokenDir.import_private_key)
 * may carry only a few attributes; the rest get the same defaults as C_CreateObject gives. */
static void slot_insert(tt_slot *sl)
{
    tt_objects_load(sl->dir, &sl->objects);
    for (tt_object *o = sl->objects; o; o = o->next) {
        o->handle = ++next_object;
        if (object_defaults(o) != 0)
            tt_log("%s/%s: out of memory", sl->dir, o->file);
    }
    sl->present = 1;
}

/* Re-read token.conf when it changed on disk; handles removal and re-insertion. */
static void slot_refresh(tt_slot *sl)
{
    struct stat st;
    char err[512];
    tt_conf c;

    if (stat(sl->conf_path, &st) != 0) {
        if (sl->sig.st_ino != 0 || sl->present)
            tt_log("%s: %s: token absent", sl->conf_path, strerror(errno));
        memset(&sl->sig, 0, sizeof sl->sig);
        if (sl->present)
            slot_pull(sl);
        return;
    }
    if (sl->sig.st_ino == st.st_ino && sl->sig.st_dev == st.st_dev && sl->sig.st_size == st.st_size &&
        sl->sig.st_mtim.tv_sec == st.st_mtim.tv_sec && sl->sig.st_mtim.tv_nsec == st.st_mtim.tv_nsec)
        return;
    sl->sig = st;
    if (tt_conf_load(sl->conf_path, &c, err, sizeof err) != 0) {
        tt_log("%s: token absent", err);
        if (sl->present)
            slot_pull(sl);
        return;
    }
    sl->conf = c;
    if (c.removed && sl->present)
        slot_pull(sl);
    else if (!c.removed && !sl->present)
        slot_insert(sl);
}

/* After the module rewrote token.conf itself: remember its new identity. */
static void slot_conf_written(tt_slot *sl)
{
    struct stat st;
    if (stat(sl->conf_path, &st) == 0)
        sl->sig = st;
}

static CK_RV get_slot(CK_SLOT_ID id, tt_slot **out)
{
    if (id >= g.nslots)
        return CKR_SLOT_ID_INVALID;
    *out = &g.slots[id];
    slot_refresh(*out);
    return CKR_OK;
}

static CK_RV get_session(CK_SESSION_HANDLE h, tt_session **out)
{
    tt_session *s = g.sessions;
    while (s && s->handle != h)
        s = s->next;
    if (s == NULL)
        return CKR_SESSION_HANDLE_INVALID;
    if (!s->dead)
        slot_refresh(s->slot);
    if (s->dead)
        return CKR_DEVICE_REMOVED;
    *out = s;
    return CKR_OK;
}

static void session_free(tt_session *s)
{
    tt_session **pp = &g.sessions;
    while (*pp && *pp != s)
        pp = &(*pp)->next;
    if (*pp)
        *pp = s->next;
    op_end(s);
    find_end(s);
    free(s);
}

static void session_close(tt_session *s)
{
    tt_slot *sl = s->slot;
    int others = 0;
    if (!s->dead)
        destroy_session_objects(sl, s->handle, 0);
    session_free(s);
    for (tt_session *t = g.sessions; t; t = t->next)
        others += t->slot == sl && !t->dead;
    if (!others && sl->logged_in)
        logout(sl);
}

static int user_logged_in(const tt_slot *sl)
{
    return sl->logged_in && sl->user == CKU_USER;
}

/* ---- objects ------------------------------------------------------------- */

static int visible(const tt_slot *sl, const tt_object *o)
{
    return !tt_attr_bool(o, CKA_PRIVATE, 0) || user_logged_in(sl);
}

static tt_object *find_object(tt_slot *sl, CK_OBJECT_HANDLE h)
{
    for (tt_object *o = sl->objects; o; o = o->next)
        if (o->handle == h)
            return visible(sl, o) ? o : NULL;
    return NULL;
}

static int is_key(const tt_object *o)
{
    return o->cls == CKO_PRIVATE_KEY || o->cls == CKO_PUBLIC_KEY;
}

/* The value of attribute t of o: stored, or computed from the object and token.conf. */
static CK_RV object_attr(const tt_slot *sl, const tt_object *o, CK_ATTRIBUTE_TYPE t, const void **val,
                         CK_ULONG *len, CK_ULONG *ul, CK_BBOOL *b)
{
    const tt_attr *a;
    *len = sizeof(CK_ULONG);
    *val = ul;
    switch (t) {
    case CKA_CLASS:
        *ul = o->cls;
        return CKR_OK;
    case CKA_KEY_TYPE:
        if (!is_key(o))
            break;
        *ul = sl->conf.key_type; /* follows the preset of the token */
        return CKR_OK;
    case CKA_KEY_GEN_MECHANISM:
        if (!is_key(o))
            break;
        *ul = tt_attr_bool(o, CKA_LOCAL, 0) ? sl->conf.keygen_mech : CK_UNAVAILABLE_INFORMATION;
        return CKR_OK;
    case CKA_VALUE:
        if (o->cls == CKO_PRIVATE_KEY)
            return CKR_ATTRIBUTE_SENSITIVE;
        break;
    case CKA_ALWAYS_AUTHENTICATE:
        if (o->cls != CKO_PRIVATE_KEY)
            break;
        *b = sl->conf.always_authenticate ? CK_TRUE : CK_FALSE;
        *val = b;
        *len = 1;
        return CKR_OK;
    default:
        break;
    }
    a = tt_attr_find(o, t);
    if (a == NULL)
        return CKR_ATTRIBUTE_TYPE_INVALID;
    *val = a->val;
    *len = a->len;
    return CKR_OK;
}

static int object_matches(const tt_slot *sl, const tt_object *o, CK_ATTRIBUTE_PTR tpl, CK_ULONG n)
{
    for (CK_ULONG i = 0; i < n; i++) {
        const void *v;
        CK_ULONG len, ul;
        CK_BBOOL b;
        if (object_attr(sl, o, tpl[i].type, &v, &len, &ul, &b) != CKR_OK || len != tpl[i].ulValueLen ||
            (len && (tpl[i].pValue == NULL || memcmp(v, tpl[i].pValue, len) != 0)))
            return 0;
    }
    return 1;
}

static int is_bool_attr(CK_ATTRIBUTE_TYPE t)
{
    switch (t) {
    case CKA_TOKEN: case CKA_PRIVATE: case CKA_MODIFIABLE: case CKA_SENSITIVE: case CKA_EXTRACTABLE:
    case CKA_SIGN: case CKA_VERIFY: case CKA_DECRYPT: case CKA_ENCRYPT: case CKA_WRAP: case CKA_UNWRAP:
    case CKA_DERIVE: case CKA_SIGN_RECOVER: case CKA_VERIFY_RECOVER: case CKA_TRUSTED: case CKA_COPYABLE:
    case CKA_DESTROYABLE: case CKA_WRAP_WITH_TRUSTED: case CKA_ALWAYS_AUTHENTICATE: case CKA_LOCAL:
    case CKA_ALWAYS_SENSITIVE: case CKA_NEVER_EXTRACTABLE:
        return 1;
    default:
        return 0;
    }
}

static int is_ulong_attr(CK_ATTRIBUTE_TYPE t)
{
    return t == CKA_CLASS || t == CKA_KEY_TYPE || t == CKA_CERTIFICATE_TYPE || t == CKA_CERTIFICATE_CATEGORY ||
           t == CKA_KEY_GEN_MECHANISM;
}

enum { TPL_GENERATE, TPL_CREATE };

/* Copy a caller's template into o, checking what this token allows. */
static CK_RV apply_template(const tt_slot *sl, tt_object *o, CK_ATTRIBUTE_PTR tpl, CK_ULONG n, int mode)
{
    if (n && tpl == NULL)
        return CKR_ARGUMENTS_BAD;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_ATTRIBUTE_TYPE t = tpl[i].type;
        const unsigned char *v = tpl[i].pValue;
        CK_ULONG len = tpl[i].ulValueLen;
        if (len && v == NULL)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        if ((is_bool_attr(t) && len != 1) || (is_ulong_attr(t) && len != sizeof(CK_ULONG)))
            return CKR_ATTRIBUTE_VALUE_INVALID;
        switch (t) {
        case CKA_CLASS:
            if (*(const CK_ULONG *)(const void *)v != o->cls)
                return CKR_TEMPLATE_INCONSISTENT;
            continue;
        case CKA_KEY_TYPE:
            if (!is_key(o))
                return CKR_ATTRIBUTE_TYPE_INVALID;
            if (*(const CK_ULONG *)(const void *)v != sl->conf.key_type)
                return CKR_TEMPLATE_INCONSISTENT;
            continue;
        case CKA_TOKEN:
            o->on_token = v[0] != 0;
            break;
        case CKA_EC_PARAMS:
            if (len != sizeof TT_SM2_EC_PARAMS || memcmp(v, TT_SM2_EC_PARAMS, len) != 0)
                return CKR_DOMAIN_PARAMS_INVALID;
            break;
        case CKA_SENSITIVE:
            if (o->cls == CKO_PRIVATE_KEY && !v[0])
                return CKR_ATTRIBUTE_VALUE_INVALID; /* this token never holds non-sensitive keys */
            break;
        case CKA_EXTRACTABLE:
            if (o->cls == CKO_PRIVATE_KEY && v[0])
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        case CKA_LOCAL: case CKA_ALWAYS_SENSITIVE: case CKA_NEVER_EXTRACTABLE: case CKA_KEY_GEN_MECHANISM:
            return CKR_ATTRIBUTE_READ_ONLY;
        case CKA_ALWAYS_AUTHENTICATE:
            continue; /* decided by token.conf */
        case CKA_EC_POINT:
        case CKA_VALUE:
            if (mode == TPL_GENERATE)
                return CKR_ATTRIBUTE_READ_ONLY;
            break;
        default:
            break;
        }
        if (tt_attr_set(o, t, v, len) != 0)
            return CKR_HOST_MEMORY;
    }
    return CKR_OK;
}

/* Fill in what the caller did not say. local: the key was generated on the token. */
static int object_defaults(tt_object *o)
{
    int rc = 0, local = tt_attr_bool(o, CKA_LOCAL, 0);
    static const CK_ULONG zero = 0;
    rc |= tt_attr_set_bool(o, CKA_TOKEN, o->on_token ? CK_TRUE : CK_FALSE);
    rc |= tt_attr_default_bool(o, CKA_PRIVATE, o->cls == CKO_PRIVATE_KEY);
    rc |= tt_attr_default_bool(o, CKA_MODIFIABLE, CK_TRUE);
    rc |= tt_attr_default_bool(o, CKA_DESTROYABLE, CK_TRUE);
    if (!tt_attr_find(o, CKA_LABEL))
        rc |= tt_attr_set(o, CKA_LABEL, "", 0);
    if (o->cls != CKO_DATA && !tt_attr_find(o, CKA_ID))
        rc |= tt_attr_set(o, CKA_ID, "", 0);
    if (is_key(o)) {
        rc |= tt_attr_default_bool(o, CKA_LOCAL, CK_FALSE);
        rc |= tt_attr_default_bool(o, CKA_DERIVE, CK_FALSE);
        if (!tt_attr_find(o, CKA_EC_PARAMS))
            rc |= tt_attr_set(o, CKA_EC_PARAMS, TT_SM2_EC_PARAMS, sizeof TT_SM2_EC_PARAMS);
        if (!tt_attr_find(o, CKA_SUBJECT))
            rc |= tt_attr_set(o, CKA_SUBJECT, "", 0);
        if (!tt_attr_find(o, CKA_START_DATE))
            rc |= tt_attr_set(o, CKA_START_DATE, "", 0);
        if (!tt_attr_find(o, CKA_END_DATE))
            rc |= tt_attr_set(o, CKA_END_DATE, "", 0);
    }
    if (o->cls == CKO_PRIVATE_KEY) {
        rc |= tt_attr_set_bool(o, CKA_SENSITIVE, CK_TRUE);
        rc |= tt_attr_set_bool(o, CKA_EXTRACTABLE, CK_FALSE);
        rc |= tt_attr_default_bool(o, CKA_ALWAYS_SENSITIVE, local ? CK_TRUE : CK_FALSE);
        rc |= tt_attr_default_bool(o, CKA_NEVER_EXTRACTABLE, local ? CK_TRUE : CK_FALSE);
        rc |= tt_attr_default_bool(o, CKA_SIGN, CK_TRUE);
        rc |= tt_attr_default_bool(o, CKA_DECRYPT, CK_TRUE);
        rc |= tt_attr_default_bool(o, CKA_SIGN_RECOVER, CK_FALSE);
        rc |= tt_attr_default_bool(o, CKA_UNWRAP, CK_FALSE);
        rc |= tt_attr_default_bool(o, CKA_WRAP_WITH_TRUSTED, CK_FALSE);
    } else if (o->cls == CKO_PUBLIC_KEY) {
        rc |= tt_attr_default_bool(o, CKA_VERIFY, CK_TRUE);
        rc |= tt_attr_default_bool(o, CKA_ENCRYPT, CK_TRUE);
        rc |= tt_attr_default_bool(o, CKA_VERIFY_RECOVER, CK_FALSE);
        rc |= tt_attr_default_bool(o, CKA_WRAP, CK_FALSE);
        rc |= tt_attr_default_bool(o, CKA_TRUSTED, CK_FALSE);
    } else if (o->cls == CKO_CERTIFICATE) {
        rc |= tt_attr_default_bool(o, CKA_TRUSTED, CK_FALSE);
        if (!tt_attr_find(o, CKA_CERTIFICATE_CATEGORY))
            rc |= tt_attr_set_ulong(o, CKA_CERTIFICATE_CATEGORY, zero);
        if (!tt_attr_find(o, CKA_SUBJECT))
            rc |= tt_attr_set(o, CKA_SUBJECT, "", 0);
        if (!tt_attr_find(o, CKA_ISSUER))
            rc |= tt_attr_set(o, CKA_ISSUER, "", 0);
        if (!tt_attr_find(o, CKA_SERIAL_NUMBER))
            rc |= tt_attr_set(o, CKA_SERIAL_NUMBER, "", 0);
    } else if (o->cls == CKO_DATA) {
        if (!tt_attr_find(o, CKA_APPLICATION))
            rc |= tt_attr_set(o, CKA_APPLICATION, "", 0);
        if (!tt_attr_find(o, CKA_VALUE))
            rc |= tt_attr_set(o, CKA_VALUE, "", 0);
    }
    return rc ? -1 : 0;
}

static tt_object *object_new(CK_OBJECT_CLASS cls, CK_SESSION_HANDLE owner)
{
    tt_object *o = calloc(1, sizeof *o);
    if (o) {
        o->cls = cls;
        o->owner = owner;
    }
    return o;
}

/* Store (when a token object) and publish o with a new handle. */
static CK_RV object_publish(tt_slot *sl, tt_object *o, CK_OBJECT_HANDLE_PTR h)
{
    if (o->on_token && tt_object_save(sl->dir, o) != 0) {
        tt_log("%s: cannot write object file: %s", sl->dir, strerror(errno));
        return CKR_DEVICE_ERROR;
    }
    o->handle = ++next_object;
    o->next = sl->objects;
    sl->objects = o;
    *h = o->handle;
    return CKR_OK;
}

static void object_unsave(tt_slot *sl, tt_object *o)
{
    char path[4200];
    if (!o->on_token || !o->file[0])
        return;
    snprintf(path, sizeof path, "%s/%s", sl->dir, o->file);
    if (unlink(path) != 0 && errno != ENOENT)
        tt_log("%s: cannot remove: %s", path, strerror(errno));
}

/* ---- PIN ----------------------------------------------------------------- */

static void persist_failures(tt_slot *sl, int so)
{
    const char *key = so ? "so_pin_failures" : "user_pin_failures";
    char val[16];
    const char *vals[1] = {val};
    snprintf(val, sizeof val, "%d", so ? sl->conf.so_pin_failures : sl->conf.user_pin_failures);
    if (tt_conf_update(sl->conf_path, &key, vals, 1) != 0)
        tt_log("%s: cannot persist the PIN counter: %s", sl->conf_path, strerror(errno));
    slot_conf_written(sl);
}

/* Check a PIN, counting failures in token.conf. A NULL PIN means the PIN pad (protected_auth). */
static CK_RV check_pin(tt_slot *sl, int so, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    tt_conf *c = &sl->conf;
    int *fails = so ? &c->so_pin_failures : &c->user_pin_failures;
    unsigned char h[32];

    if (!(so ? c->has_so_pin : c->has_user_pin))
        return so ? CKR_PIN_INCORRECT : CKR_USER_PIN_NOT_INITIALIZED;
    if (c->max_pin_tries && *fails >= c->max_pin_tries)
        return CKR_PIN_LOCKED;
    if (pin == NULL) {
        if (!c->protected_auth)
            return CKR_ARGUMENTS_BAD;
        return CKR_OK; /* the simulated PIN pad always gets the right PIN */
    }
    tt_sha256(pin, len, h);
    if (CRYPTO_memcmp(h, so ? c->so_pin_hash : c->user_pin_hash, 32) == 0) {
        if (*fails) {
            *fails = 0;
            persist_failures(sl, so);
        }
        return CKR_OK;
    }
    (*fails)++;
    persist_failures(sl, so);
    return (c->max_pin_tries && *fails >= c->max_pin_tries) ? CKR_PIN_LOCKED : CKR_PIN_INCORRECT;
}

static CK_FLAGS pin_flags(int fails, int max, CK_FLAGS low, CK_FLAGS final, CK_FLAGS locked)
{
    if (max && fails >= max)
        return locked;
    return (fails ? low : 0) | ((max && max - fails == 1) ? final : 0);
}

static CK_RV set_pin(tt_slot *sl, int so, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
    unsigned char h[32];
    char hx[65];
    const char *keys[3], *vals[3];
    if (pin == NULL || len < PIN_MIN || len > PIN_MAX)
        return CKR_PIN_LEN_RANGE;
    tt_sha256(pin, len, h);
    tt_hex(h, 32, hx);
    keys[0] = so ? "so_pin" : "user_pin";
    keys[1] = so ? "so_pin_sha256" : "user_pin_sha256";
    keys[2] = so ? "so_pin_failures" : "user_pin_failures";
    vals[0] = NULL;
    vals[1] = hx;
    vals[2] = "0";
    if (tt_conf_update(sl->conf_path, keys, vals, 3) != 0)
        return CKR_DEVICE_ERROR;
    slot_conf_written(sl);
    memcpy(so ? sl->conf.so_pin_hash : sl->conf.user_pin_hash, h, 32);
    if (so) {
        sl->conf.has_so_pin = 1;
        sl->conf.so_pin_failures = 0;
    } else {
        sl->conf.has_user_pin = 1;
        sl->conf.user_pin_failures = 0;
    }
    return CKR_OK;
}

/* ==== PKCS#11: general ===================================================== */

CK_RV C_Initialize(CK_VOID_PTR pInitArgs)
{
    CK_C_INITIALIZE_ARGS *a = pInitArgs;
    const char *env;
    char *dirs, *tok, *save = NULL;

    if (g.initialized)
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    memset(&g, 0, sizeof g);
    if (a) {
        int some = a->CreateMutex || a->DestroyMutex || a->LockMutex || a->UnlockMutex;
        int all = a->CreateMutex && a->DestroyMutex && a->LockMutex && a->UnlockMutex;
        if (a->pReserved != NULL || (some && !all))
            return CKR_ARGUMENTS_BAD;
        if (all && !(a->flags & CKF_OS_LOCKING_OK)) {
            g.args = *a;
            if (a->CreateMutex(&g.app_mutex) != CKR_OK)
                return CKR_CANT_LOCK;
            g.app_locking = 1;
        }
    }
    g.slots = calloc(TT_MAX_SLOTS, sizeof *g.slots);
    env = getenv("SEALKIT_TESTTOKEN_DIR");
    dirs = strdup(env ? env : "");
    if (g.slots == NULL || dirs == NULL) {
        free(g.slots);
        free(dirs);
        return CKR_HOST_MEMORY;
    }
    for (tok = strtok_r(dirs, ":", &save); tok && g.nslots < TT_MAX_SLOTS; tok = strtok_r(NULL, ":", &save)) {
        tt_slot *sl = &g.slots[g.nslots++];
        snprintf(sl->dir, sizeof sl->dir, "%s", tok);
        snprintf(sl->conf_path, sizeof sl->conf_path, "%s/token.conf", tok);
        slot_refresh(sl);
    }
    if (g.nslots == 0)
        tt_log("SEALKIT_TESTTOKEN_DIR is not set: no slots");
    free(dirs);
    g.initialized = 1;
    return CKR_OK;
}

CK_RV C_Finalize(CK_VOID_PTR pReserved)
{
    if (pReserved != NULL)
        return CKR_ARGUMENTS_BAD;
    if (!g.initialized)
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    lock();
    while (g.sessions)
        session_free(g.sessions);
    for (size_t i = 0; i < g.nslots; i++)
        slot_pull(&g.slots[i]);
    free(g.slots);
    g.slots = NULL;
    g.initialized = 0;
    unlock();
    if (g.app_locking)
        g.args.DestroyMutex(g.app_mutex);
    g.app_locking = 0;
    return CKR_OK;
}

CK_RV C_GetInfo(CK_INFO_PTR pInfo)
{
    if (!g.initialized)
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (pInfo == NULL)
        return CKR_ARGUMENTS_BAD;
    memset(pInfo, 0, sizeof *pInfo);
    pInfo->cryptokiVersion.major = 2;
    pInfo->cryptokiVersion.minor = 40;
    pad(pInfo->manufacturerID, sizeof pInfo->manufacturerID, "sealkit");
    pad(pInfo->libraryDescription, sizeof pInfo->libraryDescription, "sealkit SM2 TEST (NOT SECURE)");
    pInfo->libraryVersion.major = 1;
    return CKR_OK;
}

/* ==== slots and tokens ===================================================== */

CK_RV C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
    CK_ULONG n = 0;
    ENTER();
    rv = CKR_OK;
    if (pulCount == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    for (size_t i = 0; i < g.nslots; i++) {
        slot_refresh(&g.slots[i]);
        if (tokenPresent && !g.slots[i].present)
            continue;
        if (pSlotList && n < *pulCount)
            pSlotList[n] = i;
        n++;
    }
    if (pSlotList && n > *pulCount)
        rv = CKR_BUFFER_TOO_SMALL;
    *pulCount = n;
out:
    LEAVE();
}

CK_RV C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
    tt_slot *sl;
    char desc[80];
    ENTER();
    if ((rv = get_slot(slotID, &sl)) == CKR_OK && pInfo == NULL)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK) {
        memset(pInfo, 0, sizeof *pInfo);
        snprintf(desc, sizeof desc, "sealkit SM2 test token slot %lu", (unsigned long)slotID);
        pad(pInfo->slotDescription, sizeof pInfo->slotDescription, desc);
        pad(pInfo->manufacturerID, sizeof pInfo->manufacturerID, "sealkit");
        pInfo->flags = CKF_REMOVABLE_DEVICE | CKF_HW_SLOT | (sl->present ? CKF_TOKEN_PRESENT : 0);
        pInfo->hardwareVersion.major = 1;
        pInfo->firmwareVersion.major = 1;
    }
    LEAVE();
}

CK_RV C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
    tt_slot *sl;
    tt_conf *c;
    CK_ULONG nsess = 0, nrw = 0;
    ENTER();
    if ((rv = get_slot(slotID, &sl)) == CKR_OK && pInfo == NULL)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK && !sl->present)
        rv = CKR_TOKEN_NOT_PRESENT;
    if (rv != CKR_OK)
        goto out;
    c = &sl->conf;
    for (tt_session *s = g.sessions; s; s = s->next)
        if (s->slot == sl && !s->dead) {
            nsess++;
            nrw += (s->flags & CKF_RW_SESSION) != 0;
        }
    memset(pInfo, 0, sizeof *pInfo);
    pad(pInfo->label, sizeof pInfo->label, c->label);
    pad(pInfo->manufacturerID, sizeof pInfo->manufacturerID, c->manufacturer);
    pad(pInfo->model, sizeof pInfo->model, c->model);
    pad(pInfo->serialNumber, sizeof pInfo->serialNumber, c->serial);
    pInfo->flags = CKF_RNG | CKF_LOGIN_REQUIRED | CKF_TOKEN_INITIALIZED;
    if (c->has_user_pin)
        pInfo->flags |= CKF_USER_PIN_INITIALIZED;
    if (c->protected_auth)
        pInfo->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
    pInfo->flags |= pin_flags(c->user_pin_failures, c->max_pin_tries, CKF_USER_PIN_COUNT_LOW,
                              CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED);
    pInfo->flags |= pin_flags(c->so_pin_failures, c->max_pin_tries, CKF_SO_PIN_COUNT_LOW, CKF_SO_PIN_FINAL_TRY,
                              CKF_SO_PIN_LOCKED);
    pInfo->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
    pInfo->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
    pInfo->ulSessionCount = nsess;
    pInfo->ulRwSessionCount = nrw;
    pInfo->ulMaxPinLen = PIN_MAX;
    pInfo->ulMinPinLen = PIN_MIN;
    pInfo->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->hardwareVersion.major = 1;
    pInfo->firmwareVersion.major = 1;
    memset(pInfo->utcTime, ' ', sizeof pInfo->utcTime);
out:
    LEAVE();
}

/* The mechanisms of a token: {type, flags}; zero codes (absent in the preset) are skipped. */
static size_t token_mechanisms(const tt_conf *c, CK_MECHANISM_TYPE *types, CK_FLAGS *flags)
{
    const CK_FLAGS ec = CKF_HW | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;
    const CK_MECHANISM_TYPE t[5] = {c->keygen_mech, c->sign_mech_with_z, c->sign_mech_digest, c->decrypt_mech,
                                    c->sm3_mech};
    const CK_FLAGS f[5] = {ec | CKF_GENERATE_KEY_PAIR, ec | CKF_SIGN, ec | CKF_SIGN, ec | CKF_DECRYPT,
                           CKF_HW | CKF_DIGEST};
    size_t n = 0;
    for (size_t i = 0; i < 5; i++) {
        size_t j;
        if (t[i] == 0)
            continue;
        for (j = 0; j < n && types[j] != t[i]; j++)
            ;
        if (j == n) {
            types[n] = t[i];
            flags[n++] = f[i];
        } else {
            flags[j] |= f[i];
        }
    }
    return n;
}

CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList, CK_ULONG_PTR pulCount)
{
    tt_slot *sl;
    CK_MECHANISM_TYPE types[5];
    CK_FLAGS flags[5];
    size_t n;
    ENTER();
    if ((rv = get_slot(slotID, &sl)) == CKR_OK && pulCount == NULL)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK && !sl->present)
        rv = CKR_TOKEN_NOT_PRESENT;
    if (rv != CKR_OK)
        goto out;
    n = token_mechanisms(&sl->conf, types, flags);
    if (pMechanismList && *pulCount < n)
        rv = CKR_BUFFER_TOO_SMALL;
    else if (pMechanismList)
        memcpy(pMechanismList, types, n * sizeof *types);
    *pulCount = n;
out:
    LEAVE();
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
    tt_slot *sl;
    CK_MECHANISM_TYPE types[5];
    CK_FLAGS flags[5];
    size_t n;
    ENTER();
    if ((rv = get_slot(slotID, &sl)) == CKR_OK && pInfo == NULL)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK && !sl->present)
        rv = CKR_TOKEN_NOT_PRESENT;
    if (rv != CKR_OK)
        goto out;
    n = token_mechanisms(&sl->conf, types, flags);
    rv = CKR_MECHANISM_INVALID;
    for (size_t i = 0; i < n; i++)
        if (types[i] == type) {
            int digest = type == sl->conf.sm3_mech && flags[i] == (CKF_HW | CKF_DIGEST);
            pInfo->ulMinKeySize = digest ? 0 : 256;
            pInfo->ulMaxKeySize = digest ? 0 : 256;
            pInfo->flags = flags[i];
            rv = CKR_OK;
        }
out:
    LEAVE();
}

/* ==== sessions and login =================================================== */

CK_RV C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
                    CK_SESSION_HANDLE_PTR phSession)
{
    tt_slot *sl;
    tt_session *s;
    (void)pApplication;
    (void)Notify; /* no callbacks: this token never notifies */
    ENTER();
    if ((rv = get_slot(slotID, &sl)) != CKR_OK)
        goto out;
    if (phSession == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (!(flags & CKF_SERIAL_SESSION))
        rv = CKR_SESSION_PARALLEL_NOT_SUPPORTED;
    else if (!sl->present)
        rv = CKR_TOKEN_NOT_PRESENT;
    else if (sl->logged_in && sl->user == CKU_SO && !(flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_WRITE_SO_EXISTS;
    else if ((s = calloc(1, sizeof *s)) == NULL)
        rv = CKR_HOST_MEMORY;
    else {
        s->handle = ++next_session;
        s->slot = sl;
        s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
        s->next = g.sessions;
        g.sessions = s;
        *phSession = s->handle;
    }
out:
    LEAVE();
}

CK_RV C_CloseSession(CK_SESSION_HANDLE hSession)
{
    tt_session *s = NULL;
    ENTER();
    rv = get_session(hSession, &s);
    if (rv == CKR_DEVICE_REMOVED) { /* a dead session can still be closed */
        for (s = g.sessions; s && s->handle != hSession; s = s->next)
            ;
        rv = CKR_OK;
    }
    if (rv == CKR_OK)
        session_close(s);
    LEAVE();
}

CK_RV C_CloseAllSessions(CK_SLOT_ID slotID)
{
    tt_slot *sl;
    ENTER();
    if ((rv = get_slot(slotID, &sl)) == CKR_OK) {
        tt_session *s = g.sessions, *next;
        for (; s; s = next) {
            next = s->next;
            if (s->slot == sl)
                session_close(s);
        }
    }
    LEAVE();
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
    tt_session *s;
    ENTER();
    if ((rv = get_session(hSession, &s)) == CKR_OK && pInfo == NULL)
        rv = CKR_ARGUMENTS_BAD;
    if (rv == CKR_OK) {
        int rw = (s->flags & CKF_RW_SESSION) != 0;
        tt_slot *sl = s->slot;
        pInfo->slotID = (CK_SLOT_ID)(sl - g.slots);
        pInfo->flags = s->flags;
        pInfo->ulDeviceError = 0;
        if (sl->logged_in && sl->user == CKU_SO)
            pInfo->state = CKS_RW_SO_FUNCTIONS;
        else if (sl->logged_in)
            pInfo->state = rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
        else
            pInfo->state = rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
    }
    LEAVE();
}

CK_RV C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    tt_session *s;
    tt_slot *sl;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    sl = s->slot;
    if (userType == CKU_CONTEXT_SPECIFIC) {
        if (!s->need_ctx_login)
            rv = CKR_OPERATION_NOT_INITIALIZED;
        else if ((rv = check_pin(sl, 0, pPin, ulPinLen)) == CKR_OK)
            s->need_ctx_login = 0;
        goto out;
    }
    if (userType != CKU_USER && userType != CKU_SO) {
        rv = CKR_USER_TYPE_INVALID;
        goto out;
    }
    if (sl->logged_in) {
        rv = sl->user == userType ? CKR_USER_ALREADY_LOGGED_IN : CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
        goto out;
    }
    if (userType == CKU_SO)
        for (tt_session *t = g.sessions; t; t = t->next)
            if (t->slot == sl && !t->dead && !(t->flags & CKF_RW_SESSION)) {
                rv = CKR_SESSION_READ_ONLY_EXISTS;
                goto out;
            }
    if ((rv = check_pin(sl, userType == CKU_SO, pPin, ulPinLen)) == CKR_OK) {
        sl->logged_in = 1;
        sl->user = userType;
    }
out:
    LEAVE();
}

CK_RV C_Logout(CK_SESSION_HANDLE hSession)
{
    tt_session *s;
    ENTER();
    if ((rv = get_session(hSession, &s)) == CKR_OK) {
        if (!s->slot->logged_in)
            rv = CKR_USER_NOT_LOGGED_IN;
        else
            logout(s->slot);
    }
    LEAVE();
}

CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    tt_session *s;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    if (!s->slot->logged_in || s->slot->user != CKU_SO)
        rv = CKR_USER_NOT_LOGGED_IN;
    else if (!(s->flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_ONLY;
    else
        rv = set_pin(s->slot, 0, pPin, ulPinLen);
out:
    LEAVE();
}

CK_RV C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin,
               CK_ULONG ulNewLen)
{
    tt_session *s;
    int so;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    so = s->slot->logged_in && s->slot->user == CKU_SO;
    if (!(s->flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_ONLY;
    else if (pOldPin == NULL || pNewPin == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if ((rv = check_pin(s->slot, so, pOldPin, ulOldLen)) == CKR_OK)
        rv = set_pin(s->slot, so, pNewPin, ulNewLen);
out:
    LEAVE();
}

/* ==== objects ============================================================== */

CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                     CK_OBJECT_HANDLE_PTR phObject)
{
    tt_session *s;
    tt_object *o = NULL;
    CK_OBJECT_CLASS cls = (CK_OBJECT_CLASS)-1;
    const tt_attr *a;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    if (phObject == NULL || (ulCount && pTemplate == NULL)) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    for (CK_ULONG i = 0; i < ulCount; i++)
        if (pTemplate[i].type == CKA_CLASS && pTemplate[i].ulValueLen == sizeof cls && pTemplate[i].pValue)
            memcpy(&cls, pTemplate[i].pValue, sizeof cls);
    if (cls == CKO_PRIVATE_KEY) {
        tt_log("C_CreateObject: private keys cannot be imported; use TestTokenDir.import_private_key");
        rv = CKR_TEMPLATE_INCONSISTENT;
        goto out;
    }
    if (cls != CKO_CERTIFICATE && cls != CKO_DATA && cls != CKO_PUBLIC_KEY) {
        rv = cls == (CK_OBJECT_CLASS)-1 ? CKR_TEMPLATE_INCOMPLETE : CKR_ATTRIBUTE_VALUE_INVALID;
        goto out;
    }
    if ((o = object_new(cls, hSession)) == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if ((rv = apply_template(s->slot, o, pTemplate, ulCount, TPL_CREATE)) != CKR_OK)
        goto out;
    if (cls == CKO_CERTIFICATE) {
        a = tt_attr_find(o, CKA_CERTIFICATE_TYPE);
        if (a == NULL || tt_attr_find(o, CKA_VALUE) == NULL)
            rv = CKR_TEMPLATE_INCOMPLETE;
        else if (*(const CK_ULONG *)(const void *)a->val != CKC_X_509)
            rv = CKR_ATTRIBUTE_VALUE_INVALID;
    } else if (cls == CKO_PUBLIC_KEY) {
        int has_key_type = 0; /* checked by apply_template, not stored */
        for (CK_ULONG i = 0; i < ulCount; i++)
            has_key_type |= pTemplate[i].type == CKA_KEY_TYPE;
        if (tt_attr_find(o, CKA_EC_POINT) == NULL || !has_key_type)
            rv = CKR_TEMPLATE_INCOMPLETE;
    }
    if (rv != CKR_OK)
        goto out;
    if (object_defaults(o) != 0) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if (o->on_token && !(s->flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_ONLY;
    else if (tt_attr_bool(o, CKA_PRIVATE, 0) && !user_logged_in(s->slot))
        rv = CKR_USER_NOT_LOGGED_IN;
    else if ((rv = object_publish(s->slot, o, phObject)) == CKR_OK)
        o = NULL;
out:
    tt_object_free(o);
    LEAVE();
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
    tt_session *s;
    tt_object *o;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    if ((o = find_object(s->slot, hObject)) == NULL)
        rv = CKR_OBJECT_HANDLE_INVALID;
    else if (o->on_token && !(s->flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_ONLY;
    else if (!tt_attr_bool(o, CKA_DESTROYABLE, 1))
        rv = CKR_ACTION_PROHIBITED;
    else {
        object_unsave(s->slot, o);
        object_unlink(s->slot, o);
        tt_object_free(o);
    }
out:
    LEAVE();
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                          CK_ULONG ulCount)
{
    tt_session *s;
    tt_object *o;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    if (ulCount && pTemplate == NULL) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    if ((o = find_object(s->slot, hObject)) == NULL) {
        rv = CKR_OBJECT_HANDLE_INVALID;
        goto out;
    }
    /* Per the spec: fill in what can be, flag the others, report the last problem. */
    for (CK_ULONG i = 0; i < ulCount; i++) {
        const void *v;
        CK_ULONG len, ul;
        CK_BBOOL b;
        CK_RV r = object_attr(s->slot, o, pTemplate[i].type, &v, &len, &ul, &b);
        if (r != CKR_OK) {
            pTemplate[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            rv = r;
        } else if (pTemplate[i].pValue == NULL) {
            pTemplate[i].ulValueLen = len;
        } else if (pTemplate[i].ulValueLen < len) {
            pTemplate[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            rv = CKR_BUFFER_TOO_SMALL;
        } else {
            memcpy(pTemplate[i].pValue, v, len);
            pTemplate[i].ulValueLen = len;
        }
    }
out:
    LEAVE();
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
                          CK_ULONG ulCount)
{
    tt_session *s;
    tt_object *o;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    if ((o = find_object(s->slot, hObject)) == NULL) {
        rv = CKR_OBJECT_HANDLE_INVALID;
        goto out;
    }
    if (ulCount && pTemplate == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (o->on_token && !(s->flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_ONLY;
    else if (!tt_attr_bool(o, CKA_MODIFIABLE, 1))
        rv = CKR_ACTION_PROHIBITED;
    for (CK_ULONG i = 0; rv == CKR_OK && i < ulCount; i++) {
        CK_ATTRIBUTE_TYPE t = pTemplate[i].type;
        if (t != CKA_LABEL && t != CKA_ID && t != CKA_SUBJECT && t != CKA_START_DATE && t != CKA_END_DATE &&
            t != CKA_APPLICATION)
            rv = CKR_ATTRIBUTE_READ_ONLY;
        else if (pTemplate[i].ulValueLen && pTemplate[i].pValue == NULL)
            rv = CKR_ATTRIBUTE_VALUE_INVALID;
    }
    for (CK_ULONG i = 0; rv == CKR_OK && i < ulCount; i++)
        if (tt_attr_set(o, pTemplate[i].type, pTemplate[i].pValue, pTemplate[i].ulValueLen) != 0)
            rv = CKR_HOST_MEMORY;
    if (rv == CKR_OK && o->on_token && tt_object_save(s->slot->dir, o) != 0)
        rv = CKR_DEVICE_ERROR;
out:
    LEAVE();
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    tt_session *s;
    size_t n = 0;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    if (s->finding)
        rv = CKR_OPERATION_ACTIVE;
    else if (ulCount && pTemplate == NULL)
        rv = CKR_ARGUMENTS_BAD;
    if (rv != CKR_OK)
        goto out;
    for (tt_object *o = s->slot->objects; o; o = o->next)
        n++;
    s->found = calloc(n ? n : 1, sizeof *s->found);
    if (s->found == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    for (tt_object *o = s->slot->objects; o; o = o->next)
        if (visible(s->slot, o) && object_matches(s->slot, o, pTemplate, ulCount))
            s->found[s->nfound++] = o->handle;
    s->finding = 1;
out:
    LEAVE();
}

CK_RV C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject, CK_ULONG ulMaxObjectCount,
                    CK_ULONG_PTR pulObjectCount)
{
    tt_session *s;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    if (!s->finding)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else if (pulObjectCount == NULL || (ulMaxObjectCount && phObject == NULL))
        rv = CKR_ARGUMENTS_BAD;
    else {
        CK_ULONG n = 0;
        while (n < ulMaxObjectCount && s->pos < s->nfound)
            phObject[n++] = s->found[s->pos++];
        *pulObjectCount = n;
    }
out:
    LEAVE();
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
    tt_session *s;
    ENTER();
    if ((rv = get_session(hSession, &s)) == CKR_OK) {
        if (!s->finding)
            rv = CKR_OPERATION_NOT_INITIALIZED;
        find_end(s);
    }
    LEAVE();
}

/* ==== key generation ======================================================= */

CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_ATTRIBUTE_PTR pPublicKeyTemplate,
                        CK_ULONG ulPublicKeyAttributeCount, CK_ATTRIBUTE_PTR pPrivateKeyTemplate,
                        CK_ULONG ulPrivateKeyAttributeCount, CK_OBJECT_HANDLE_PTR phPublicKey,
                        CK_OBJECT_HANDLE_PTR phPrivateKey)
{
    tt_session *s;
    tt_slot *sl;
    tt_object *pub = NULL, *priv = NULL;
    unsigned char point[2 + 65];
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    sl = s->slot;
    if (pMechanism == NULL || phPublicKey == NULL || phPrivateKey == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (pMechanism->mechanism != sl->conf.keygen_mech || sl->conf.keygen_mech == 0)
        rv = CKR_MECHANISM_INVALID;
    else if (pMechanism->ulParameterLen != 0)
        rv = CKR_MECHANISM_PARAM_INVALID;
    else if (!user_logged_in(sl))
        rv = CKR_USER_NOT_LOGGED_IN;
    else if ((pub = object_new(CKO_PUBLIC_KEY, hSession)) == NULL ||
             (priv = object_new(CKO_PRIVATE_KEY, hSession)) == NULL)
        rv = CKR_HOST_MEMORY;
    if (rv != CKR_OK)
        goto out;
    if ((rv = apply_template(sl, pub, pPublicKeyTemplate, ulPublicKeyAttributeCount, TPL_GENERATE)) != CKR_OK ||
        (rv = apply_template(sl, priv, pPrivateKeyTemplate, ulPrivateKeyAttributeCount, TPL_GENERATE)) != CKR_OK)
        goto out;
    if ((pub->on_token || priv->on_token) && !(s->flags & CKF_RW_SESSION)) {
        rv = CKR_SESSION_READ_ONLY;
        goto out;
    }
    if ((priv->pkey = tt_sm2_generate()) == NULL || tt_sm2_public_point(priv->pkey, point + 2) != 0) {
        rv = CKR_DEVICE_ERROR;
        goto out;
    }
    point[0] = 0x04; /* CKA_EC_POINT is the DER OCTET STRING of the point */
    point[1] = 65;
    if (tt_attr_set(pub, CKA_EC_POINT, point, sizeof point) || tt_attr_set_bool(pub, CKA_LOCAL, CK_TRUE) ||
        tt_attr_set_bool(priv, CKA_LOCAL, CK_TRUE) || object_defaults(pub) || object_defaults(priv)) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if ((rv = object_publish(sl, pub, phPublicKey)) != CKR_OK)
        goto out;
    if ((rv = object_publish(sl, priv, phPrivateKey)) != CKR_OK) {
        object_unsave(sl, pub);
        object_unlink(sl, pub);
        goto out; /* pub is freed below */
    }
    pub = priv = NULL;
out:
    tt_object_free(pub);
    tt_object_free(priv);
    LEAVE();
}

/* ==== signing ============================================================== */

/* Common part of C_SignInit / C_DecryptInit: the key and the operation slot. */
static CK_RV key_op_init(tt_session *s, CK_OBJECT_HANDLE hKey, CK_ATTRIBUTE_TYPE usage, tt_object **key)
{
    tt_object *o;
    if (s->op != OP_NONE)
        return CKR_OPERATION_ACTIVE;
    if (!user_logged_in(s->slot))
        return CKR_USER_NOT_LOGGED_IN;
    if ((o = find_object(s->slot, hKey)) == NULL || o->cls != CKO_PRIVATE_KEY || o->pkey == NULL)
        return CKR_KEY_HANDLE_INVALID;
    if (!tt_attr_bool(o, usage, 0))
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    *key = o;
    return CKR_OK;
}

CK_RV C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    tt_session *s;
    tt_object *k;
    const tt_conf *c;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    c = &s->slot->conf;
    if (pMechanism == NULL) { /* PKCS#11 3.0 style cancel */
        if (s->op & OP_SIGN)
            op_end(s);
        else
            rv = CKR_OPERATION_NOT_INITIALIZED;
        goto out;
    }
    if ((rv = key_op_init(s, hKey, CKA_SIGN, &k)) != CKR_OK)
        goto out;
    if (pMechanism->ulParameterLen && pMechanism->pParameter == NULL)
        rv = CKR_MECHANISM_PARAM_INVALID;
    else if (c->sign_mech_with_z && pMechanism->mechanism == c->sign_mech_with_z) {
        /* The parameter, when given, is the signer's ID; empty means 1234567812345678. */
        if (pMechanism->ulParameterLen > MAX_ID_LEN)
            rv = CKR_MECHANISM_PARAM_INVALID;
        else if (tt_sign_z_init(k->pkey, pMechanism->pParameter, pMechanism->ulParameterLen, &s->md, &s->pctx))
            rv = CKR_DEVICE_ERROR;
        else
            s->op = OP_SIGN_Z;
    } else if (c->sign_mech_digest && pMechanism->mechanism == c->sign_mech_digest) {
        if (pMechanism->ulParameterLen)
            rv = CKR_MECHANISM_PARAM_INVALID;
        else
            s->op = OP_SIGN_E;
    } else {
        rv = CKR_MECHANISM_INVALID;
    }
    if (rv == CKR_OK) {
        EVP_PKEY_up_ref(k->pkey);
        s->pkey = k->pkey;
        s->need_ctx_login = c->always_authenticate;
    }
out:
    LEAVE();
}

static CK_RV sign_compute(tt_session *s)
{
    const tt_conf *c = &s->slot->conf;
    int rc;
    if (s->have_out)
        return CKR_OK;
    if (s->op == OP_SIGN_Z) {
        rc = tt_sign_z_final(s->md, c->sig_raw_with_z, &s->out, &s->outlen);
    } else {
        if (s->inlen != 32)
            return CKR_DATA_LEN_RANGE;
        rc = tt_sign_e(s->pkey, s->in, s->inlen, c->sig_raw_digest, &s->out, &s->outlen);
    }
    if (rc != 0)
        return CKR_FUNCTION_FAILED;
    s->have_out = 1;
    return CKR_OK;
}

static CK_RV sign_update(tt_session *s, CK_BYTE_PTR data, CK_ULONG len)
{
    if (len && data == NULL)
        return CKR_ARGUMENTS_BAD;
    if (s->op == OP_SIGN_E)
        return append_input(s, data, len);
    return EVP_DigestSignUpdate(s->md, data, len) > 0 ? CKR_OK : CKR_FUNCTION_FAILED;
}

/* Checks shared by C_Sign*, C_Decrypt*, C_Digest*. */
static CK_RV op_check(tt_session *s, int ops)
{
    if (!(s->op & ops))
        return CKR_OPERATION_NOT_INITIALIZED;
    if (s->need_ctx_login) { /* an error ends the operation, as any error but CKR_BUFFER_TOO_SMALL does */
        op_end(s);
        return CKR_USER_NOT_LOGGED_IN;
    }
    return CKR_OK;
}

/* One-part and multi-part operations share their shape: sign, decrypt and digest differ only in how input
 * is taken and how the result is computed. */
typedef struct {
    int ops;
    CK_RV (*update)(tt_session *s, CK_BYTE_PTR data, CK_ULONG len);
    CK_RV (*compute)(tt_session *s);
} tt_op_kind;

/* C_Sign, C_Decrypt, C_Digest: the first call computes; a length query or a short buffer keeps the result
 * for the next call. */
static CK_RV op_single(const tt_op_kind *k, CK_SESSION_HANDLE hSession, CK_BYTE_PTR in, CK_ULONG inlen,
                       CK_BYTE_PTR out_buf, CK_ULONG_PTR out_len)
{
    tt_session *s;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK || (rv = op_check(s, k->ops)) != CKR_OK)
        goto out;
    if (!s->have_out && ((rv = k->update(s, in, inlen)) != CKR_OK || (rv = k->compute(s)) != CKR_OK)) {
        op_end(s);
        goto out;
    }
    rv = deliver(s, out_buf, out_len);
out:
    LEAVE();
}

/* C_SignUpdate, C_DigestUpdate. */
static CK_RV op_update(const tt_op_kind *k, CK_SESSION_HANDLE hSession, CK_BYTE_PTR part, CK_ULONG len)
{
    tt_session *s;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK || (rv = op_check(s, k->ops)) != CKR_OK)
        goto out;
    if (s->have_out)
        rv = CKR_OPERATION_ACTIVE;
    else if ((rv = k->update(s, part, len)) != CKR_OK)
        op_end(s);
out:
    LEAVE();
}

/* C_SignFinal, C_DecryptFinal, C_DigestFinal. */
static CK_RV op_final(const tt_op_kind *k, CK_SESSION_HANDLE hSession, CK_BYTE_PTR out_buf, CK_ULONG_PTR out_len)
{
    tt_session *s;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK || (rv = op_check(s, k->ops)) != CKR_OK)
        goto out;
    if ((rv = k->compute(s)) != CKR_OK)
        op_end(s);
    else
        rv = deliver(s, out_buf, out_len);
out:
    LEAVE();
}

static const tt_op_kind SIGN_OP = {OP_SIGN, sign_update, sign_compute};

CK_RV C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
             CK_ULONG_PTR pulSignatureLen)
{
    return op_single(&SIGN_OP, hSession, pData, ulDataLen, pSignature, pulSignatureLen);
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return op_update(&SIGN_OP, hSession, pPart, ulPartLen);
}

CK_RV C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    return op_final(&SIGN_OP, hSession, pSignature, pulSignatureLen);
}

/* ==== decryption =========================================================== */

CK_RV C_DecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    tt_session *s;
    tt_object *k;
    const tt_conf *c;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    c = &s->slot->conf;
    if (pMechanism == NULL) {
        if (s->op == OP_DECRYPT)
            op_end(s);
        else
            rv = CKR_OPERATION_NOT_INITIALIZED;
        goto out;
    }
    if ((rv = key_op_init(s, hKey, CKA_DECRYPT, &k)) != CKR_OK)
        goto out;
    if (c->decrypt_mech == 0 || pMechanism->mechanism != c->decrypt_mech)
        rv = CKR_MECHANISM_INVALID;
    else if (pMechanism->ulParameterLen != 0)
        rv = CKR_MECHANISM_PARAM_INVALID;
    else {
        EVP_PKEY_up_ref(k->pkey);
        s->pkey = k->pkey;
        s->op = OP_DECRYPT;
        s->need_ctx_login = c->always_authenticate;
    }
out:
    LEAVE();
}

static CK_RV decrypt_compute(tt_session *s)
{
    if (s->have_out)
        return CKR_OK;
    if (tt_sm2_decrypt(s->pkey, s->slot->conf.cipher_format, s->in, s->inlen, &s->out, &s->outlen) != 0)
        return CKR_ENCRYPTED_DATA_INVALID;
    s->have_out = 1;
    return CKR_OK;
}

static CK_RV decrypt_update(tt_session *s, CK_BYTE_PTR data, CK_ULONG len)
{
    return append_input(s, data, len);
}

static const tt_op_kind DECRYPT_OP = {OP_DECRYPT, decrypt_update, decrypt_compute};

CK_RV C_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData, CK_ULONG ulEncryptedDataLen,
                CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
    return op_single(&DECRYPT_OP, hSession, pEncryptedData, ulEncryptedDataLen, pData, pulDataLen);
}

CK_RV C_DecryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
                      CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
    tt_session *s;
    (void)pPart; /* SM2 decrypts at the end: updates only collect the ciphertext */
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK || (rv = op_check(s, OP_DECRYPT)) != CKR_OK)
        goto out;
    if (pulPartLen == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if ((rv = append_input(s, pEncryptedPart, ulEncryptedPartLen)) == CKR_OK)
        *pulPartLen = 0;
    if (rv != CKR_OK)
        op_end(s);
out:
    LEAVE();
}

CK_RV C_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart, CK_ULONG_PTR pulLastPartLen)
{
    return op_final(&DECRYPT_OP, hSession, pLastPart, pulLastPartLen);
}

/* ==== SM3 digest =========================================================== */

CK_RV C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
    tt_session *s;
    const tt_conf *c;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    c = &s->slot->conf;
    if (pMechanism == NULL) {
        if (s->op == OP_DIGEST)
            op_end(s);
        else
            rv = CKR_OPERATION_NOT_INITIALIZED;
    } else if (s->op != OP_NONE)
        rv = CKR_OPERATION_ACTIVE;
    else if (c->sm3_mech == 0 || pMechanism->mechanism != c->sm3_mech)
        rv = CKR_MECHANISM_INVALID;
    else if (pMechanism->ulParameterLen != 0)
        rv = CKR_MECHANISM_PARAM_INVALID;
    else if ((s->md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(s->md, EVP_sm3(), NULL) <= 0) {
        EVP_MD_CTX_free(s->md);
        s->md = NULL;
        rv = CKR_DEVICE_ERROR;
    } else
        s->op = OP_DIGEST;
out:
    LEAVE();
}

static CK_RV digest_compute(tt_session *s)
{
    unsigned int n = 32;
    if (s->have_out)
        return CKR_OK;
    if ((s->out = OPENSSL_malloc(32)) == NULL || EVP_DigestFinal_ex(s->md, s->out, &n) <= 0)
        return CKR_FUNCTION_FAILED;
    s->outlen = n;
    s->have_out = 1;
    return CKR_OK;
}

static CK_RV digest_update(tt_session *s, CK_BYTE_PTR data, CK_ULONG len)
{
    if (len && data == NULL)
        return CKR_ARGUMENTS_BAD;
    return EVP_DigestUpdate(s->md, data, len) > 0 ? CKR_OK : CKR_FUNCTION_FAILED;
}

static const tt_op_kind DIGEST_OP = {OP_DIGEST, digest_update, digest_compute};

CK_RV C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pDigest,
               CK_ULONG_PTR pulDigestLen)
{
    return op_single(&DIGEST_OP, hSession, pData, ulDataLen, pDigest, pulDigestLen);
}

CK_RV C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return op_update(&DIGEST_OP, hSession, pPart, ulPartLen);
}

CK_RV C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    return op_final(&DIGEST_OP, hSession, pDigest, pulDigestLen);
}

/* ==== random =============================================================== */

CK_RV C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen)
{
    tt_session *s;
    ENTER();
    if ((rv = get_session(hSession, &s)) != CKR_OK)
        goto out;
    if (ulRandomLen && RandomData == NULL)
        rv = CKR_ARGUMENTS_BAD;
    else if (ulRandomLen > 0x7fffffff || RAND_bytes(RandomData, (int)ulRandomLen) != 1)
        rv = CKR_FUNCTION_FAILED;
out:
    LEAVE();
}

